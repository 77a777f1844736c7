"""Intake's side (pure): the complaint and its order (SPEC §4, Art. 13-19).
Every intake event carries the complaint's facts; the order's clocks
(order_submit, order_sign) are settled from them; a reopen starts a new round,
a closure ends what is left."""
from __future__ import annotations

from datetime import datetime

from services.sla.decision import Work, round_key, split_holders, withdraw_fired
from services.sla.model import ARMED, MISSED, Complaint, Event, Outcome
from services.sla.rules import RULES, ends_with_complaint
from shared import roles

INTAKE_FACT_EVENTS = frozenset({
    "complaint.received", "complaint.resolved_on_spot", "complaint.signature_requested",
    "complaint.signed", "complaint.reception_rated", "order.submitted", "order.reviewed",
    "order.rejected", "order.signed", "complaint.reopened", "complaint.escalated",
    "complaint.voided"})
VOIDED_STATE = "voided"


def on_intake_facts(work: Work, event: Event) -> Work:
    """Every intake event carries the complaint's facts (a snapshot): sync the
    copy from the newest one and settle the order's deadlines from it, so an
    event applied late or twice gives the same timers."""
    facts = event.data
    c = work.complaint
    if c is None:
        if event.type != "complaint.received":
            work.problem("unknown_complaint",
                         f"投诉 {event.complaint_id} 的首个事件是 {event.type}（未收到 "
                         "complaint.received），已按事件所带信息建档 (first event of an unknown "
                         "complaint; its facts were used)")
        c = Complaint(id=str(event.complaint_id))
        work.complaint = c
    newer_round = facts["order_round"] > c.order_round
    stale = (c.intake_at is not None and event.occurred_at < c.intake_at and not newer_round)
    if not stale:
        if newer_round and c.intake_at is not None:
            start_new_round(work, facts["order_round"])
        level = facts.get("escalation_level")
        work.change(
            project_id=facts["project_id"], room=facts.get("room"),
            category=facts.get("category"), intake_state=facts["state"],
            order_round=facts["order_round"], specialist_id=facts.get("specialist_id"),
            round_started_at=facts.get("round_started_at") or facts.get("contact_ended_at"),
            first_submitted_at=facts.get("first_submitted_at"),
            signed_at=facts.get("signed_at"),
            requested_completion_at=facts.get("requested_completion_at"),
            holders=tuple(facts.get("holders") or ()),
            escalation_level=level,
            escalated_at=(c.escalated_at or event.occurred_at) if level else None,
            signature_status=facts.get("signature_status") or c.signature_status,
            resolved_on_spot=bool(facts.get("resolved_on_spot", c.resolved_on_spot)
                                  or event.type == "complaint.resolved_on_spot"),
            intake_at=event.occurred_at)
        if facts["state"] == VOIDED_STATE:
            if not work.known.voided:
                void_complaint(work, facts.get("voided_at") or event.occurred_at)
        else:
            sync_order(work)
        if facts["state"] == "closed" and not work.known.closed:
            close_complaint(work, facts.get("closed_at") or event.occurred_at, event.type)
    work.provide(f"complaint:{c.id}")
    work.provide(f"round:{c.id}:{work.known.order_round}")
    if work.known.signed_at is not None:
        work.provide(f"signed:{c.id}")
    return work


def has_order(c: Complaint) -> bool:
    """An order round exists: not resolved on the spot (closed with no order)."""
    on_spot = c.resolved_on_spot or (c.intake_state == "closed" and c.first_submitted_at is None)
    return not on_spot and c.round_started_at is not None


def sync_order(work: Work) -> None:
    c, s = work.known, work.settings
    if not has_order(c) or c.round_started_at is None:   # (has_order checks both)
        return
    submit_key = round_key(c, "order_submit")
    if work.get(submit_key) is None and c.closed_at is None:
        work.arm("order_submit", submit_key, c.round_started_at + s.order_submit,
                 c.specialist_id, roles.SPECIALIST)
    if c.first_submitted_at is None:
        return
    work.resolve(submit_key, c.first_submitted_at, c.specialist_id, roles.SPECIALIST)
    sign_key = round_key(c, "order_sign")
    holder = c.current_holder or {}
    sign = work.get(sign_key)
    if sign is None:
        sign = work.arm("order_sign", sign_key, c.first_submitted_at + s.order_sign,
                        holder.get("person_id"), holder.get("role") or roles.CENTRE_DEPUTY_GM)
    if c.signed_at is not None:
        signer = next((h for h in reversed(c.holders) if h.get("role") == roles.CENTRE_GM),
                      {})
        charges = split_holders(c.holders, sign.due_at, c.signed_at)
        work.resolve(sign_key, c.signed_at, signer.get("person_id"), roles.CENTRE_GM,
                     charges=charges or None)
    elif not sign.settled and holder and (holder.get("person_id"), holder.get("role")) != (
            sign.person_id, sign.role):
        # A miss is announced to whoever holds the order now.
        work.put(sign.with_(person_id=holder.get("person_id"), role=holder.get("role")))


def start_new_round(work: Work, order_round: int) -> None:
    """Reopened (再次投诉): what is left of the old round ends; a new round
    starts with a fresh order."""
    for timer in work.open_timers():
        if ends_with_complaint(timer.rule, timer.details):
            work.cancel(timer, "reopened")
    work.change(routed_at=None, routed_signed_at=None, first_routed_at=None,
                agreed_completion_at=None,
                completion_due_at=None, visited_at=None, visit_blocked_at=None,
                last_progress_at=None, closure_application_id=None,
                closure_applied_at=None, closed_at=None, first_submitted_at=None,
                signed_at=None)


def close_complaint(work: Work, closed_at: datetime, reason: str) -> None:
    """Closed: armed deadlines are cancelled; a missed step never done gets
    its final miss (late until the closure)."""
    work.change(closed_at=closed_at)
    for timer in work.open_timers():
        if not ends_with_complaint(timer.rule, timer.details):
            continue
        if timer.state == MISSED:
            work.finalize(timer, reason, at=max(closed_at, timer.due_at))
        else:
            work.cancel(timer, reason)


def void_complaint(work: Work, voided_at: datetime) -> None:
    """Recorded by mistake and voided by the deputy GM (issue 13): every clock
    of the complaint stops (timers, warnings, hourly notices cancelled) and a
    miss already announced, open or final, is withdrawn (`deadline.withdrawn`,
    `overdue.withdrawn`), so penalty reverses whatever it charged: a voided
    complaint costs nobody anything."""
    work.change(voided_at=voided_at)
    for timer in sorted(work.timers.values(), key=lambda t: (t.due_at, t.key)):
        if timer.state == ARMED or (timer.state == MISSED and not timer.settled):
            work.void(timer, VOIDED_STATE)      # an open miss: deadline.withdrawn
        elif timer.state == MISSED and (timer.rule == "overdue" or RULES[timer.rule].announce):
            withdraw_fired(work, timer, VOIDED_STATE)


def on_complaint_closed(work: Work, event: Event) -> Work | Outcome:
    c = work.complaint
    if c is None:
        return work.park(f"complaint:{event.complaint_id}", "unknown_complaint",
                         f"关闭了未知投诉 {event.complaint_id} (closed an unknown complaint)")
    application = event.data.get("application_id")
    if application and c.closure_application_id != application and not c.closed:
        return work.park(f"applied:{application}", "out_of_order",
                         f"结案早于结案申请 {application} 到达 (closed before its application "
                         "arrived)")
    on_intake_facts(work, event)
    if not work.known.closed:
        close_complaint(work, event.data["closed_at"], "closed")
    return work
