"""Sanction cases (Art. 11, 16, 17, 36.3): what the system cannot decide.

The system opens a case with the evidence and the range the regulation
allows; a person (the centre GM or HR) records the decision once. A decision
that deducts money (a share of the monthly bonus, a fine) also becomes a
ledger line.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from services.penalty.ledger import Charge, Facts, iso
from services.penalty.months import month_of
from services.penalty.responsibility import owing
from services.penalty.rules import RuleBook, SanctionRule
from shared import roles
from shared.contracts.penalty.access import CASE_DECIDERS as DECIDERS
from shared.contracts.penalty.forms import MANUAL_CASE_KINDS as MANUAL_KINDS
from shared.errors import Conflict, Forbidden, InvalidInput

if TYPE_CHECKING:
    from services.penalty.access import Actor

OPEN, DECIDED, WITHDRAWN = "open", "decided", "withdrawn"
NewId = Callable[[], str]

KIND_ZH = {"overdue": "超期15天以上 (Art. 36.3)", "reception_attitude": "服务态度 (Art. 11)",
           "concealed": "瞒报漏报 (Art. 17)", "bottom_ten": "满意度连续三月倒数后十名 (Art. 16)",
           "monthly_review": "月度扣罚超过阈值，总经理移交 (Art. 36)"}
# A heavy month the GM refers to a case (issue 13): the rules file may bound
# it (`sanctions.monthly_review`); otherwise the measures of Art. 36.3's
# handler, the heaviest the regulation names for handling failures.
REVIEW_ALLOWED = {"bonus": {"min_percent": "0", "max_percent": "100"}, "pay_cut": {},
                  "demotion": {}}
MEASURE_ZH = {"bonus": "扣罚月度综合奖金", "pay_cut": "降薪", "demotion": "降职",
              "pay_grade_cut": "降级工资", "dismissal": "开除", "fine": "经济处罚"}


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    article: str
    person_id: str | None
    role: str                  # handler, leader, specialist
    complaint_id: str | None
    source_key: str
    evidence: dict[str, Any]
    allowed: dict[str, dict[str, str]]   # measure -> bounds (strings), as shown to the decider
    rule_version: str
    opened_at: datetime
    opened_by: str | None
    month: str
    status: str = OPEN
    decision: dict[str, Any] | None = None
    decided_by: str | None = None
    decided_role: str | None = None
    decided_at: datetime | None = None
    deduction_id: str | None = None


def _allowed(rule: SanctionRule, role: str) -> dict[str, dict[str, str]]:
    return {measure: {k: str(v) for k, v in bounds.items()}
            for measure, bounds in rule.allowed(role).items()}


def overdue_cases(data: Facts, complaint_id: str | None, book: RuleBook, zone: tzinfo,
                  now: datetime, new_id: NewId) -> list[Case]:
    """Day 16 (Art. 36.3): one case for the handler and one for the
    supervising leader (responsibility.owing, as the daily fines)."""
    rs = book.at(data["day_started_at"], zone)
    rule = rs.sanctions["overdue"]
    evidence = {"day": data["day"], "day_started_at": iso(data["day_started_at"]),
                "completion_due_at": iso(data.get("completion_due_at")),
                "timer_id": data["timer_id"]}
    people = owing(data)     # the one definition of Art. 36's people (responsibility.py)
    return [Case(id=new_id(), kind="overdue", article=rule.article, person_id=person, role=role,
                 complaint_id=complaint_id,
                 source_key=f"overdue_sanction:{data['timer_id']}:{person or '-'}",
                 evidence=dict(evidence, capacity=role), allowed=_allowed(rule, role),
                 rule_version=rs.version, opened_at=now, opened_by=None,
                 month=month_of(now, zone))
            for person, role in people]


def review_case(person_id: str, month: str, amount: Decimal, limit: Decimal, revision: int,
                note: str | None, actor_id: str, book: RuleBook, zone: tzinfo, now: datetime,
                new_id: NewId) -> Case:
    """The GM refers a person's month above the threshold to a case: the
    decider sees the month's amount and may choose a sanction instead."""
    rs = book.at(now, zone)
    rule = rs.sanctions.get("monthly_review")
    allowed = _allowed(rule, "person") if rule else dict(REVIEW_ALLOWED)
    case_id = new_id()
    return Case(id=case_id, kind="monthly_review", article=rule.article if rule else "36",
                person_id=person_id, role="person", complaint_id=None,
                source_key=f"monthly_review:{month}:{person_id}",
                evidence={"month": month, "amount": str(amount), "threshold": str(limit),
                          "revision": revision, "note": note},
                allowed=allowed, rule_version=rs.version, opened_at=now, opened_by=actor_id,
                month=month)


def manual_case(kind: str, person_id: str, complaint_id: str | None, note: str,
                observed_at: datetime | None, actor: Actor, now: datetime, book: RuleBook,
                zone: tzinfo, new_id: NewId, cases_this_month: int = 0) -> Case:
    """Art. 11 / 17: the GM opens a case after checking the video or the record."""
    if roles.CENTRE_GM not in actor.roles:
        raise Forbidden("只有售后服务中心总经理可以立案 (only the centre GM opens a sanction case)")
    if kind not in MANUAL_KINDS:
        raise InvalidInput({"kind": [f"须为 {', '.join(MANUAL_KINDS)} 之一 (one of these kinds)"]})
    rs = book.at(now, zone)
    rule = rs.sanctions[kind]
    allowed = _allowed(rule, "specialist")
    evidence = {"note": note, "observed_at": iso(observed_at)}
    limit = rule.settings.get("dismissal_only_over_per_month")
    if limit is not None:
        count = cases_this_month + 1
        evidence["cases_this_month"] = count
        if count > int(limit):
            # Art. 17: past two in a month, dismissal is the only measure.
            allowed = {"dismissal": {}}
    case_id = new_id()
    return Case(id=case_id, kind=kind, article=rule.article, person_id=person_id,
                role="specialist", complaint_id=complaint_id, source_key=f"manual:{case_id}",
                evidence=evidence, allowed=allowed, rule_version=rs.version, opened_at=now,
                opened_by=actor.person_id, month=month_of(now, zone))


def bottom_ten_case(person_id: str, months: Sequence[str], ranks: Mapping[str, int],
                    book: RuleBook, zone: tzinfo, now: datetime, new_id: NewId) -> Case:
    rs = book.at(now, zone)
    rule = rs.sanctions["bottom_ten"]
    return Case(id=new_id(), kind="bottom_ten", article=rule.article, person_id=person_id,
                role="specialist", complaint_id=None,
                source_key=f"bottom_ten:{person_id}:{months[-1]}",
                evidence={"months": list(months), "ranks": ranks},
                allowed=_allowed(rule, "specialist"),
                rule_version=rs.version, opened_at=now, opened_by=None, month=months[-1])


def bottom_ten_streak(history: set[str] | frozenset[str], month_list: Sequence[str],
                      months_running: int) -> tuple[bool, int]:
    """Open a case when the streak of consecutive bottom-ten months ending
    at the last of `month_list` is a multiple of `months_running` (3, 6, …),
    so each three months running count once."""
    streak = 0
    for month in reversed(month_list):
        if month not in history:
            break
        streak += 1
    return streak > 0 and streak % months_running == 0, streak


def decide(case: Case, actor: Actor, decision: Mapping[str, Any], now: datetime,
           zone: tzinfo) -> tuple[Case, Charge | None]:
    """Record the decision once; returns (case, Charge or None)."""
    if not (actor.roles & DECIDERS):
        raise Forbidden("只有售后服务中心总经理或人力资源中心可以作出处分决定 "
                        "(only the centre GM or HR decides a sanction)")
    if case.status != OPEN:
        raise Conflict(f"处分案件 {case.id} 已{'决定' if case.status == DECIDED else '撤销'}，"
                       "不能再次决定 (the case was already decided or withdrawn)")
    measure: Any = decision.get("measure")     # loaded by the contract form: a str
    bounds = case.allowed.get(measure)
    if bounds is None:
        raise InvalidInput({"measure": [f"本案可选处分：{', '.join(case.allowed)} "
                                        f"(allowed measures: {', '.join(case.allowed)})"]})
    checked = {"measure": measure, "note": decision.get("note")}
    if measure == "bonus":
        checked["bonus_percent"] = _within(decision.get("bonus_percent"), "bonus_percent",
                                           Decimal(bounds["min_percent"]),
                                           Decimal(bounds["max_percent"]))
    elif measure == "fine":
        checked["amount"] = _within(decision.get("amount"), "amount",
                                    Decimal(bounds.get("min_amount", "0.01")), None)
    elif measure == "pay_grade_cut":
        grades = decision.get("pay_grades")
        if not isinstance(grades, int) or grades < int(bounds.get("min_grades", 1)):
            raise InvalidInput({"pay_grades": [
                f"至少降 {bounds.get('min_grades', 1)} 级 (at least {bounds.get('min_grades', 1)} "
                "pay grades)"]})
        checked["pay_grades"] = grades
    role = sorted(actor.roles & DECIDERS)[0]
    decided = replace(case, status=DECIDED, decision={k: (str(v) if isinstance(v, Decimal) else v)
                                                      for k, v in checked.items()},
                      decided_by=actor.person_id, decided_role=role, decided_at=now)
    charge = None
    if measure in ("bonus", "fine"):
        charge = Charge(
            source_key=f"sanction:{case.id}", person_id=case.person_id,
            rule=f"sanction_{case.kind}", article=case.article, complaint_id=case.complaint_id,
            charged_at=now, rule_version=case.rule_version,
            evidence={"case_id": case.id, "measure": measure, "decided_by": actor.person_id,
                      "decided_role": role, "case_evidence": case.evidence},
            amount=checked.get("amount"), bonus_percent=checked.get("bonus_percent"))
    return decided, charge


def _within(value: object, field: str, low: Decimal, high: Decimal | None) -> Decimal:
    try:
        number = Decimal(str(value))
    except Exception:  # noqa: BLE001 - any unreadable number is an input error
        number = None
    if number is None or not number.is_finite() or number < low \
            or (high is not None and number > high):
        span = f"{low}–{high}" if high is not None else f"≥ {low}"
        raise InvalidInput({field: [f"须在 {span} 之间 (must be within {span})"]})
    return number


def withdraw(case: Case, reason: str, now: datetime) -> Case | None:
    if case.status != OPEN:
        return None
    return replace(case, status=WITHDRAWN, evidence=dict(case.evidence, withdrawn=reason,
                                                          withdrawn_at=iso(now)))
