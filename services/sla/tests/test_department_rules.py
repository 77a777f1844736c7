"""SPEC §4 rows visit, plan, blocked_visit_record, blocked_callback,
completion, progress, closure_verify, overdue (Art. 22-29, 35, 36): pure
domain, worked examples."""
from datetime import timedelta

from services.sla.tests.helpers import (
    CID,
    DEPUTY,
    HANDLER,
    LEADERS,
    SPECIALIST,
    STAFF,
    Timeline,
    at,
    facts,
    routed,
)
from shared import roles

H = HANDLER["person_id"]


def visit(t, visited, recorded=None, plan="更换防水层", agreed=None, due=None, **extra):
    data = {"visit_id": "V-1", "visited_at": visited.isoformat(),
            "recorded_at": (recorded or visited).isoformat(), "recorded_by": H, "plan": plan,
            "agreed_completion_at": agreed.isoformat() if agreed else None,
            "completion_due_at": due.isoformat() if due else None,
            "photo_media_ids": [], "signature_media_id": "M-1"}
    data.update(extra)
    t.apply("visit.recorded", data, recorded or visited)


def blocked(t, attempted, recorded, visit_id="V-9"):
    t.apply("visit.blocked", {"visit_id": visit_id, "attempted_at": attempted.isoformat(),
                              "recorded_at": recorded.isoformat(), "recorded_by": H,
                              "reason": "客户拒绝入户"}, recorded)


def progress(t, when, by_handler=True):
    t.apply("progress.recorded", {"progress_id": f"P-{when.isoformat()}",
                                  "recorded_at": when.isoformat(), "recorded_by": H,
                                  "department": "property", "by_handler_department": by_handler,
                                  "note": "已更换", "photo_media_ids": []}, when)


def applied(t, when, application="A-1"):
    t.apply("closure.applied", {"application_id": application, "applied_at": when.isoformat(),
                                "applied_by": H, "material_media_ids": ["M-2"],
                                "signature_media_id": "M-3"}, when)


def rejected(t, when, application="A-1", stage="verify"):
    t.apply("closure.rejected", t.facts(
        "order_signed", application_id=application, stage=stage, rejected_at=when.isoformat(),
        by=SPECIALIST, reason="客户不满意", returned_to="department",
        application_rejected=stage == "verify"), when)


# -- visit and plan (Art. 22, 35) ----------------------------------------------------

def test_visit_late_is_missed_by_the_handler_with_a_reminder():
    """Signed 10:50: visit due 11:50; visited 12:10 -> missed by 20 min."""
    t = Timeline().signed_order(signed="10:50")
    assert t.timer("visit").due_at == at("11:50") and t.timer("visit").person_id == H
    visit(t, at("12:10"))
    missed = t.of("deadline.missed", rule="visit")
    assert [(m["final"], m["late_seconds"], m["person_id"]) for m in missed] == [
        (False, 0, H), (True, 20 * 60, H)]
    reminder = [m for m in t.messages if m.template == "visit_overdue_reminder"]
    assert reminder and reminder[0].recipient_person_id == H and "已超时" in reminder[0].text


def test_visit_and_plan_in_time_are_met_at_the_stated_time_recorded_within_the_grace():
    t = Timeline().signed_order(signed="10:50")
    visit(t, at("11:30"), recorded=at("11:40"))
    assert t.of("deadline.met", rule="visit")[0]["done_at"] == at("11:30")
    assert t.of("deadline.met", rule="plan")[0]["done_at"] == at("11:30")


def test_a_visit_stated_before_the_deadline_and_recorded_within_30_min_is_in_time():
    """Back in signal after the visit (issue 13): visited 11:40, recorded 12:00."""
    t = Timeline().signed_order(signed="10:50")
    visit(t, at("11:40"), recorded=at("12:00"))
    assert t.of("deadline.met", rule="visit")[0]["done_at"] == at("11:40")
    assert t.timer("visit").details["judged_by"] == "stated"


def test_a_visit_typed_in_as_earlier_but_recorded_late_is_judged_by_the_receipt():
    """Stated 11:20, received 12:00 (40 min later, over the 30 min grace)."""
    t = Timeline().signed_order(signed="10:50")
    visit(t, at("11:20"), recorded=at("12:00"))
    assert t.of("deadline.missed", rule="visit", final=True)[0]["late_seconds"] == 600
    assert t.timer("visit").details["judged_by"] == "receipt"


def test_plan_missing_at_the_visit_is_missed_until_recorded():
    t = Timeline().signed_order(signed="10:50")
    visit(t, at("11:30"), plan="")
    t.advance_to(at("11:50"))
    assert t.of("deadline.missed", rule="plan", final=False)
    visit(t, at("12:00"), plan="更换水管", visit_id="V-2")
    [final] = t.of("deadline.missed", rule="plan", final=True)
    assert final["late_seconds"] == 600 and final["person_id"] == H


# -- blocked visit (Art. 23) -------------------------------------------------------------

def test_blocked_visit_record_late_is_escalated_to_the_leaders():
    """Attempted 11:20 (stated), recorded 12:30: the record was due 12:20; the
    stated attempt precedes its receipt by 70 min (over the 30 min grace), so
    the visit deadline (11:50) is judged by the receipt: late, and the plan's
    fine stands (issue 13)."""
    t = Timeline().signed_order(signed="10:50")
    blocked(t, at("11:20"), at("12:30"))
    assert t.timer("visit").state == "missed" and t.timer("visit").late_seconds == 40 * 60
    assert t.timer("plan").state == "missed"
    [miss] = t.of("deadline.missed", rule="blocked_visit_record")
    assert miss["late_seconds"] == 600 and miss["final"] and miss["person_id"] == H
    [escalation] = t.of("escalation.raised", rule="blocked_visit_record")
    assert escalation["to_person_ids"] == [leader["person_id"] for leader in LEADERS]
    assert {m.recipient_person_id for m in t.messages if m.template == "escalation"} == {
        leader["person_id"] for leader in LEADERS}


def test_blocked_callback_missed_escalates_to_the_deputy_gm():
    """Recorded 11:30: the centre calls back by 12:00; it calls at 12:10."""
    t = Timeline().signed_order(signed="10:50")
    blocked(t, at("11:20"), at("11:30"))
    assert t.of("deadline.met", rule="blocked_visit_record")
    t.advance_to(at("12:00"))
    [miss] = t.of("deadline.missed", rule="blocked_callback")
    assert miss["role"] == roles.CENTRE_STAFF and not miss["final"]
    [escalation] = t.of("escalation.raised", rule="blocked_callback")
    assert escalation["to_person_ids"] == [DEPUTY]
    sms = [m for m in t.messages if m.template == "escalation"][0]
    assert "受阻后售后中心回访" in sms.text and sms.recipient_person_id == DEPUTY
    t.apply("callback.recorded", t.facts(
        "order_signed", callback_at=at("12:10").isoformat(), recorded_at=at("12:11").isoformat(),
        by=STAFF, by_role=roles.CENTRE_STAFF, outcome="reached", note="客户同意改期",
        visit_ids=["V-9"], due_since=at("11:30").isoformat()), at("12:10"))
    [final] = t.of("deadline.missed", rule="blocked_callback", final=True)
    assert final["late_seconds"] == 600


# -- completion (Art. 25) -----------------------------------------------------------------

def test_completion_is_the_earlier_of_requested_and_agreed():
    requested = at("18:00", day=30)
    t = Timeline().signed_order(requested=requested)
    assert t.timer("completion").due_at == requested      # no visit yet: the order's time
    visit(t, at("11:30"), agreed=at("12:00", day=29))     # agreed earlier: it counts
    assert t.timer("completion").due_at == at("12:00", day=29)
    assert t.of("deadline.armed", rule="completion")[-1]["due_at"] == at("12:00", day=29)


def test_completion_agreed_later_than_requested_keeps_the_order_time():
    requested = at("18:00", day=30)
    t = Timeline().signed_order(requested=requested)
    visit(t, at("11:30"), agreed=at("18:00", day=5, month=12),
          due=requested)                                   # dispatch's min(), Art. 25
    assert t.timer("completion").due_at == requested


def test_completion_met_when_closure_applied_in_time():
    t = Timeline().signed_order(requested=at("18:00", day=30))
    applied(t, at("15:00", day=30))
    assert t.of("deadline.met", rule="completion")[0]["done_at"] == at("15:00", day=30)
    assert not t.of("overdue.accrued")


# -- progress (Art. 26, 35) ----------------------------------------------------------------

def test_progress_every_day_after_signing_until_18():
    """Signed 11-27: progress due 11-28 18:00, 11-29 18:00, ... A day without
    the handler's update is missed for good."""
    t = Timeline().signed_order(signed="10:50")
    assert [x.due_at for x in t.timers.values() if x.rule == "progress"] == [at("18:00", day=28)]
    progress(t, at("17:00", day=28))
    assert t.of("deadline.met", rule="progress")[0]["due_at"] == at("18:00", day=28)
    t.advance_to(at("18:00", day=29))
    [miss] = t.of("deadline.missed", rule="progress")
    assert miss["due_at"] == at("18:00", day=29) and miss["person_id"] == H
    assert miss["final"] and miss["done_at"] is None
    assert t.timer("progress", day="2026-11-30").state == "armed"


def test_progress_after_18_does_not_count_for_that_day_and_cooperators_do_not_count():
    t = Timeline().signed_order(signed="10:50")
    progress(t, at("12:00", day=28), by_handler=False)
    t.advance_to(at("18:00", day=28))
    assert t.of("deadline.missed", rule="progress")
    progress(t, at("19:00", day=28))
    assert not t.of("deadline.met", rule="progress")


def test_progress_recorded_in_time_but_arriving_after_the_check_is_withdrawn():
    t = Timeline().signed_order(signed="10:50")
    t.advance_to(at("18:05", day=28))          # the check fired: missed
    progress_at = at("17:55", day=28)
    t.apply("progress.recorded", {"progress_id": "P-late", "recorded_at": progress_at.isoformat(),
                                  "recorded_by": H, "department": "property",
                                  "by_handler_department": True, "note": "",
                                  "photo_media_ids": []}, progress_at)
    [withdrawn] = t.of("deadline.withdrawn", rule="progress")
    assert withdrawn["due_at"] == at("18:00", day=28)
    assert t.timer("progress", day="2026-11-28").state == "met"


# -- closure verification (Art. 29) --------------------------------------------------------

def test_closure_verify_late_escalates_to_the_deputy_gm():
    t = Timeline().signed_order()
    applied(t, at("12:00", day=28))
    assert t.timer("closure_verify").due_at == at("12:30", day=28)
    assert t.timer("closure_verify").person_id == SPECIALIST
    t.advance_to(at("12:30", day=28))
    assert t.of("escalation.raised", rule="closure_verify")[0]["to_person_ids"] == [DEPUTY]
    t.apply("closure.verified", t.facts(
        "closure_verified", application_id="A-1", verified_at=at("12:45", day=28).isoformat(),
        by=SPECIALIST, satisfaction=5, comment=None), at("12:45", day=28))
    [final] = t.of("deadline.missed", rule="closure_verify", final=True)
    assert final["late_seconds"] == 15 * 60 and final["person_id"] == SPECIALIST


# -- overdue (Art. 36) ---------------------------------------------------------------------

def overdue_days(t):
    return [(e["day"], e["tier"], e["day_started_at"]) for e in t.of("overdue.accrued")]


def test_overdue_day_by_day_tiers_day_8_and_day_16():
    due = at("18:00", day=30)
    t = Timeline().signed_order(requested=due)
    t.advance_to(due + timedelta(days=9, hours=12))      # 10 days overdue
    days = overdue_days(t)
    assert [d for d, _, _ in days] == list(range(1, 11))
    assert [tier for _, tier, _ in days] == [1] * 7 + [2] * 3  # 7x100 + 3x200 = 1,300
    assert days[7] == (8, 2, due + timedelta(days=7))          # day 8: tier 2
    assert t.of("overdue.accrued")[0]["handler_person_id"] == H
    assert t.of("overdue.accrued")[0]["leader_person_ids"] == [x["person_id"] for x in LEADERS]
    t.advance_to(due + timedelta(days=20))
    assert [e["day"] for e in t.of("overdue.sanction_due")] == [16]
    assert overdue_days(t)[15][:2] == (16, 3)


def test_overdue_stops_when_closure_is_applied():
    due = at("18:00", day=30)
    t = Timeline().signed_order(requested=due)
    t.advance_to(due + timedelta(days=2, hours=1))      # days 1-3 started
    applied(t, due + timedelta(days=2, hours=2))
    t.advance_to(due + timedelta(days=10))
    assert [d for d, _, _ in overdue_days(t)] == [1, 2, 3]
    [final] = t.of("deadline.missed", rule="completion", final=True)
    assert final["late_seconds"] == (2 * 24 + 2) * 3600


def test_a_rejected_closure_application_restarts_overdue_as_if_never_applied():
    """Due 11-30 18:00. Applied 12-02 12:00 (days 1-2 accrued); rejected
    12-04 10:00: days 3 and 4 accrue at once, day 5 at 12-04 18:00."""
    due = at("18:00", day=30)
    t = Timeline().signed_order(requested=due)
    applied(t, at("12:00", day=2, month=12))
    assert [d for d, _, _ in overdue_days(t)] == [1, 2]
    t.advance_to(at("09:00", day=4, month=12))
    assert [d for d, _, _ in overdue_days(t)] == [1, 2]      # paused while applied
    rejected(t, at("10:00", day=4, month=12))
    t.advance_to(at("18:00", day=4, month=12))
    assert overdue_days(t) == [(n, 1, due + timedelta(days=n - 1)) for n in range(1, 6)]
    assert t.complaint.in_work


def test_overdue_day_fired_after_the_application_is_withdrawn():
    """The application came in at day 3 + 1 h, but its event reached sla after
    days 4 and 5 fired: those two are withdrawn."""
    due = at("18:00", day=30)
    t = Timeline().signed_order(requested=due)
    t.advance_to(due + timedelta(days=4, minutes=5))
    applied_at = due + timedelta(days=2, hours=1)
    t.apply("closure.applied", {"application_id": "A-1", "applied_at": applied_at.isoformat(),
                                "applied_by": H, "material_media_ids": [],
                                "signature_media_id": "M-3"}, applied_at)
    assert [e["day"] for e in t.of("overdue.withdrawn")] == [4, 5]


# -- the complaint closes ------------------------------------------------------------------

def test_closing_cancels_armed_deadlines_and_finalizes_open_misses():
    t = Timeline().signed_order(signed="10:50")
    t.advance_to(at("12:00"))                      # visit and plan missed, not done
    t.apply("complaint.closed", t.facts("closed", closed_at=at("13:00").isoformat(),
                                        application_id=None, by="centre-gm", satisfaction=None),
            at("13:00"))
    finals = t.of("deadline.missed", final=True, rule="visit")
    assert finals and finals[0]["done_at"] is None and finals[0]["late_seconds"] == 70 * 60
    assert {x.state for x in t.timers.values() if x.rule in ("progress", "completion")} == {
        "cancelled"}
    assert all(x.settled for x in t.timers.values())


# -- out of order and re-routing ----------------------------------------------------------

def test_visit_before_signing_is_parked_until_routed():
    t = Timeline()
    t.apply("complaint.received", facts(resolved_on_spot=False, signature_media_id=None),
            at("10:00"))
    visit(t, at("10:30"))
    [(event, park)] = t.parked
    assert event.type == "visit.recorded" and park.waiting_for == f"routed:{CID}"
    assert park.kind == "out_of_order"


def test_routing_before_order_signed_is_parked():
    t = Timeline()
    t.apply("complaint.routed", routed(at("10:50")), at("10:50"))
    assert t.parked[0][1].waiting_for == f"complaint:{CID}"


def test_escalation_reroutes_armed_deadlines_to_the_chairman():
    t = Timeline().signed_order(signed="10:50")
    chairman = {"person_id": "pcgz-chairman", "name": "董事长", "mobile": "13800000014"}
    t.apply("complaint.routed", routed(at("10:50"), handler=chairman, leaders=[], major=True),
            at("11:00"))
    assert t.timer("visit").person_id == "pcgz-chairman"
    assert [m.recipient_person_id for m in t.messages if m.template == "order_dispatched"] == [
        H, "pcgz-chairman"]
