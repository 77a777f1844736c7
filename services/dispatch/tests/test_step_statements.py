"""What a step costs PostgreSQL (issue 17 "speed"): the round trips of the
busiest entrypoints, pinned, with the locks they must keep. Real database,
fake media; counted by services.dispatch.tests.statements."""
from datetime import timedelta

import pytest
from nameko.testing.services import worker_factory

from services.dispatch import case_repository
from services.dispatch.bindings import DispatchBindings
from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.dispatch.tests.casework import NOW, TABLE, envelope_body, facts_data
from services.dispatch.tests.conftest import DEMO_FILE
from services.dispatch.tests.statements import CountingDatabase
from services.dispatch.tests.test_service_units import HEAD, FakeMediaProxy
from shared.clock import FixedClock
from shared.errors import Forbidden, NotFound
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

CID = "C-GZ-2026-000001"


@pytest.fixture
def counted(clean_database, test_dsn):
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    db, media = CountingDatabase(test_dsn, size=2), FakeMediaProxy()
    worker = worker_factory(DispatchService, db=db, clock=FixedClock(NOW),
                            outbox=Outbox("dispatch", "dispatch", "GZ"), routing_table=TABLE,
                            media=media, config={"RPC_TIMEOUT": 2})
    worker.get_person("rcgz-mkt-head")       # the directory snapshot, read once
    yield worker, media, db
    db.close()


def signed(worker, complaint_id=CID):
    return envelope_body("order.signed", dict(facts_data(complaint_id=complaint_id),
                                              department_overridden=False), complaint_id)


def test_an_order_signed_event_costs_six_round_trips(counted):
    worker, _, db = counted
    db.log.clear()
    worker.on_order_signed(signed(worker))
    # The load id; BEGIN; the inbox mark; the locks, case and next routing id
    # together; the writes; the COMMIT (was 20 when the trace's last round trip,
    # still in libpq's buffer, went uncounted: 21).
    assert db.log.round_trips <= 6, db.log.statements
    assert len(db.log.matching("pg_advisory_xact_lock")) == 1
    assert len(db.log.matching("FROM dispatch.complaints WHERE id = %(id)s FOR UPDATE")) == 1
    assert len(db.log.matching("INSERT INTO dispatch.inbox")) == 1


def test_a_progress_step_costs_five_round_trips_and_keeps_its_lock(counted):
    worker, _, db = counted
    worker.on_order_signed(signed(worker))
    db.log.clear()
    progress = worker.record_progress(HEAD, CID, "已订购材料")
    assert progress["id"] == f"{CID}-P1"
    assert db.log.round_trips <= 5, db.log.statements     # was 18
    assert len(db.log.matching("FROM dispatch.complaints WHERE id = %(id)s FOR UPDATE")) == 1
    assert worker.record_progress(HEAD, CID, "已到货")["id"] == f"{CID}-P2"


def test_a_signed_visit_answers_its_binding_without_reading_it_again(counted):
    worker, media, db = counted
    worker.on_order_signed(signed(worker))
    signature = media.add("M-GZ-" + "a" * 32, "signature")
    db.log.clear()
    visit = worker.record_visit(HEAD, CID, {
        "outcome": "done", "visited_at": NOW.isoformat(), "plan": "维修",
        "agreed_completion_at": (NOW + timedelta(days=1)).isoformat(),
        "customer_signature_media_id": signature}, request_key="visit-1")
    assert visit["signature_status"] == "bound" and media.binds == [visit["id"]]
    assert db.log.matching("WHERE complaint_id = %(id)s") == [
        "SELECT count(*) AS n FROM dispatch.visits WHERE complaint_id = %(id)s"]
    assert db.log.round_trips <= 7, db.log.statements     # was 27 (28, counted as now)
    # The attempt's outcome is one UPDATE of a still pending binding.
    assert db.log.matching("FROM dispatch.signature_bindings") == []
    assert len(db.log.matching("UPDATE dispatch.signature_bindings")) == 1
    # The retried call answers the same record, bound.
    again = worker.record_visit(HEAD, CID, {
        "outcome": "done", "visited_at": NOW.isoformat(), "plan": "维修",
        "agreed_completion_at": (NOW + timedelta(days=1)).isoformat(),
        "customer_signature_media_id": signature}, request_key="visit-1")
    assert again["id"] == visit["id"] and again["signature_status"] == "bound"


def test_an_attempt_on_a_binding_another_attempt_finished_changes_nothing(counted):
    worker, media, db = counted
    worker.on_order_signed(signed(worker))
    signature = media.add("M-GZ-" + "a" * 32, "signature")
    worker.record_visit(HEAD, CID, {
        "outcome": "done", "visited_at": NOW.isoformat(), "plan": "维修",
        "agreed_completion_at": (NOW + timedelta(days=1)).isoformat(),
        "customer_signature_media_id": signature})
    store = DispatchBindings(db, FixedClock(NOW))
    with db.connection() as conn:
        bound = case_repository.get_binding(conn, signature)
    assert (bound.state, bound.attempts) == ("bound", 1)
    assert store.failed(bound, "late failure", NOW) is None
    assert store.finish(bound, "late refusal") is None
    with db.connection() as conn:
        assert case_repository.get_binding(conn, signature) == bound


def test_the_complaint_page_is_read_in_one_round_trip(counted):
    worker, _, db = counted
    worker.on_order_signed(signed(worker))
    worker.record_progress(HEAD, CID, "已订购材料")
    db.log.clear()
    page = worker.get_complaint_view(CID, HEAD)
    # The load id (for the actor's staff), BEGIN, its isolation level, every
    # read, COMMIT (was 25, 26 counted as now: the trace's last round trip
    # stayed in libpq's buffer before the count flushed it).
    assert db.log.round_trips <= 5, db.log.statements
    assert page["state"] == "routed" and page["routing"]["id"] == f"{CID}-R1"
    assert [r["id"] for r in page["routings"]] == [f"{CID}-R1"]
    assert [p["id"] for p in page["progress"]] == [f"{CID}-P1"]
    assert [h["action"] for h in page["history"]][:1] == ["routed"]
    with pytest.raises(Forbidden):
        worker.get_complaint_view(CID, {"person_id": "rcgz-eng-head", "roles": ["head"],
                                        "kind": "person"})
    with pytest.raises(NotFound):
        worker.get_complaint_view("C-GZ-2026-000099", HEAD)
