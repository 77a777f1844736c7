"""The organisation file is refused with a clear, placed message, or read whole."""
import csv

import pytest

from services.dispatch.directory import from_document
from services.dispatch.tests.conftest import DEMO_FILE, person, project
from shared.errors import InvalidInput
from shared.organisation_file import read_organisation


def refused(path):
    with pytest.raises(InvalidInput) as caught:
        read_organisation(path)
    assert "未加载" in caught.value.message
    return caught.value.fields


def test_demo_file_reads(demo_raw):
    org_file = read_organisation(DEMO_FILE)
    assert len(org_file.document["people"]) == 59
    assert org_file.document["label"] == "2026-11"
    assert len(org_file.sha256) == 64


def test_bad_city_tier_names_its_place(demo_raw, write_org):
    demo_raw["projects"][2]["city_tier"] = "provincial"
    fields = refused(write_org(demo_raw))
    assert list(fields) == ["projects[2].city_tier"]
    assert "one of capital, tier3, other" in fields["projects[2].city_tier"][0]


def test_duplicate_person_id(demo_raw, write_org):
    twin = dict(person(demo_raw, "centre-staff-1"), mobile="13711112222")
    demo_raw["people"].append(twin)
    fields = refused(write_org(demo_raw))
    assert list(fields) == ["people[59].id"]
    assert "duplicate person id 'centre-staff-1'" in fields["people[59].id"][0]
    assert "people[2]" in fields["people[59].id"][0]


def test_head_referring_to_an_unknown_person(demo_raw, write_org):
    demo_raw["regional_companies"][0]["departments"]["marketing"]["head"] = "nobody"
    fields = refused(write_org(demo_raw))
    where = "regional_companies[0].departments.marketing.head"
    assert "(unknown person) 'nobody'" in fields[where][0]
    # The real head now holds no post for their role.
    assert any("holds no such post" in m for m in fields["people[16].roles"])


@pytest.mark.parametrize("mobile", ["1390200010", "23902000101", "139-0200-0101", 13902000101.0])
def test_bad_mobile(demo_raw, write_org, mobile):
    demo_raw["people"][3]["mobile"] = mobile
    fields = refused(write_org(demo_raw))
    assert list(fields) == ["people[3].mobile"]
    assert "11-digit CN mobile" in fields["people[3].mobile"][0]


def test_unquoted_mobile_is_accepted(demo_raw, write_org):
    demo_raw["people"][3]["mobile"] = 13902000104
    assert read_organisation(write_org(demo_raw)).document["people"][3]["mobile"] == "13902000104"


def test_duplicate_mobile(demo_raw, write_org):
    demo_raw["people"][4]["mobile"] = demo_raw["people"][3]["mobile"]
    fields = refused(write_org(demo_raw))
    assert "already used" in fields["people[4].mobile"][0]


def test_post_holder_without_the_role(demo_raw, write_org):
    person(demo_raw, "rcgz-eng-head")["roles"] = ["supervising_leader"]
    fields = refused(write_org(demo_raw))
    where = "regional_companies[0].departments.engineering.head"
    assert "lacks role head" in fields[where][0] and "邓海峰" in fields[where][0]


def test_unknown_role_unit_field_and_company(demo_raw, write_org):
    demo_raw["people"][0]["roles"] = ["centre_gm", "boss"]
    demo_raw["people"][1]["unit"] = "centre-x"
    demo_raw["regional_companies"][0]["chairmen"] = "rcgz-chairman"
    fields = refused(write_org(demo_raw))
    assert "one of centre_gm" in fields["people[0].roles[1]"][0]
    assert "未知字段" in fields["regional_companies[0].chairmen"][0]
    # Structure first: references are checked once the structure is right.
    assert "people[1].unit" not in fields
    demo_raw["people"][0]["roles"] = ["centre_gm"]
    del demo_raw["regional_companies"][0]["chairmen"]
    project(demo_raw, "GZ-P03")["property_company"] = "pc-hn"
    fields = refused(write_org(demo_raw))
    assert "(unknown unit) 'centre-x'" in fields["people[1].unit"][0]
    assert "(unknown property company) 'pc-hn'" in fields["projects[2].property_company"][0]


def test_bad_dates_and_bonus(demo_raw, write_org):
    project(demo_raw, "GZ-P01")["desk"]["last_delivery_on"] = "2020-01-01"
    project(demo_raw, "GZ-P02")["desk"]["specialists"][0]["assigned_on"] = "soon"
    demo_raw["people"][0]["bonus"] = -1
    demo_raw["people"][1]["bonus"] = "100.005"
    fields = refused(write_org(demo_raw))
    assert "before the first sale" in fields["projects[0].desk.last_delivery_on"][0]
    assert "must be a date" in fields["projects[1].desk.specialists[0].assigned_on"][0]
    assert "negative" in fields["people[0].bonus"][0]
    assert "2 decimals" in fields["people[1].bonus"][0]


def test_duplicate_yaml_key_is_refused(write_org, tmp_path):
    text = DEMO_FILE.read_text(encoding="utf-8").replace(
        "      finance: {head: rcgz-fin-head",
        "      marketing: {head: rcgz-fin-head", 1)
    path = tmp_path / "dup.yaml"
    path.write_text(text, encoding="utf-8")
    fields = refused(path)
    assert "(duplicate key) 'marketing'" in fields["(file)"][0]
    assert "dup.yaml\", line 49" in fields["(file)"][0]


def test_unreadable_or_malformed_file(tmp_path):
    assert "cannot read" in refused(tmp_path / "missing.yaml")["(file)"][0]
    broken = tmp_path / "broken.yaml"
    broken.write_text("people: [\n", encoding="utf-8")
    assert "YAML syntax error" in refused(broken)["(file)"][0]
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n", encoding="utf-8")
    assert "mapping" in refused(listed)["(file)"][0]


def test_people_may_come_from_a_csv_file(demo_raw, write_org, tmp_path):
    with open(tmp_path / "people.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "mobile", "roles", "unit", "bonus"])
        for p in demo_raw["people"]:
            writer.writerow([p["id"], p["name"], p["mobile"], ";".join(p["roles"]), p["unit"],
                             p.get("bonus", "")])
    people = demo_raw["people"]
    demo_raw["people"] = "people.csv"
    from_csv = from_document(read_organisation(write_org(demo_raw)).document)
    from_yaml = from_document(read_organisation(DEMO_FILE).document)
    assert from_csv.people == from_yaml.people
    assert len(people) == len(from_csv.people)

    rows = (tmp_path / "people.csv").read_text(encoding="utf-8").splitlines()
    rows[4] = rows[4].replace("13902000104", "1390200010X")
    (tmp_path / "people.csv").write_text("\n".join(rows), encoding="utf-8")
    fields = refused(write_org(demo_raw))
    assert list(fields) == ["people.csv 第5行.mobile"]


def test_people_of_the_file_are_the_directorys_people():
    """The token command reads people from the file (shared.organisation_file),
    not from dispatch: the same people, roles and projects as the directory."""
    from shared.organisation_file import people_of
    document = read_organisation(DEMO_FILE).document
    directory = from_document(document)
    assert people_of(document) == [
        {"id": p.id, "name": p.name, "roles": sorted(p.roles),
         "project_ids": sorted(directory.project_ids_of(p.id))}
        for p in directory.active_people()]
    assert any(p["project_ids"] for p in people_of(document))
