"""What applying an event costs in statements (issue 17: most of sla's CPU is
per statement sent). The inbox row shares its statement with the complaint's
lock and the directory's version; the timers are read with whether anything
of the complaint is parked; the new timers and the outbox rows (with their
NOTIFY) are written in one statement."""
import json
import uuid

import pytest

from services.sla.decision import armed_data
from services.sla.model import Emit, Outcome, Timer
from services.sla.outbox import BatchOutbox
from services.sla.processing import SlaEngine
from services.sla.rules import Settings
from services.sla.tests.helpers import CID, at, facts, routed
from services.sla.tests.test_engine import envelope, rows
from shared.tests.statements import sent_statements

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(clean_database):
    return SlaEngine(clean_database, BatchOutbox("sla", "sla", "GZ"), Settings())


def received(complaint_id=CID):
    return envelope("complaint.received", json.loads(json.dumps(
        facts(complaint_id=complaint_id, resolved_on_spot=False, signature_media_id=None))),
        at("10:00"), complaint_id=complaint_id)


def submitted(complaint_id=CID):
    return envelope("order.submitted", json.loads(json.dumps(facts(
        "order_submitted", complaint_id=complaint_id, first_submitted_at=at("10:20"),
        resubmitted=False))), at("10:20"), complaint_id=complaint_id)


def test_a_new_complaint_costs_seven_statements(engine, clean_database):
    engine.handle(received("C-GZ-2026-000001"), "sla.test", at("10:01"))   # caches warm
    with sent_statements() as sent:
        assert engine.handle(received(), "sla.test", at("10:01")) == "applied"
    # BEGIN, inbox + lock + directory version, complaint, timers + parked,
    # complaint upsert, timers insert + outbox insert + NOTIFY, COMMIT
    # (before: 11: the lock, the version, the NOTIFY, the parked events and
    # each write a statement of their own; the timers were not read).
    assert len(sent) == 7, sent
    assert not [s for s in sent if s.startswith(("NOTIFY", "SELECT pg_advisory_xact_lock",
                                                 "SELECT version"))]
    assert not [s for s in sent if "waiting_for = ANY" in s]
    assert len(rows(clean_database, "SELECT * FROM sla.outbox WHERE event_id IS NOT NULL")) >= 1


def test_a_step_of_a_known_complaint_costs_seven_statements(engine, clean_database):
    assert engine.handle(received(), "sla.test", at("10:01")) == "applied"
    with sent_statements() as sent:
        assert engine.handle(submitted(), "sla.test", at("10:21")) == "applied"
    # as above: the timers' update is a part of the write's statement too
    # (before: 8, and 13 before that)
    assert len(sent) == 7, [s[:50] for s in sent]
    assert not [s for s in sent if s.startswith("UPDATE sla.timers")]
    [timer] = rows(clean_database, "SELECT state, done_at FROM sla.timers "
                                   "WHERE rule = 'order_submit'")
    assert (timer["state"], timer["done_at"]) == ("met", at("10:20"))


def test_a_redelivery_costs_three_statements_and_changes_nothing(engine, clean_database):
    event = received()
    assert engine.handle(event, "sla.test", at("10:01")) == "applied"
    before = rows(clean_database, "SELECT id, state, due_at FROM sla.timers ORDER BY id")
    outbox = rows(clean_database, "SELECT count(*) AS n FROM sla.outbox")[0]["n"]
    with sent_statements() as sent:
        assert engine.handle(event, "sla.test", at("10:05")) == "duplicate"
    assert len(sent) == 3, sent       # BEGIN, inbox row (conflict), COMMIT
    assert rows(clean_database, "SELECT id, state, due_at FROM sla.timers ORDER BY id") == before
    assert rows(clean_database, "SELECT count(*) AS n FROM sla.outbox")[0]["n"] == outbox


def test_an_event_parked_for_the_complaint_is_still_retried(engine, clean_database):
    """The parked events are looked up only when one of the complaint is
    parked (or a token names something else): here one is, and is retried."""
    early = envelope("complaint.routed", routed(at("10:50")), at("10:50"), producer="dispatch")
    assert engine.handle(early, "sla.test", at("10:51")) == "parked"
    [parked] = rows(clean_database, "SELECT id, waiting_for FROM sla.event_errors")
    assert parked["waiting_for"] == f"complaint:{CID}"
    assert engine.handle(received(), "sla.test", at("10:52")) == "applied"
    # retried: it waits for the next thing now (the order's signing)
    [again] = rows(clean_database, "SELECT id, waiting_for FROM sla.event_errors")
    assert again["id"] == parked["id"] and again["waiting_for"] == f"signed:{CID}"


def test_a_deadline_armed_already_is_not_announced_again(engine, clean_database):
    """The timers' insert and the outbox rows are one statement: a
    `deadline.armed` is written only if its timer was inserted."""
    def arming(timer_id):
        timer = Timer(timer_id, f"test:{CID}:visit", "visit", "16", at("12:00"), at("10:00"),
                      complaint_id=CID, person_id="p01-spec-1", role="specialist")
        return Outcome(arm=[timer], events=[
            Emit("deadline.armed", armed_data(timer), at("10:00"), CID),
            Emit("deadline.met", dict(armed_data(timer), done_at=at("10:30")), at("10:30"),
                 CID)])

    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    with clean_database.transaction() as conn:
        engine.store(conn, arming(first), at("10:00"))
    with clean_database.transaction() as conn:
        engine.store(conn, arming(second), at("10:00"))     # same key: left as it is
    assert [r["id"] for r in rows(clean_database, "SELECT id::text FROM sla.timers")] == [first]
    sent = [(r["routing_key"], json.loads(r["body"])["data"]["timer_id"]) for r in rows(
        clean_database, "SELECT routing_key, body FROM sla.outbox ORDER BY id")]
    assert sent == [("deadline.armed", first), ("deadline.met", first),
                    ("deadline.met", second)]
