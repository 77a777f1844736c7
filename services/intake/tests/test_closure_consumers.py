"""Intake's consumers of dispatch's events and the closure steps on the real
test database (nameko's worker_factory, no broker): each event applied once
by its id, a newer application supersedes, an event nobody can explain is
refused whole, a failed commit leaves nothing, two steps at once queue."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import eventlet
import pytest

from services.intake import model
from services.intake.tests.helpers import DEPUTY, GM, NOW, SPECIALIST, SPECIALIST_2, STAFF, form
from services.intake.tests.test_service_units import BrokenOutbox, FakeMedia, make_service
from shared.errors import Conflict
from shared.events.envelope import build_envelope

ZONE = ZoneInfo("Asia/Shanghai")
MIN = timedelta(minutes=1)
PERSON = {"person_id": "pcgz-head", "name": "温嘉欣", "mobile": "13602200002"}


def facts(cid, order_round=1):
    return {"complaint_id": cid, "project_id": "GZ-P01", "order_round": order_round,
            "category": "maintenance_repair", "department": "property",
            "handler_id": "pcgz-head", "major": False}


def envelope(event_type, data, cid, at=NOW):
    """What dispatch's outbox publishes (shared Outbox, producer dispatch)."""
    return build_envelope(event_type, data, producer="dispatch", region="GZ", occurred_at=at,
                          complaint_id=cid, zone=ZONE).payload


def routed(cid, routing_id="R1", at=NOW + 5 * MIN, order_round=1):
    return envelope("complaint.routed", dict(
        facts(cid, order_round), routing_id=f"{cid}-{routing_id}", reason="order_signed",
        department_name="物业公司", department_overridden=False, override_reason=None,
        company_id="pc-gz", unit_id="pc-gz", unit_name="广州物业公司", department_unit_id="pc-gz",
        handler=PERSON,
        leaders=[dict(PERSON, person_id="pcgz-vp-eng", role="company_leader")],
        chairman=dict(PERSON, person_id="pcgz-chairman"), department_head=PERSON,
        supervising_leader=None, cooperating_departments=[], escalation_level=None,
        signed_at=NOW, requested_completion_at=NOW + timedelta(days=7),
        completion_due_at=NOW + timedelta(days=7), routed_at=at, directory_version=1), cid, at)


def blocked(cid, visit="V1", at=NOW + 30 * MIN):
    return envelope("visit.blocked", dict(
        facts(cid), visit_id=f"{cid}-{visit}", attempted_at=at - 10 * MIN, recorded_at=at,
        recorded_by="pcgz-head", reason="客户拒绝开门", photo_media_ids=[]), cid, at)


def applied(cid, application="A1", at=NOW + 2 * 60 * MIN, order_round=1):
    return envelope("closure.applied", dict(
        facts(cid, order_round), application_id=f"{cid}-{application}", applied_at=at,
        applied_by="pcgz-head", material_media_ids=[], signature_media_id="M-GZ-" + "f" * 32,
        completion_due_at=NOW + timedelta(days=7)), cid, at)


def rows(database, sql, **params):
    with database.connection() as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def service(clean_database):
    return make_service(clean_database, FakeMedia())


@pytest.fixture
def signed_id(service):
    cid = service.record_complaint(SPECIALIST, form())["id"]
    service.submit_order(SPECIALIST, cid)
    service.review_order(DEPUTY, cid, "approve")
    service.sign_order(GM, cid, "approve")
    return cid


def test_each_event_is_applied_once_however_often_it_arrives(service, signed_id,
                                                             clean_database):
    cid = signed_id
    handlers = {"complaint.routed": service.on_complaint_routed,
                "visit.blocked": service.on_visit_blocked,
                "closure.applied": service.on_closure_applied}
    for payload in (routed(cid), blocked(cid), applied(cid)):
        for _ in range(3):     # redelivered: the broker's at-least-once
            handlers[payload["type"]](payload)
    shown = service.get_complaint(STAFF, cid)
    assert shown["state"] == "closure_applied" and shown["handler_id"] == "pcgz-head"
    assert shown["callback"]["visit_ids"] == [f"{cid}-V1"]
    assert [e["action"] for e in shown["timeline"]][-3:] == [
        "routed", "visit_blocked", "closure_applied"]
    assert len(shown["timeline"]) == 8
    assert [r["handler"] for r in rows(clean_database,
                                       "SELECT handler FROM intake.inbox ORDER BY handler")] == [
        "intake.closure_applied", "intake.complaint_routed", "intake.visit_blocked"]
    # Nothing intake publishes for what dispatch already announced.
    assert [r["routing_key"] for r in rows(clean_database, "SELECT routing_key FROM "
                                           "intake.outbox ORDER BY id")][-1] == "order.signed"


def test_an_older_round_or_an_older_routing_changes_nothing_but_is_marked_applied(
        service, signed_id, clean_database):
    cid = signed_id
    service.on_complaint_routed(routed(cid, "R2", at=NOW + 20 * MIN))
    service.on_complaint_routed(routed(cid, "R1", at=NOW + 5 * MIN))        # arrived late
    service.on_closure_applied(applied(cid, order_round=2))                 # another round
    shown = service.get_complaint(STAFF, cid)
    assert shown["responsibility"]["routing_id"] == f"{cid}-R2"
    assert shown["state"] == "order_signed"
    assert len(rows(clean_database, "SELECT 1 FROM intake.inbox")) == 3


def test_a_newer_application_supersedes_the_one_under_verification(service, signed_id):
    cid = signed_id
    service.on_closure_applied(applied(cid, "A1"))
    service.verify_closure(SPECIALIST, cid, 5)
    service.on_closure_applied(applied(cid, "A2", at=NOW + 3 * 60 * MIN))
    shown = service.get_complaint(STAFF, cid)
    assert shown["state"] == "closure_applied"
    assert shown["closure"]["application_id"] == f"{cid}-A2"
    assert [(x["application_id"], x["status"]) for x in shown["closures"]] == [
        (f"{cid}-A1", "superseded"), (f"{cid}-A2", "applied")]


def test_an_event_for_an_unknown_complaint_or_out_of_step_is_refused_whole(
        service, signed_id, clean_database):
    with pytest.raises(model.UnexpectedEvent):
        service.on_closure_applied(applied("C-GZ-2026-000999"))
    drafted = service.record_complaint(SPECIALIST, form())["id"]
    with pytest.raises(model.UnexpectedEvent):
        service.on_closure_applied(applied(drafted))
    # Not marked applied: a retry (after the cause is fixed) applies it.
    assert rows(clean_database, "SELECT 1 FROM intake.inbox") == []
    assert service.get_complaint(STAFF, drafted)["state"] == "order_drafted"


def test_a_failed_commit_of_a_closure_step_leaves_nothing(clean_database, signed_id, service):
    cid = signed_id
    service.on_closure_applied(applied(cid))
    before = service.get_complaint(STAFF, cid)
    broken = make_service(clean_database, FakeMedia(), BrokenOutbox("intake", "intake", "GZ"))
    with pytest.raises(RuntimeError):
        broken.verify_closure(SPECIALIST, cid, 5, "满意")
    after = service.get_complaint(STAFF, cid)
    assert after == before and after["closure"]["status"] == "applied"
    assert rows(clean_database, "SELECT 1 FROM intake.outbox WHERE routing_key LIKE 'closure.%%'") \
        == []


def test_two_verifications_at_once_one_wins_the_other_finds_it_done(service, signed_id,
                                                                     clean_database):
    cid = signed_id
    service.on_closure_applied(applied(cid))

    def verify(args):
        actor, decision = args
        try:
            return service.verify_closure(actor, cid, 3, None, decision,
                                          "不满意" if decision == "reject" else None)["state"]
        except Conflict as refused:
            return refused.status

    results = sorted(eventlet.GreenPool(2).imap(verify, [(SPECIALIST, "approve"),
                                                         (SPECIALIST_2, "reject")]), key=str)
    assert results[0] == 409 and results[1] in ("closure_verified", "order_signed")
    events = rows(clean_database, "SELECT routing_key FROM intake.outbox "
                                  "WHERE routing_key LIKE 'closure.%%'")
    assert len(events) == 1
