"""Times people type for an act (pure, issue 13): a visit's `visited_at`, a
blocked visit's `attempted_at`, a callback's `callback_at`. A stated time
may precede the moment the system received the record by at most a setting
(`stated_time_grace`, 30 min: a handler back in signal after the visit);
beyond it the deadline is judged by the receipt, unless the deputy GM
accepts the stated time with a reason (`visit.time_accepted`,
`callback.time_accepted`): then it is judged again by the stated time, and a
miss that is no longer one is withdrawn."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from services.sla.decision import Work, iso, round_key
from services.sla.model import ARMED, MISSED, Event, Outcome
from services.sla.rules import Settings

REASON_ACCEPTED = "副总经理已认可所填时间 (the deputy GM accepted the stated time)"


def judged_time(stated: datetime, received: datetime,
                settings: Settings) -> tuple[datetime, dict[str, Any]]:
    """The time a deadline is judged by, and what to keep about it: the stated
    time if the record arrived within the grace after it (never later than
    the receipt), else the receipt."""
    trusted = received - stated <= settings.stated_time_grace
    judged_at = min(stated, received) if trusted else received
    return judged_at, {"stated_at": iso(stated), "received_at": iso(received),
                       "judged_by": "stated" if trusted else "receipt"}


def _accepted(event: Event) -> dict[str, Any]:
    d = event.data
    return {"judged_by": "accepted", "accepted_by": d.get("accepted_by"),
            "accepted_at": iso(d.get("accepted_at") or event.occurred_at),
            "accept_reason": d.get("reason")}


def on_visit_time_accepted(work: Work, event: Event) -> Work | Outcome:
    """dispatch's `visit.time_accepted`: the visit (and the plan recorded with
    it, or voided by a blocking) judged again by the stated time."""
    d, c = event.data, work.complaint
    visit_id = d["visit_id"]
    if c is None:
        return work.park(f"complaint:{event.complaint_id}", "unknown_complaint",
                         f"认可回访时间：投诉 {event.complaint_id} 尚未建档 (unknown complaint)")
    visit = work.get(round_key(c, "visit"))
    acts = (visit.details.get("visit_id"), visit.details.get("blocked_visit_id")) \
        if visit is not None else ()
    if visit is None or visit_id not in acts:
        if visit is not None and visit.settled:
            work.problem("stale", f"投诉 {c.id} 的回访 {visit_id} 未决定回访时限，认可时间不影响"
                                  "考核 (the accepted visit did not settle the visit deadline)")
            return work
        return work.park(f"visit:{visit_id}", "out_of_order",
                         f"投诉 {c.id} 的回访 {visit_id} 时间认可早于回访记录到达 "
                         "(accepted before the visit record arrived)")
    stated, details = d["stated_at"], _accepted(event)
    visit = work.rejudge(visit.key, stated, REASON_ACCEPTED, details)
    plan = work.get(round_key(c, "plan"))
    if visit is None or plan is None:
        return work
    blocked = visit.details.get("blocked_visit_id") == visit_id
    if blocked and stated <= visit.due_at:
        # The blocking is now within the visit deadline: no plan was possible.
        if plan.state == ARMED or (plan.state == MISSED and not plan.settled):
            work.void(plan, "visit_blocked")
        elif plan.state == MISSED and not plan.details.get("withdrawn"):
            work.withdraw(plan, "visit_blocked")
    elif not blocked and plan.details.get("visit_id") == visit_id:
        work.rejudge(plan.key, stated, REASON_ACCEPTED, details)
    return work


def on_callback_time_accepted(work: Work, event: Event) -> Work | Outcome:
    """intake's `callback.time_accepted`: the centre's callback deadline of
    each blocked visit it answered judged again by the stated time."""
    d, c = event.data, work.complaint
    if c is None:
        return work.park(f"complaint:{event.complaint_id}", "unknown_complaint",
                         f"认可回访时间：投诉 {event.complaint_id} 尚未建档 (unknown complaint)")
    keys = [f"{c.id}:visit:{visit}:callback" for visit in d.get("visit_ids") or ()] or [
        t.key for t in work.timers.values() if t.rule == "blocked_callback"
        and t.details.get("callback_id") == d.get("callback_id")]
    timers = [work.get(key) for key in keys]
    if not keys or any(t is None or t.done_at is None for t in timers):
        return work.park(f"callback:{c.id}", "out_of_order",
                         f"投诉 {c.id} 的中心回访时间认可早于回访记录到达 (accepted before the "
                         "callback arrived)")
    for key in keys:
        work.rejudge(key, d["stated_at"], REASON_ACCEPTED, _accepted(event))
    return work
