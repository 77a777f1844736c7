"""The directory snapshot kept in process (issue 17 "speed"): a step reads
only the newest load's id, and every instance reads the whole snapshot again
once any process loaded a new directory. Real database, fake media."""
import pytest
from nameko.testing.services import worker_factory

from services.dispatch import repository
from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.dispatch.tests.casework import NOW, TABLE, envelope_body, facts_data
from services.dispatch.tests.conftest import DEMO_FILE, person
from services.dispatch.tests.statements import CountingDatabase
from services.dispatch.tests.test_service_units import FakeMediaProxy
from shared.clock import FixedClock
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

SNAPSHOT_TABLES = ("dispatch.units", "dispatch.people", "dispatch.positions",
                   "dispatch.projects", "dispatch.desk_assignments")


def load(database, path=DEMO_FILE):
    return load_organisation(database, path, now=NOW, outbox=Outbox("dispatch", "dispatch", "GZ"))


@pytest.fixture
def instances(clean_database, test_dsn):
    """Two dispatch instances: each its own worker and Database (own pool, own snapshot)."""
    load(clean_database)
    made = []
    for _ in range(2):
        db = CountingDatabase(test_dsn, size=2)
        made.append((worker_factory(DispatchService, db=db, clock=FixedClock(NOW),
                                    outbox=Outbox("dispatch", "dispatch", "GZ"),
                                    routing_table=TABLE, media=FakeMediaProxy(),
                                    config={"RPC_TIMEOUT": 2}), db))
    yield made
    for _, db in made:
        db.close()


def sign(worker, complaint_id):
    worker.on_order_signed(envelope_body("order.signed", dict(
        facts_data(complaint_id=complaint_id), department_overridden=False), complaint_id))
    return worker.get_complaint_view(complaint_id)["routing"]


def snapshot_reads(db):
    return [s for s in db.log.statements if any(t in s for t in SNAPSHOT_TABLES)]


def test_a_step_on_an_unchanged_directory_reads_only_the_load_id(instances):
    (worker, db), _ = instances
    sign(worker, "C-GZ-2026-000001")          # the first call reads the snapshot
    db.log.clear()
    sign(worker, "C-GZ-2026-000002")
    assert snapshot_reads(db) == []
    assert len(db.log.matching("dispatch.directory_versions")) == 1


def test_every_instance_uses_a_new_directory_from_its_next_step(instances, clean_database,
                                                                 demo_raw, write_org):
    (first, first_db), (second, second_db) = instances
    assert sign(first, "C-GZ-2026-000001")["handler"]["person_id"] == "rcgz-mkt-head"
    assert second.get_person("rcgz-mkt-head")["mobile"] == "13802100011"

    # Another process (the loader) gives the marketing department a new head.
    head = person(demo_raw, "rcgz-mkt-head")
    demo_raw["people"].remove(head)
    demo_raw["people"].append(dict(head, id="rcgz-mkt-head-2", name="林新",
                                   mobile="13802109999"))
    demo_raw["regional_companies"][0]["departments"]["marketing"]["head"] = "rcgz-mkt-head-2"
    assert load(clean_database, write_org(demo_raw)).version == 2

    first_db.log.clear()
    routing = sign(first, "C-GZ-2026-000002")
    assert routing["handler"]["person_id"] == "rcgz-mkt-head-2"
    assert routing["directory_version"] == 2
    assert snapshot_reads(first_db)            # read again once, then kept
    assert second.get_person("rcgz-mkt-head-2")["name"] == "林新"
    second_db.log.clear()
    assert sign(second, "C-GZ-2026-000003")["handler"]["person_id"] == "rcgz-mkt-head-2"
    assert snapshot_reads(second_db) == []


def test_a_database_emptied_and_loaded_again_is_not_taken_for_the_one_held(clean_database,
                                                                         demo_raw, write_org):
    load(clean_database)
    assert repository.read_directory(clean_database).person("rcgz-mkt-head").mobile == \
        "13802100011"
    with clean_database.transaction() as conn:     # version numbers start again at 1
        conn.execute("TRUNCATE dispatch.directory_versions RESTART IDENTITY CASCADE")
    person(demo_raw, "rcgz-mkt-head")["mobile"] = "13822223333"
    assert load(clean_database, write_org(demo_raw)).version == 1
    assert repository.read_directory(clean_database).person("rcgz-mkt-head").mobile == \
        "13822223333"
