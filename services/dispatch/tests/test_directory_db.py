"""Loading the directory into the real database: atomic replace, history kept,
one `directory.loaded` event per load, nothing loaded from a bad file."""
import io
import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from services.dispatch import repository
from services.dispatch.load_directory import load_organisation, main
from services.dispatch.responsibility import resolve_responsibility
from services.dispatch.tests.conftest import DEMO_FILE, person, project
from shared.db import admin_dsn
from shared.errors import InvalidInput
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture
def outbox():
    return Outbox("dispatch", "dispatch", "GZ")


def loaded_events(database):
    with database.connection() as conn:
        rows = conn.execute("SELECT routing_key, body FROM dispatch.outbox ORDER BY id").fetchall()
    assert {row["routing_key"] for row in rows} <= {"directory.loaded"}
    return [json.loads(row["body"]) for row in rows]


def test_load_then_reload_a_changed_file(clean_database, outbox, demo_raw, write_org):
    first = load_organisation(clean_database, DEMO_FILE, now=NOW, outbox=outbox)
    assert first.version == 1
    assert first.counts["people"] == 59 and first.counts["projects"] == 4
    assert first.left == () and len(first.joined) == 59 and first.vacancies == ()
    directory = repository.read_directory(clean_database)
    assert directory.version.version == 1 and directory.person("p01-spec-2").active
    events = loaded_events(clean_database)
    assert len(events) == 1
    data = events[0]["data"]
    assert events[0]["producer"] == "dispatch" and events[0]["region"] == "GZ"
    assert data["version"] == 1 and data["counts"]["people"] == 59
    gm = next(p for p in data["people"] if p["id"] == "centre-gm")
    assert gm == {"id": "centre-gm", "name": "周明华", "mobile": "13902000101",
                  "roles": ["centre_gm"], "unit": "centre", "unit_name": "集团售后服务中心",
                  "bonus": "15000.00", "active": True, "project_ids": []}

    # A specialist leaves, the marketing head changes phone, a project GM leaves
    # his role to another person.
    demo_raw["people"].remove(person(demo_raw, "p01-spec-2"))
    project(demo_raw, "GZ-P01")["desk"]["specialists"].pop()
    person(demo_raw, "rcgz-mkt-head")["mobile"] = "13822223333"
    later = NOW + timedelta(days=3)
    second = load_organisation(clean_database, write_org(demo_raw), now=later, outbox=outbox)
    assert second.version == 2 and second.left == ("p01-spec-2",) and second.joined == ()
    assert second.counts["people"] == 58 and second.counts["people_inactive"] == 1

    directory = repository.read_directory(clean_database)
    gone = directory.person("p01-spec-2")
    assert gone is not None and not gone.active  # kept: past complaints name her
    assert directory.project_ids_of("p01-spec-2") == []
    assert [a.person_id for a in directory.desk_assignments("GZ-P01")] == ["p01-spec-1"]
    r = resolve_responsibility(directory, "GZ-P01", "marketing")
    assert r.handler.mobile == "13822223333"
    with clean_database.connection() as conn:
        row = conn.execute("SELECT active, left_at, first_version, last_version "
                           "FROM dispatch.people WHERE id = 'p01-spec-2'").fetchone()
        ended = conn.execute("SELECT active, ended_at FROM dispatch.desk_assignments "
                             "WHERE person_id = 'p01-spec-2'").fetchone()
    assert row == {"active": False, "left_at": later, "first_version": 1, "last_version": 1}
    assert ended == {"active": False, "ended_at": later}

    events = loaded_events(clean_database)
    assert [e["data"]["version"] for e in events] == [1, 2]
    left = next(p for p in events[1]["data"]["people"] if p["id"] == "p01-spec-2")
    assert left["active"] is False

    # She comes back: the same record is active again.
    third = load_organisation(clean_database, DEMO_FILE, now=later + timedelta(days=1),
                              outbox=outbox)
    assert third.joined == ("p01-spec-2",)
    directory = repository.read_directory(clean_database)
    assert directory.person("p01-spec-2").active
    assert directory.person("rcgz-mkt-head").mobile == "13802100011"
    assert len(loaded_events(clean_database)) == 3


def test_a_bad_file_loads_nothing(clean_database, outbox, demo_raw, write_org):
    demo_raw["projects"][2]["city_tier"] = "big"
    with pytest.raises(InvalidInput):
        load_organisation(clean_database, write_org(demo_raw), now=NOW, outbox=outbox)
    assert not repository.read_directory(clean_database).loaded
    assert loaded_events(clean_database) == []

    load_organisation(clean_database, DEMO_FILE, now=NOW, outbox=outbox)
    demo_raw["projects"][2]["city_tier"] = "capital"
    demo_raw["people"][5]["mobile"] = "123"
    with pytest.raises(InvalidInput):
        load_organisation(clean_database, write_org(demo_raw), now=NOW, outbox=outbox)
    directory = repository.read_directory(clean_database)
    assert directory.version.version == 1
    assert directory.person(demo_raw["people"][5]["id"]).mobile == "13902000106"
    assert len(loaded_events(clean_database)) == 1


class BrokenOutbox(Outbox):
    """An outbox whose write fails after the directory rows were written."""

    def add(self, conn, event_type, data, **kwargs):
        super().add(conn, event_type, data, **kwargs)
        raise RuntimeError("outbox write failed")


def test_the_directory_and_its_event_commit_together(clean_database, outbox, demo_raw, write_org):
    load_organisation(clean_database, DEMO_FILE, now=NOW, outbox=outbox)
    demo_raw["people"].remove(person(demo_raw, "p01-spec-2"))
    project(demo_raw, "GZ-P01")["desk"]["specialists"].pop()
    with pytest.raises(RuntimeError):
        load_organisation(clean_database, write_org(demo_raw), now=NOW, outbox=BrokenOutbox(
            "dispatch", "dispatch", "GZ"))
    directory = repository.read_directory(clean_database)
    assert directory.version.version == 1 and directory.person("p01-spec-2").active
    assert len(loaded_events(clean_database)) == 1


def test_a_file_for_another_region_is_refused(clean_database, outbox, demo_raw, write_org):
    demo_raw["region"]["code"] = "SZ"
    with pytest.raises(InvalidInput) as caught:
        load_organisation(clean_database, write_org(demo_raw), now=NOW, outbox=outbox,
                          expected_region="GZ")
    assert "region.code" in caught.value.fields
    assert loaded_events(clean_database) == []


def test_cli_prints_a_summary_or_the_errors(clean_database, test_dsn, demo_raw, write_org):
    out, err = io.StringIO(), io.StringIO()
    assert main([str(DEMO_FILE), "--dsn", test_dsn], out=out, err=err) == 0
    assert "组织架构已加载: 59 人, 4 个项目, 2 个地区公司, 2 个物业公司" in out.getvalue()
    assert "版本 1" in out.getvalue()

    demo_raw["projects"][2]["city_tier"] = "big"
    demo_raw["people"].append(dict(demo_raw["people"][0], mobile="13700000000"))
    out, err = io.StringIO(), io.StringIO()
    assert main([str(write_org(demo_raw)), "--dsn", test_dsn], out=out, err=err) == 1
    assert out.getvalue() == ""
    assert "组织架构未加载" in err.getvalue()
    assert "  - projects[2].city_tier: 须为 capital, tier3, other 之一" in err.getvalue()
    assert repository.read_directory(clean_database).version.version == 1

    del demo_raw["people"][-1]
    demo_raw["projects"][2]["city_tier"] = "capital"
    demo_raw["people"] = [p for p in demo_raw["people"] if p["id"] != "p03-spec-3"]
    project(demo_raw, "GZ-P03")["desk"]["specialists"].pop()
    out = io.StringIO()
    assert main([str(write_org(demo_raw)), "--dsn", test_dsn], out=out, err=err) == 0
    assert "组织架构已加载: 58 人" in out.getvalue()
    assert "离开 1 人" in out.getvalue() and "p03-spec-3" in out.getvalue()


def test_cli_on_an_unmigrated_database_says_so(test_dsn):
    empty = test_dsn + "_empty"
    with psycopg.connect(admin_dsn(test_dsn), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{empty.rsplit("/", 1)[1]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{empty.rsplit("/", 1)[1]}"')
    try:
        err = io.StringIO()
        assert main([str(DEMO_FILE), "--dsn", empty], out=io.StringIO(), err=err) == 2
        assert "python -m shared.migrate" in err.getvalue()
    finally:
        with psycopg.connect(admin_dsn(test_dsn), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{empty.rsplit("/", 1)[1]}" WITH (FORCE)')
