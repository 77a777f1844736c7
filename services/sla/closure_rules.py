"""Closure and overdue (pure, SPEC §4, Art. 25-29, 36): the application ends
the completion clock, the daily progress duty and overdue; the specialist
verifies within 30 minutes; a rejection lets overdue run again from the day
it had reached."""
from __future__ import annotations

from datetime import datetime, timedelta

from services.sla.calendar import local_date, progress_due
from services.sla.decision import (
    Work,
    armed_data,
    iso,
    overdue_key,
    progress_key,
    round_key,
    withdraw_fired,
)
from services.sla.department_rules import require_routed
from services.sla.model import ARMED, MET, MISSED, Complaint, Event, Outcome, Timer
from services.sla.order_rules import on_intake_facts
from services.sla.rules import HANDLER
from shared import roles


def on_closure_applied(work: Work, event: Event) -> Work:
    c = require_routed(work, event, "结案申请")
    if c is None:
        return work
    d, s = event.data, work.settings
    applied_at = d["applied_at"]
    work.change(closure_application_id=d["application_id"], closure_applied_at=applied_at)
    work.resolve(round_key(c, "completion"), applied_at, c.handler_id)
    # Overdue ends when closure is applied (Art. 36 choice); so does the daily
    # progress duty. A day fired after the application is withdrawn.
    for timer in list(work.timers.values()):
        if timer.rule not in ("overdue", "progress") or timer.due_at <= applied_at:
            continue
        if timer.state == ARMED:
            work.cancel(timer, "closure_applied")
        elif timer.state == MISSED and timer.done_at is None \
                and not timer.details.get("withdrawn"):
            withdraw_fired(work, timer, "closure_applied")
    work.arm("closure_verify", f"{c.id}:closure:{d['application_id']}:verify",
             applied_at + s.closure_verify, c.specialist_id, roles.SPECIALIST,
             details={"application_id": d["application_id"]})
    work.provide(f"applied:{d['application_id']}")
    return work


def _verify_timers(work: Work, event: Event) -> tuple[str, list[Timer]]:
    application = event.data["application_id"]
    return application, sorted((t for t in work.timers.values()
                                if t.rule == "closure_verify"
                                and t.details.get("application_id") == application),
                               key=lambda t: (t.due_at, t.key))


def _park_unknown_application(work: Work, event: Event, what: str) -> Outcome:
    application = event.data["application_id"]
    return work.park(f"applied:{application}", "out_of_order",
                     f"{what}早于结案申请 {application} 到达 ({event.type} before closure.applied)")


def on_closure_verified(work: Work, event: Event) -> Work | Outcome:
    application, timers = _verify_timers(work, event)
    if work.complaint is None or not timers:
        return _park_unknown_application(work, event, "结案核查")
    on_intake_facts(work, event)
    for timer in timers:
        work.resolve(timer.key, event.data["verified_at"], event.data.get("by"),
                     roles.SPECIALIST)
    return work


def on_closure_reviewed(work: Work, event: Event) -> Work | Outcome:
    application, timers = _verify_timers(work, event)
    if work.complaint is None or not timers:
        return _park_unknown_application(work, event, "结案审核")
    return on_intake_facts(work, event)


def on_closure_rejected(work: Work, event: Event) -> Work | Outcome:
    """At `verify` the application is rejected: overdue runs again as if it
    had never been applied (SPEC §4). At `review` it goes back to the
    specialist, who verifies again within 30 minutes."""
    application, timers = _verify_timers(work, event)
    d, s = event.data, work.settings
    if work.complaint is None or not timers:
        return _park_unknown_application(work, event, "结案退回")
    on_intake_facts(work, event)
    c = work.known
    if d["stage"] == "verify":
        for timer in timers:
            work.resolve(timer.key, d["rejected_at"], d.get("by"), roles.SPECIALIST)
    elif d["stage"] == "review" or d.get("returned_to") == "verify":
        work.arm("closure_verify", f"{timers[0].key}:{len(timers) + 1}",
                 d["rejected_at"] + s.closure_verify,
                 d.get("returned_to_person_id") or c.specialist_id, roles.SPECIALIST,
                 details={"application_id": application, "after_rejection": d["stage"]})
    rejected = d.get("application_rejected")
    if rejected is None:
        rejected = d["stage"] == "verify"
    if not rejected or c.closure_application_id != application \
            or c.closure_applied_at is None or c.closed:
        return work
    work.change(closure_applied_at=None)
    c = work.known
    completion = work.get(round_key(c, "completion"))
    if completion is not None:
        if completion.state == MET:
            reopened = completion.with_(state=ARMED, done_at=None, late_seconds=None,
                                        settled=False)
            work.put(reopened)
            work.emit("deadline.armed", armed_data(reopened), c.id)
        elif completion.state == MISSED:
            work.put(completion.with_(done_at=None, settled=False))
            resume_overdue(work, completion)
    day = local_date(d["rejected_at"], s.zone) + timedelta(days=1)
    work.arm("progress", progress_key(c, day), progress_due(day, s), c.handler_id, HANDLER,
             details={"day": day.isoformat()})
    return work


def resume_overdue(work: Work, completion: Timer) -> None:
    """Arm the next overdue day after the last one accrued. Days already
    accrued stay; the days the application paused are caught up by the loop.
    Each resumption is a new generation of keys, so no day is armed twice."""
    c = work.known
    overdue = [t for t in work.timers.values()
               if t.rule == "overdue" and t.order_round == c.order_round]
    day = max((t.details["day"] for t in overdue if t.state == MISSED), default=0) + 1
    generation = max((t.details.get("generation", 0) for t in overdue), default=0) + 1
    arm_overdue_day(work, c, completion.due_at, day, generation)


def arm_overdue_day(work: Work, complaint: Complaint, completion_due_at: datetime, day: int,
                    generation: int = 0) -> Timer:
    """Day n starts (n-1) x 24 h after the completion deadline (per started 24 h)."""
    key = overdue_key(complaint.id, complaint.order_round, day)
    if generation:
        key = f"{key}:g{generation}"
    return work.arm("overdue", key, completion_due_at + timedelta(days=day - 1),
                    complaint.handler_id, HANDLER,
                    details={"day": day, "generation": generation,
                             "completion_due_at": iso(completion_due_at)})
