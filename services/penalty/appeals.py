"""Appeals (SPEC §4: a deduction is never edited; an upheld appeal adds a
reversing line). The person appeals their own line once, with a reason; the
centre GM decides once."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from services.penalty.ledger import Charge, Line, reversal, reversible
from shared import roles
from shared.errors import Conflict, Forbidden

if TYPE_CHECKING:
    from services.penalty.access import Actor

PENDING, UPHELD, REJECTED = "pending", "upheld", "rejected"


@dataclass(frozen=True)
class Appeal:
    id: str
    deduction_id: str
    person_id: str
    reason: str
    filed_at: datetime
    status: str = PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    reversal_id: str | None = None


def file(line: Line, actor: Actor, reason: str, now: datetime, appeal_id: str,
         existing: Appeal | None = None) -> Appeal:
    if actor.person_id is None or actor.person_id != line.person_id:
        raise Forbidden("只能对本人的扣罚提出申诉 (you may appeal only your own deductions)")
    if existing is not None:
        raise Conflict(f"该扣罚已于 {existing.filed_at.isoformat()} 申诉过 "
                       "(this deduction was already appealed)")
    if line.reverses is not None:
        raise Conflict("冲销行不能申诉 (a reversing line cannot be appealed)")
    if not reversible(line):
        raise Conflict("该扣罚已冲销或金额为零，无需申诉 (already reversed, nothing to appeal)")
    return Appeal(appeal_id, line.id, actor.person_id, reason, now)


def decide(appeal: Appeal, line: Line, actor: Actor, decision: str, reason: str | None,
           now: datetime) -> tuple[Appeal, Charge | None]:
    """(appeal, reversing Charge or None). Upheld: the line is reversed in
    the month of the decision; rejected: nothing changes in the ledger."""
    if roles.CENTRE_GM not in actor.roles:
        raise Forbidden("只有售后服务中心总经理可以裁决申诉 (only the centre GM decides appeals)")
    if appeal.status != PENDING:
        raise Conflict(f"申诉 {appeal.id} 已裁决（{appeal.status}），不能再次裁决 "
                       "(the appeal was already decided)")
    decided = replace(appeal, status=UPHELD if decision == "upheld" else REJECTED,
                      decided_by=actor.person_id, decided_at=now, decision_reason=reason)
    if decided.status == REJECTED or not reversible(line):
        # Already reversed meanwhile (say, the miss was withdrawn): nothing more to do.
        return decided, None
    return decided, reversal(line, "appeal_upheld", now, appeal_id=appeal.id,
                             decided_by=actor.person_id, decision_reason=reason)
