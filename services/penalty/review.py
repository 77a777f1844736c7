"""A person's heavy month (issue 13, SPEC §4 "Fairness"), pure: deductions
in one month above a threshold (setting, default ¥5,000) are flagged in the
monthly report as 需总经理确认; the centre GM confirms the amount or refers
the month to a sanction case before HR takes it as final.

Nothing is deleted: each decision is a new row. A confirmation covers the
amount confirmed; when a later revision changes the person's amount, the
month needs the GM again. A referral stands (the case decides).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.errors import Conflict

DEFAULT_THRESHOLD = Decimal("5000.00")
THRESHOLD_SETTING = "PENALTY_GM_CONFIRM_ABOVE"
PENDING, CONFIRMED, REFERRED = "pending", "confirmed", "referred"
STATUS_ZH = {PENDING: "需总经理确认", CONFIRMED: "总经理已确认", REFERRED: "已移交处分案件"}
FLAG_NOTE = "需总经理确认 (GM to confirm)"


def threshold(config: Mapping[str, Any] | None) -> Decimal:
    """The setting (CNY); a value that is not a positive amount is refused."""
    raw = config.get(THRESHOLD_SETTING, DEFAULT_THRESHOLD) if isinstance(config, Mapping) \
        else DEFAULT_THRESHOLD
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(f"{THRESHOLD_SETTING}: {raw!r} is not an amount") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{THRESHOLD_SETTING}: {raw!r} must be a positive amount")
    return value


def above(amount: Decimal, limit: Decimal) -> bool:
    """"Above" the threshold: strictly more (¥5,000.00 exactly is not flagged)."""
    return amount > limit


@dataclass(frozen=True)
class Decision:
    decision: str            # confirmed or referred
    amount: Decimal
    revision: int
    case_id: str | None
    decided_by: str
    decided_at: datetime
    note: str | None = None


@dataclass(frozen=True)
class Status:
    person_id: str
    name: str | None
    amount: Decimal
    status: str
    case_id: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    confirmed_amount: Decimal | None = None
    case_status: str | None = None      # referred: the case's status (open, decided...)

    def as_json(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "name": self.name, "amount": str(self.amount),
                "status": self.status, "status_zh": STATUS_ZH[self.status],
                "case_id": self.case_id, "decided_by": self.decided_by,
                "decided_at": self.decided_at.isoformat() if self.decided_at else None,
                "confirmed_amount": str(self.confirmed_amount)
                if self.confirmed_amount is not None else None,
                "case_status": self.case_status}


def status_of(person_id: str, name: str | None, amount: Decimal,
              decisions: Sequence[Decision]) -> Status:
    """The person's standing for the amount of the latest revision."""
    referral = next((d for d in decisions if d.decision == REFERRED), None)
    if referral is not None:
        return Status(person_id, name, amount, REFERRED, referral.case_id, referral.decided_by,
                      referral.decided_at)
    confirmed = [d for d in decisions if d.decision == CONFIRMED]
    last = confirmed[-1] if confirmed else None
    if last is not None and last.amount == amount:
        return Status(person_id, name, amount, CONFIRMED, None, last.decided_by,
                      last.decided_at, last.amount)
    return Status(person_id, name, amount, PENDING,
                  confirmed_amount=last.amount if last is not None else None)


def statuses(people: Iterable[tuple[str | None, str | None, Decimal]], limit: Decimal,
             decisions: Mapping[str, Sequence[Decision]]) -> list[Status]:
    """Everyone above `limit` (people: (person_id, name, month amount)); a
    line without a person is HR's to resolve, not the GM's."""
    return [status_of(pid, name, amount, decisions.get(pid, ()))
            for pid, name, amount in people if pid is not None and above(amount, limit)]


def check_decision(current: Status | None, person_id: str, month: str, decision: str,
                   limit: Decimal) -> Status:
    """Whether the GM may decide now; the person's current standing."""
    if current is None:
        raise Conflict(f"{person_id} 在 {month} 的扣罚未超过 {limit} 元，无需总经理确认 "
                       f"(not above the threshold: nothing to confirm)")
    if current.status == REFERRED:
        raise Conflict(f"{person_id} 在 {month} 的扣罚已移交处分案件 {current.case_id} "
                       f"(already referred to a sanction case)")
    if current.status == CONFIRMED and decision == CONFIRMED:
        raise Conflict(f"{person_id} 在 {month} 的扣罚 {current.amount} 元已确认 "
                       f"(already confirmed for this amount)")
    return current


def is_final(all_statuses: Iterable[Status]) -> bool:
    """HR may take the report as final: nobody is waiting for the GM or for
    an undecided case."""
    return all(s.status == CONFIRMED or (s.status == REFERRED and s.case_status != "open")
               for s in all_statuses)
