"""The dispatch service's RPC methods on real PostgreSQL and RabbitMQ."""
from datetime import UTC, datetime

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.dispatch.tests.conftest import DEMO_FILE
from shared.clock import SimulationClock
from shared.errors import from_remote
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture
def dispatch(clean_database, container_factory, ccrm_config):
    SimulationClock(clean_database, cache_seconds=0).set(NOW)  # desks open or not as of NOW
    container = container_factory(DispatchService, ccrm_config)
    container.start()
    with ServiceRpcProxy("dispatch", ccrm_config, timeout=15) as proxy:
        yield proxy


def load_demo(database):
    return load_organisation(database, DEMO_FILE, now=NOW,
                             outbox=Outbox("dispatch", "dispatch", "GZ"))


def test_without_a_directory(dispatch):
    health = dispatch.health()
    assert health["status"] == "degraded" and health["directory"] is None
    with pytest.raises(RemoteError) as caught:
        dispatch.resolve_responsibility("GZ-P01", "marketing")
    assert caught.value.exc_type == "DirectoryIncomplete"


def test_people_and_projects(dispatch, clean_database):
    load_demo(clean_database)
    assert dispatch.health()["status"] == "ok"
    assert dispatch.health()["directory"]["version"] == 1

    spec = dispatch.get_person("p03-spec-1")
    assert spec == {
        "id": "p03-spec-1", "name": "杨欣怡", "mobile": "15907710001", "roles": ["specialist"],
        "unit_id": "GZ-P03.desk", "unit_name": "恒大华府项目售后服务中心",
        "project_ids": ["GZ-P03"], "positions": [], "active": True, "bonus": "3600.00"}
    gm = dispatch.get_person("p02-gm")
    assert gm["project_ids"] == ["GZ-P02"] and gm["unit_name"] == "恒大地产集团广州公司"
    head = dispatch.get_person("rcgz-eng-head")
    assert head["positions"] == [{"unit_id": "rc-gz.engineering",
                                  "unit_name": "恒大地产集团广州公司工程部",
                                  "position": "head", "areas": [], "title": None}]
    assert dispatch.get_person("group-vp")["bonus"] is None

    with pytest.raises(RemoteError) as caught:
        dispatch.get_person("nobody")
    assert caught.value.exc_type == "NotFound"
    assert from_remote(caught.value.exc_type, caught.value.value).status == 404

    assert len(dispatch.list_people()) == 59
    assert [p["id"] for p in dispatch.list_people(role="chairman")] == [
        "pcgx-chairman", "pcgz-chairman", "rcgx-chairman", "rcgz-chairman"]
    assert [p["id"] for p in dispatch.list_people(role="specialist", project_id="GZ-P02")] == [
        "p02-spec-1", "p02-spec-2"]
    assert [p["id"] for p in dispatch.list_people(project_id="GZ-P04")] == [
        "p04-gm", "p04-spec-1", "p04-spec-2"]
    with pytest.raises(RemoteError) as caught:
        dispatch.list_people(role="boss")
    assert caught.value.exc_type == "InvalidInput"
    assert "role" in from_remote(caught.value.exc_type, caught.value.value).fields

    project = dispatch.get_project("GZ-P01")
    assert project["city_tier"] == "capital"
    assert project["region_company"] == {
        "id": "rc-gz", "name": "恒大地产集团广州公司", "kind": "region_company",
        "chairman": {"id": "rcgz-chairman", "name": "何振华", "mobile": "13802100001"}}
    assert project["property_company"]["id"] == "pc-gz" and project["project_gm"] is None
    desk = project["desk"]
    assert (desk["unit_id"], desk["first_sale_on"], desk["closes_on"], desk["open"]) == (
        "GZ-P01.desk", "2024-03-16", "2026-12-30", True)
    assert desk["specialists"][0] == {"person_id": "p01-spec-1", "name": "李思琪",
                                      "mobile": "15902010001", "assigned_on": "2026-06-01",
                                      "rotation_due_on": "2026-12-01"}
    assert dispatch.get_project("GZ-P03")["desk"]["open"] is False  # closed 2026-06-28
    SimulationClock(clean_database, cache_seconds=0).set(datetime(2026, 12, 31, tzinfo=UTC))
    assert dispatch.get_project("GZ-P01")["desk"]["open"] is False  # six months after 2026-06-30
    assert dispatch.get_project("GZ-P04")["project_gm"]["id"] == "p04-gm"
    assert [p["id"] for p in dispatch.list_projects()] == ["GZ-P01", "GZ-P02", "GZ-P03", "GZ-P04"]
    with pytest.raises(RemoteError) as caught:
        dispatch.get_project("GZ-P99")
    assert caught.value.exc_type == "NotFound"


def test_resolve_responsibility(dispatch, clean_database):
    load_demo(clean_database)
    r = dispatch.resolve_responsibility("GZ-P01", "marketing")
    assert r["handler"]["id"] == "rcgz-mkt-head" and r["handler"]["mobile"] == "13802100011"
    assert [p["id"] for p in r["leaders"]] == ["rcgz-vp-mkt", "rcgz-vp-design", "rcgz-vp-eng",
                                               "rcgz-vp-dev"]
    assert r["unit"] == {"id": "rc-gz.marketing", "name": "恒大地产集团广州公司营销部",
                         "kind": "department"}
    assert (r["department"], r["department_name"], r["major"]) == ("marketing", "营销部", False)

    r = dispatch.resolve_responsibility("GZ-P04", "property", major=True)
    assert r["handler"]["id"] == "pcgx-chairman"
    assert [p["id"] for p in r["leaders"]] == ["pcgx-chairman"]
    assert r["company"]["id"] == "pc-gx" and r["major"] is True

    r = dispatch.resolve_responsibility(project_id="GZ-P02", department="engineering")
    assert [p["id"] for p in r["leaders"]] == ["rcgz-vp-eng", "p02-gm"]

    with pytest.raises(RemoteError) as caught:
        dispatch.resolve_responsibility("GZ-P01", "design")
    assert caught.value.exc_type == "InvalidInput"


def test_the_relay_publishes_directory_loaded(dispatch, clean_database, subscriber_factory):
    subscriber = subscriber_factory("dispatch.events", routing_key="directory.loaded")
    load_demo(clean_database)
    events = subscriber.wait_for(lambda got: len(got) == 1)
    assert events[0]["type"] == "directory.loaded"
    assert len(events[0]["data"]["people"]) == 59
