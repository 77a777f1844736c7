"""A visit's stated time and its acceptance (issue 13; SPEC §4 fairness).

The handler types when the visit took place (visited_at) or was attempted
(attempted_at); dispatch keeps that stated time and the receipt (recorded_at).
A stated time may precede the receipt by at most the grace
(SLA.stated_time_grace_minutes, 30 by default: handlers back in signal after
a visit); beyond it sla judges the visit deadline by the receipt unless the
deputy GM accepts the stated time with a reason, once per visit.

Pure: no I/O; the service layer (casework) stores the Outcome.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from services.dispatch.case import Case, HistoryEntry, Outcome, case_facts
from services.dispatch.checks import Staff
from services.dispatch.work import Visit
from shared import roles
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

GRACE_MINUTES = 30          # the setting's default (SLA.stated_time_grace_minutes)


def grace_of(config: Mapping[str, Any]) -> timedelta:
    """The grace as configured: one setting for intake, dispatch and sla."""
    settings = config.get("SLA") or {}
    return timedelta(minutes=float(settings.get("stated_time_grace_minutes", GRACE_MINUTES)))


@dataclass(frozen=True)
class TimeAcceptance:
    """The deputy GM accepted a visit's stated time, with a reason."""
    visit_id: str
    complaint_id: str
    order_round: int
    outcome: str            # done or blocked
    stated_at: datetime
    received_at: datetime
    accepted_by: str
    accepted_at: datetime
    reason: str

    @property
    def id(self) -> str:
        return self.visit_id


def stated_too_early(visit: Visit, grace: timedelta) -> bool:
    """The stated time precedes the receipt by more than the grace."""
    return visit.recorded_at - visit.happened_at > grace


def accept_visit_time(case: Case, visit: Visit | None, existing: TimeAcceptance | None,
                      staff: Staff | None, reason: str | None, now: datetime,
                      grace: timedelta) -> Outcome:
    """Accept a visit's (or blocked visit's) stated time beyond the grace."""
    if staff is None or roles.CENTRE_DEPUTY_GM not in staff.roles:
        raise Forbidden("只有售后服务中心副总经理可以认可陈述时间 "
                        "(only the centre's deputy GM may accept a stated time)")
    if visit is None or visit.complaint_id != case.id:
        raise NotFound(f"投诉 {case.id} 没有此上门记录 (no such visit)")
    if existing is not None:
        raise Conflict(f"上门记录 {visit.id} 的陈述时间已认可 (the stated time was already "
                       "accepted)")
    if not stated_too_early(visit, grace):
        minutes = int(grace.total_seconds() // 60)
        raise Conflict(f"上门记录 {visit.id} 的陈述时间早于登记时间不超过 {minutes} 分钟，"
                       f"已按陈述时间计，无需认可 (within the {minutes}-minute grace: "
                       "nothing to accept)")
    text = (reason or "").strip()
    if not text:
        raise InvalidInput({"reason": ["须填写理由 (a reason is required)"]})
    acceptance = TimeAcceptance(visit.id, case.id, visit.order_round, visit.outcome,
                                visit.happened_at, visit.recorded_at, staff.person_id, now,
                                reason or text)
    data = dict(case_facts(case), visit_id=visit.id, outcome=visit.outcome,
                stated_at=visit.happened_at, received_at=visit.recorded_at,
                accepted_by=staff.person_id, accepted_at=now, reason=acceptance.reason)
    outcome = Outcome(replace(case, updated_at=now)).add(
        HistoryEntry(now, staff.person_id, "visit_time_accepted", case.state, case.state,
                     case.order_round, visit.id, acceptance.reason,
                     {"outcome": visit.outcome, "stated_at": visit.happened_at.isoformat(),
                      "received_at": visit.recorded_at.isoformat()}),
        ("visit.time_accepted", data), acceptance)
    outcome.result = acceptance
    return outcome
