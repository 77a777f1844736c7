"""The rules of SPEC §4 as decisions (pure: no I/O, `now` passed in).

`apply_event(event, complaint, timers, now, settings, directory)` says what an
incoming event changes: timers to arm, timers met or missed (with who is
charged and by how much), messages to send, events to announce, or that the
event must wait for another one (parked). `fire(...)` in firing.py says what
a timer that fell due does.

The rules live by family: order_rules (intake's order clocks),
department_rules (routing, visits, progress), closure_rules (closure and
overdue), claim_rules (claims and meetings); each works on the `Work` of
decision.py. This module only routes an event to its family.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from services.sla.claim_rules import (
    on_claim_decided,
    on_claim_filed,
    on_claim_raised,
    on_claim_reported,
    on_meeting_held,
    on_minutes_filed,
)
from services.sla.closure_rules import (
    on_closure_applied,
    on_closure_rejected,
    on_closure_reviewed,
    on_closure_verified,
)
from services.sla.decision import Work
from services.sla.department_rules import (
    on_callback_recorded,
    on_progress,
    on_routed,
    on_visit_blocked,
    on_visit_recorded,
)
from services.sla.major_rules import on_complaint_escalated
from services.sla.model import Complaint, Directory, Event, Outcome, Timer
from services.sla.notices import on_routing_failed
from services.sla.order_rules import INTAKE_FACT_EVENTS, on_complaint_closed, on_intake_facts
from services.sla.rules import Settings
from services.sla.signing_link import on_signature_requested
from services.sla.stated_times import on_callback_time_accepted, on_visit_time_accepted

Handler = Callable[[Work, Event], "Work | Outcome"]

HANDLERS: dict[str, Handler] = {
    "complaint.closed": on_complaint_closed,
    "complaint.routed": on_routed,
    "visit.recorded": on_visit_recorded,
    "visit.blocked": on_visit_blocked,
    "callback.recorded": on_callback_recorded,
    "progress.recorded": on_progress,
    "closure.applied": on_closure_applied,
    "closure.verified": on_closure_verified,
    "closure.reviewed": on_closure_reviewed,
    "closure.rejected": on_closure_rejected,
    "claim.raised": on_claim_raised,
    "claim.reported": on_claim_reported,
    "claim.decided": on_claim_decided,
    "claim.filed": on_claim_filed,
    "meeting.held": on_meeting_held,
    "meeting.minutes_filed": on_minutes_filed,
    "routing.failed": on_routing_failed,
    "visit.time_accepted": on_visit_time_accepted,
    "callback.time_accepted": on_callback_time_accepted,
}
HANDLERS.update({name: on_intake_facts for name in INTAKE_FACT_EVENTS})
HANDLERS.update({
    # Intake facts with a step of their own (issue 13; complaint.voided: order_rules).
    "complaint.signature_requested": on_signature_requested,    # Art. 13
    "complaint.escalated": on_complaint_escalated,              # Art. 33
})


def _round_mismatch(work: Work, event: Event) -> bool:
    """A dispatch event names its order round: an older round's event is
    history; a newer round's waits until intake's reopen arrives."""
    event_round, c = event.data.get("order_round"), work.complaint
    if event_round is None or c is None or event_round == c.order_round:
        return False
    if event_round < c.order_round:
        work.problem("stale", f"投诉 {c.id} 收到第{event_round}轮的 {event.type}，当前为第"
                              f"{c.order_round}轮，已忽略 (an earlier order round's event)")
        return True
    work.park(f"round:{c.id}:{event_round}", "out_of_order",
              f"投诉 {c.id} 的第{event_round}轮事件 {event.type} 早于重新打开到达 "
              "(a new round's event before the reopen)")
    return True


def apply_event(event: Event, complaint: Complaint | None, timers: Iterable[Timer],
                now: datetime, settings: Settings,
                directory: Directory | None = None) -> Outcome:
    """What one complaint event changes (see the module docstring)."""
    work = Work(complaint, timers, now, settings, directory)
    if event.type in INTAKE_FACT_EVENTS or not _round_mismatch(work, event):
        HANDLERS[event.type](work, event)
    if work.out.park is not None:
        out = Outcome(park=work.out.park)
        return out
    return work.outcome()
