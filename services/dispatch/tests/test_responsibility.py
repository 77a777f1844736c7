"""SPEC §3 "Responsibility" (Art. 5, 21, 33) on the demo organisation, no database."""
from dataclasses import replace

import pytest

from services.dispatch.directory import Directory
from services.dispatch.responsibility import DirectoryIncomplete, resolve_responsibility
from services.dispatch.tests.conftest import person, project
from shared.errors import InvalidInput, NotFound


def ids(people):
    return [p.id for p in people]


def test_capital_project_adds_the_design_engineering_development_marketing_leaders(demo_directory):
    r = resolve_responsibility(demo_directory, "GZ-P01", "marketing")
    assert r.handler.id == "rcgz-mkt-head"
    # The marketing leader supervises the department and marketing: listed once.
    assert ids(r.leaders) == ["rcgz-vp-mkt", "rcgz-vp-design", "rcgz-vp-eng", "rcgz-vp-dev"]
    assert (r.unit.id, r.company.id, r.major) == ("rc-gz.marketing", "rc-gz", False)


def test_capital_project_department_leader_comes_first(demo_directory):
    r = resolve_responsibility(demo_directory, "GZ-P03", "finance")
    assert r.handler.id == "rcgx-fin-head"
    assert ids(r.leaders) == ["rcgx-cfo", "rcgx-vp-design", "rcgx-vp-eng", "rcgx-vp-dev",
                              "rcgx-vp-mkt"]


def test_tier3_project_adds_its_project_gm(demo_directory):
    r = resolve_responsibility(demo_directory, "GZ-P02", "marketing")
    assert r.handler.id == "rcgz-mkt-head"
    assert ids(r.leaders) == ["rcgz-vp-mkt", "p02-gm"]
    r = resolve_responsibility(demo_directory, "GZ-P04", "commercial_operations")
    assert r.handler.id == "rcgx-com-head"
    assert ids(r.leaders) == ["rcgx-vp-dev", "p04-gm"]


def test_other_tier_project_has_only_the_supervising_leader(demo_raw, directory_of):
    project(demo_raw, "GZ-P01")["city_tier"] = "other"
    r = resolve_responsibility(directory_of(demo_raw), "GZ-P01", "engineering")
    assert r.handler.id == "rcgz-eng-head"
    assert ids(r.leaders) == ["rcgz-vp-eng"]


def test_property_category_goes_to_the_property_company(demo_directory):
    r = resolve_responsibility(demo_directory, "GZ-P01", "property")
    assert r.handler.id == "pcgz-head"
    assert ids(r.leaders) == ["pcgz-vp-service", "pcgz-vp-eng", "pcgz-vp-quality"]
    assert r.unit.id == r.company.id == "pc-gz"


def test_property_side_of_a_tier3_project_has_no_project_gm_and_no_repeats(demo_directory):
    # pcgx-vp-eng supervises engineering and quality: named once.
    r = resolve_responsibility(demo_directory, "GZ-P04", "property")
    assert r.handler.id == "pcgx-head"
    assert ids(r.leaders) == ["pcgx-vp-service", "pcgx-vp-eng"]


def test_major_complaint_of_a_regional_category_goes_to_the_regional_chairman(demo_directory):
    r = resolve_responsibility(demo_directory, "GZ-P02", "marketing", major=True)
    assert r.handler.id == "rcgz-chairman"
    assert ids(r.leaders) == ["rcgz-chairman"]
    assert r.major and r.unit.id == r.company.id == "rc-gz"


def test_major_complaint_of_a_property_category_goes_to_the_property_chairman(demo_directory):
    r = resolve_responsibility(demo_directory, "GZ-P03", "property", major=True)
    assert r.handler.id == "pcgx-chairman"
    assert ids(r.leaders) == ["pcgx-chairman"]
    assert r.company.id == "pc-gx"


def test_a_vacant_head_is_refused_naming_the_role_and_the_unit(demo_raw, directory_of):
    demo_raw["regional_companies"][0]["departments"]["marketing"]["head"] = None
    demo_raw["people"] = [p for p in demo_raw["people"] if p["id"] != "rcgz-mkt-head"]
    directory = directory_of(demo_raw)
    with pytest.raises(DirectoryIncomplete) as caught:
        resolve_responsibility(directory, "GZ-P01", "marketing")
    error = caught.value
    assert (error.code, error.status) == ("directory_incomplete", 409)
    assert (error.role, error.unit_id) == ("head", "rc-gz.marketing")
    assert "恒大地产集团广州公司营销部" in error.message and "head" in error.message
    # The other region is unaffected.
    assert resolve_responsibility(directory, "GZ-P03", "marketing").handler.id == "rcgx-mkt-head"


def test_a_missing_department_is_refused(demo_raw, directory_of):
    del demo_raw["regional_companies"][1]["departments"]["commercial_operations"]
    demo_raw["people"] = [p for p in demo_raw["people"] if p["id"] != "rcgx-com-head"]
    with pytest.raises(DirectoryIncomplete) as caught:
        resolve_responsibility(directory_of(demo_raw), "GZ-P04", "commercial_operations")
    assert caught.value.unit_id == "rc-gx.commercial_operations"
    assert "商业经营管理部" in caught.value.message


def test_a_tier3_project_without_gm_is_refused(demo_raw, directory_of):
    project(demo_raw, "GZ-P02")["project_gm"] = None
    demo_raw["people"].remove(person(demo_raw, "p02-gm"))
    with pytest.raises(DirectoryIncomplete) as caught:
        resolve_responsibility(directory_of(demo_raw), "GZ-P02", "engineering")
    assert caught.value.role == "project_gm"
    assert "恒大山水城" in caught.value.message


def test_a_capital_project_without_a_design_leader_is_refused(demo_raw, directory_of):
    demo_raw["regional_companies"][0]["leaders"][0]["supervises"] = ["chief_engineer_office"]
    with pytest.raises(DirectoryIncomplete) as caught:
        resolve_responsibility(directory_of(demo_raw), "GZ-P01", "marketing")
    assert caught.value.unit_id == "rc-gz"
    assert "设计" in caught.value.message and "design" in caught.value.message


def test_a_major_complaint_without_chairman_is_refused(demo_raw, directory_of):
    demo_raw["property_companies"][0]["chairman"] = None
    demo_raw["people"].remove(person(demo_raw, "pcgz-chairman"))
    directory = directory_of(demo_raw)
    with pytest.raises(DirectoryIncomplete) as caught:
        resolve_responsibility(directory, "GZ-P01", "property", major=True)
    assert (caught.value.role, caught.value.unit_id) == ("chairman", "pc-gz")
    # Not major: the property company's head still handles it.
    assert resolve_responsibility(directory, "GZ-P01", "property").handler.id == "pcgz-head"


def test_an_unknown_or_inactive_project_is_not_found(demo_directory):
    with pytest.raises(NotFound):
        resolve_responsibility(demo_directory, "GZ-P99", "marketing")
    closed = replace(demo_directory, projects=tuple(
        replace(p, active=False) if p.id == "GZ-P01" else p for p in demo_directory.projects))
    with pytest.raises(NotFound):
        resolve_responsibility(closed, "GZ-P01", "marketing")


def test_an_unknown_department_is_invalid_input(demo_directory):
    with pytest.raises(InvalidInput) as caught:
        resolve_responsibility(demo_directory, "GZ-P01", "design")
    assert "department" in caught.value.fields


def test_no_directory_loaded_is_refused():
    with pytest.raises(DirectoryIncomplete) as caught:
        resolve_responsibility(Directory.empty(), "GZ-P01", "marketing")
    assert "load_directory" in caught.value.message
