"""The penalty service on the real PostgreSQL, RabbitMQ and S3 server, fed
with sla's events exactly as sla publishes them (shared Outbox, producer
"sla", relayed from sla.outbox): charging and appeals. The month's report:
test_monthly_report_integration; rankings, sanction cases and the quarter's
analysis: test_rankings_and_cases_integration."""
from datetime import timedelta
from decimal import Decimal

import pytest
from nameko.exceptions import RemoteError

from services.penalty.tests.conftest import GM, HR, SPEC, SPEC2, lines
from services.penalty.tests.helpers import CID, at, missed, overdue

pytestmark = pytest.mark.integration


def test_a_duplicated_deadline_missed_charges_once(running, subscriber_factory):
    out = subscriber_factory("penalty.events")
    data = missed("order_submit", at("2026-11-03 10:30"), 12 * 60, timer="t-dup")
    first = running.publish("sla", "deadline.missed", data, complaint_id=CID)
    running.republish("sla", first)                  # the same message twice
    second = running.publish("sla", "deadline.missed", data, complaint_id=CID)  # a new event id
    running.applied(first, second)
    charged = lines(running.database, timer_id="t-dup")
    assert [(r["person_id"], r["amount"], r["month"]) for r in charged] == [
        ("p01-spec-1", Decimal("300.00"), "2026-11")]
    assert charged[0]["person_name"] == "李思琪" and charged[0]["rule_version"] == "2026.1"
    assert charged[0]["evidence"]["late_seconds"] == 720
    got = out.wait_for(lambda got: any(e["type"] == "deduction.recorded" for e in got))
    out.drain(timeout=0.5)
    recorded = [e for e in out.received if e["type"] == "deduction.recorded"]
    assert len(recorded) == 1 and recorded[0]["data"]["amount"] == "300.00"
    assert got[0]["complaint_id"] == CID


def test_sign_split_overdue_visit_and_a_withdrawal(running):
    due = at("2026-11-03 10:00")
    deputy = dict(missed("order_sign", due, 420, person="centre-deputy-gm", timer="sign-1",
                         role="centre_deputy_gm"), done_at=at("2026-11-03 10:19"))
    gm = dict(missed("order_sign", due, 720, person="centre-gm", timer="sign-1",
                     role="centre_gm"), done_at=at("2026-11-03 10:19"))
    events = [running.publish("sla", "deadline.missed", deputy, complaint_id=CID),
              running.publish("sla", "deadline.missed", gm, complaint_id=CID)]
    completion = at("2026-11-05 18:00")
    for day in range(1, 11):
        events.append(running.publish("sla", "overdue.accrued", overdue(day, completion),
                                      complaint_id=CID))
    visit = missed("visit", at("2026-11-03 11:19"), 60, person="rcgz-mkt-head",
                   timer="visit-1", final=False, role="handler")
    events.append(running.publish("sla", "deadline.missed", visit, complaint_id=CID))
    running.applied(*events)
    sums = {}
    for row in lines(running.database, complaint_id=CID):
        sums[(row["person_id"], row["rule"])] = sums.get((row["person_id"], row["rule"]),
                                                         0) + row["amount"]
    assert sums == {("centre-deputy-gm", "order_sign"): Decimal("200.00"),
                    ("centre-gm", "order_sign"): Decimal("300.00"),
                    ("rcgz-mkt-head", "overdue"): Decimal("1300.00"),
                    ("rcgz-vp-mkt", "overdue"): Decimal("650.00"),
                    ("rcgz-mkt-head", "visit"): Decimal("2000.00")}   # 20% of ¥10,000
    # The visit was in fact recorded in time; its event arrived late: sla says met.
    met = running.publish("sla", "deadline.met", {
        "timer_id": "visit-1", "rule": "visit", "article": "22, 35",
        "person_id": "rcgz-mkt-head", "role": "handler", "due_at": visit["due_at"],
        "done_at": at("2026-11-03 11:10")}, complaint_id=CID)
    withdrawn = running.publish("sla", "overdue.withdrawn", {
        "complaint_id": CID, "timer_id": "od-10", "day": 10,
        "day_started_at": completion + timedelta(days=9), "reason": "closure_applied"},
        complaint_id=CID)
    running.applied(met, withdrawn)
    visit_lines = lines(running.database, timer_id="visit-1")
    assert [(r["amount"], r["bonus_percent"]) for r in visit_lines] == [
        (Decimal("2000.00"), Decimal("20.00")), (Decimal("-2000.00"), Decimal("-20.00"))]
    assert str(visit_lines[1]["reverses"]) == str(visit_lines[0]["id"])
    assert sum(r["amount"] for r in lines(running.database, timer_id="od-10")) == 0


def test_a_person_no_longer_in_the_directory_is_charged_and_flagged(running):
    event = running.publish("sla", "deadline.missed",
                            missed("plan", at("2026-11-03 11:00"), 60, person="left-2025",
                                   timer="plan-x", role="handler"), complaint_id=CID)
    running.applied(event)
    row, = lines(running.database, timer_id="plan-x")
    assert row["person_id"] == "left-2025" and row["amount"] == Decimal("300.00")
    assert row["flags"] == ["person_not_in_directory"]


def test_appeals_through_the_service(running, penalty):
    event = running.publish("sla", "deadline.missed",
                            missed("order_submit", at("2026-11-03 10:30"), 61, timer="t-ap"),
                            complaint_id=CID)
    running.applied(event)
    line_id = str(lines(running.database, timer_id="t-ap")[0]["id"])
    with pytest.raises(RemoteError) as caught:
        penalty.appeal_deduction(SPEC2, line_id, {"reason": "不是我的扣罚"})
    assert caught.value.exc_type == "Forbidden"
    appeal = penalty.appeal_deduction(SPEC, line_id, {"reason": "系统当时无法登录"})
    assert appeal["status"] == "pending"
    with pytest.raises(RemoteError) as caught:
        penalty.appeal_deduction(SPEC, line_id, {"reason": "再申诉一次"})
    assert caught.value.exc_type == "Conflict"
    with pytest.raises(RemoteError) as caught:
        penalty.decide_appeal(HR, appeal["id"], {"decision": "upheld"})
    assert caught.value.exc_type == "Forbidden"
    decided = penalty.decide_appeal(GM, appeal["id"], {"decision": "upheld", "reason": "属实"})
    assert decided["status"] == "upheld" and decided["reversal_id"]
    with pytest.raises(RemoteError) as caught:
        penalty.decide_appeal(GM, appeal["id"], {"decision": "rejected"})
    assert caught.value.exc_type == "Conflict"
    reversal = penalty.get_deduction(SPEC, decided["reversal_id"])
    assert reversal["amount"] == "-100.00" and reversal["reverses"] == line_id
    assert reversal["month"] == "2026-12"
    mine = penalty.list_deductions(SPEC, {})
    assert mine["total"] == 2
    assert penalty.list_deductions(SPEC2, {})["total"] == 0
    with pytest.raises(RemoteError) as caught:
        penalty.list_deductions(SPEC2, {"person_id": "p01-spec-1"})
    assert caught.value.exc_type == "Forbidden"
    assert penalty.list_deductions(HR, {"person_id": "p01-spec-1", "month": "2026-11"})[
        "total"] == 1
