"""intake keeps its own copy of the directory (directory_model), so that a
recording asks dispatch nothing (issue 17): with the real dispatch, intake
and media on the test broker and database, the directory arrives (by
`directory.loaded`, or by one RPC when intake's queue did not exist when it
went out), dispatch is stopped, and complaints are still recorded and their
orders submitted to the deputy GM. A newer directory replaces the copy; an
older or repeated one changes nothing."""
from datetime import timedelta

import eventlet
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.dispatch.service import DispatchService
from services.intake import directory_model
from services.intake.service import IntakeService
from services.intake.tests.helpers import NOW, SPECIALIST, form
from services.media.service import MediaService

pytestmark = pytest.mark.integration


def kept_version(database):
    with database.connection() as conn:
        return directory_model.version(conn)


def wait_for(condition, seconds=30):
    deadline = eventlet.hubs.get_hub().clock() + seconds
    while not condition():
        assert eventlet.hubs.get_hub().clock() < deadline, "timed out"
        eventlet.sleep(0.1)


def dispatch_published(database):
    with database.connection() as conn:
        return conn.execute("SELECT count(*) AS n FROM dispatch.outbox "
                            "WHERE published_at IS NULL").fetchone()["n"] == 0


def record_and_submit_without_dispatch(config, database):
    with ServiceRpcProxy("intake", config, timeout=30) as intake:
        complaint = intake.record_complaint(SPECIALIST, form())
        assert complaint["state"] == "order_drafted"
        assert complaint["project_id"] == "GZ-P01"
        submitted = intake.submit_order(SPECIALIST, complaint["id"])
        assert submitted["order"]["holder"]["role"] == "centre_deputy_gm"
        assert submitted["order"]["holder"]["person_id"]
        listed = intake.list_complaints(SPECIALIST, {})
        assert listed["items"][0]["project_name"]          # names from the copy too
    with database.connection() as conn:
        [row] = conn.execute("SELECT region_company_id, property_company_id "
                             "FROM intake.complaints").fetchall()
    assert row["region_company_id"] and row["property_company_id"]


@pytest.mark.parametrize("intake_first", [True, False], ids=["by-event", "by-catch-up-rpc"])
def test_recording_asks_dispatch_nothing_once_the_directory_arrived(
        intake_first, container_factory, suite_config, demo_directory):
    intake = container_factory(IntakeService, suite_config)
    dispatch = container_factory(DispatchService, suite_config)
    container_factory(MediaService, suite_config).start()
    first, second = (intake, dispatch) if intake_first else (dispatch, intake)
    first.start()
    if not intake_first:
        wait_for(lambda: dispatch_published(demo_directory))    # gone before intake's queue
    second.start()
    wait_for(lambda: kept_version(demo_directory) == 1)

    dispatch.stop()
    record_and_submit_without_dispatch(suite_config, demo_directory)


def directory(version, project_name="甲项目", deputy_active=True):
    return directory_model.read_event({
        "version": version, "loaded_at": (NOW + timedelta(hours=version)).isoformat(),
        "region": "GZ", "label": None, "sha256": "0" * 64, "counts": {}, "vacancies": [],
        "units": [], "desk_assignments": [],
        "projects": [{"id": "GZ-P01", "name": project_name, "city_tier": "capital",
                      "region_company": "rc-gz", "property_company": "pc-gz-1",
                      "project_gm": None, "desk_first_sale_on": "2020-01-01",
                      "desk_last_delivery_on": None, "desk_closes_on": None, "active": True}],
        "people": [{"id": "deputy-1", "name": "副总", "mobile": "13800000000",
                    "roles": ["centre_deputy_gm"], "unit": "centre", "unit_name": "中心",
                    "bonus": None, "active": deputy_active, "project_ids": []}]})


def test_a_newer_directory_replaces_the_copy_an_older_one_does_not(clean_database):
    with clean_database.transaction() as conn:
        assert directory_model.project(conn, "GZ-P01") == (False, None)
        assert directory_model.people_with_role(conn, "centre_deputy_gm") is None
        assert directory_model.replace(conn, directory(2, "乙项目", deputy_active=False))
        assert not directory_model.replace(conn, directory(1, "甲项目"))
        assert not directory_model.replace(conn, directory(2, "甲项目"))
        kept, project = directory_model.project(conn, "GZ-P01")
        assert kept and project["name"] == "乙项目" and project["region_company"] == "rc-gz"
        assert directory_model.project(conn, "GZ-P99") == (True, None)
        assert directory_model.people_with_role(conn, "centre_deputy_gm") == [
            {"id": "deputy-1", "active": False}]
        assert directory_model.people_with_role(conn, "centre_gm") == []
        assert directory_model.replace(conn, directory(3, "丙项目"))
        assert directory_model.names(conn).project("GZ-P01") == "丙项目"
        assert directory_model.version(conn) == 3
