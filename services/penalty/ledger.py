"""What a missed deadline or an overdue day costs (SPEC §4, Art. 18, 35, 36):
pure functions from sla's facts and the rule version in force to `Charge`s,
and from a charge and the person to the ledger `Line` to store.

Each charge has a `source_key`, the deterministic identity of what is
charged (`order_submit:<timer>:<person>:final`, `overdue:<timer>:<person>`,
…): the ledger's unique key, so a duplicated or replayed event never charges
twice. Money is Decimal throughout.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.penalty.months import last_instant, month_bounds, month_of
from services.penalty.responsibility import HANDLER, owing
from services.penalty.rules import BLOCK_RULES, RuleBook

# sla's event data as incoming.py loads it (aware datetimes, ints).
Facts = Mapping[str, Any]

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

# Flags a line may carry (fixed when it is written; lines never change).
NOT_IN_DIRECTORY = "person_not_in_directory"
INACTIVE = "person_inactive"
NO_PERSON = "no_person"
BONUS_UNKNOWN = "bonus_unknown"
ADJUSTMENT = "adjustment"


@dataclass(frozen=True)
class Person:
    """The local copy of a directory person (from dispatch's directory.loaded)."""
    id: str
    name: str | None = None
    unit_id: str | None = None
    unit_name: str | None = None
    bonus: Decimal | None = None
    active: bool = True
    roles: tuple[str, ...] = ()
    mobile: str | None = None


@dataclass(frozen=True)
class Charge:
    source_key: str
    person_id: str | None
    rule: str
    article: str
    complaint_id: str | None
    charged_at: datetime        # the fact's moment: it decides the month
    rule_version: str
    evidence: dict[str, Any]
    amount: Decimal | None = None
    bonus_percent: Decimal | None = None
    bonus: Decimal | None = None
    timer_id: str | None = None
    reverses: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    """A ledger line as stored (penalty.deductions)."""
    id: str
    person_id: str | None
    person_name: str | None
    unit_id: str | None
    unit_name: str | None
    amount: Decimal | None
    bonus_percent: Decimal | None
    bonus: Decimal | None
    rule: str
    article: str
    complaint_id: str | None
    month: str
    charged_at: datetime
    evidence: dict[str, Any]
    rule_version: str
    source_key: str
    timer_id: str | None
    reverses: str | None
    flags: tuple[str, ...]
    source_event_id: str | None
    created_at: datetime
    seq: int | None = None
    reversed_by: str | None = None     # filled when read with its reversal, never stored


@dataclass(frozen=True)
class OpenMiss:
    """A block-counted step past its deadline and not done yet (from a
    `deadline.missed` with final false): charged at each month's cut."""
    timer_id: str
    rule: str
    article: str
    complaint_id: str | None
    person_id: str | None
    role: str | None
    due_at: datetime
    holders: tuple[dict[str, Any], ...] = field(default_factory=tuple)  # for order_sign


def iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def money(value: Decimal | int | str | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, ROUND_HALF_UP)


def blocks(late_seconds: float, block_seconds: int, counting: str) -> int:
    """Started (1 s late = 1 block) or completed blocks of lateness."""
    if late_seconds <= 0:
        return 0
    if counting == "started":
        return math.ceil(late_seconds / block_seconds)
    return int(late_seconds // block_seconds)


# -- deadline.missed ---------------------------------------------------------------------

def missed_charges(data: Facts, complaint_id: str | None, book: RuleBook, zone: tzinfo,
                   already_blocks: int = 0) -> list[Charge]:
    """Charges of one `deadline.missed`. Block rules are charged from the
    final event only, less the blocks the month cuts already charged
    (`already_blocks` for this timer and person); visit and plan once per
    deadline, progress once per day."""
    rule = data["rule"]
    rs = book.at(data["due_at"], zone)
    person = data.get("person_id")
    timer = data["timer_id"]
    base = {"due_at": iso(data["due_at"]), "done_at": iso(data.get("done_at")),
            "late_seconds": data["late_seconds"], "role": data.get("role"),
            "final": data.get("final", True)}
    common = dict(person_id=person, rule=rule, article=rs.articles.get(rule, data.get("article")),
                  complaint_id=complaint_id, rule_version=rs.version, timer_id=timer)
    if rule in BLOCK_RULES:
        if not data.get("final"):
            return []
        block = rs.block_seconds[rule]
        counting = rs.choice("block_counting")
        total = blocks(data["late_seconds"], block, counting)
        count = total - already_blocks
        if count == 0:
            return []
        end = data.get("done_at") or data["due_at"] + timedelta(seconds=data["late_seconds"])
        evidence = dict(base, block_seconds=block, block_counting=counting, blocks=count,
                        blocks_total=total, blocks_charged_before=already_blocks,
                        per_block=str(rs.per_block[rule]), segment="final",
                        holder_intervals=_intervals(data.get("holder_intervals")))
        return [Charge(source_key=f"{rule}:{timer}:{person or '-'}:final", charged_at=end,
                       evidence=evidence, amount=rs.per_block[rule] * count,
                       flags=(ADJUSTMENT,) if count < 0 else (), **common)]
    if rule == "visit":
        return [Charge(source_key=f"visit:{timer}", charged_at=data["due_at"],
                       evidence=dict(base, bonus_percent=str(rs.visit_bonus_percent)),
                       bonus_percent=rs.visit_bonus_percent, **common)]
    if rule == "plan":
        return [Charge(source_key=f"plan:{timer}", charged_at=data["due_at"], evidence=base,
                       amount=rs.plan_amount, **common)]
    if rule == "progress":
        day = data["due_at"].astimezone(zone).date().isoformat()
        return [Charge(source_key=f"progress:{timer}", charged_at=data["due_at"],
                       evidence=dict(base, day=day), amount=rs.progress_amount, **common)]
    return []     # the regulation names no fine for the other deadlines


def _intervals(intervals: Sequence[Facts] | None) -> list[dict[str, Any]] | None:
    if not intervals:
        return None
    return [{"from": iso(i["from"]), "to": iso(i["to"]), "late_seconds": i["late_seconds"]}
            for i in intervals]


# -- the month's cut of a step never done --------------------------------------------------

def split_holders(holders: Iterable[Facts], due_at: datetime, end: datetime,
                  ) -> dict[str | None, tuple[int, list[dict[str, Any]]]]:
    """Seconds each person held the order past `due_at` until `end`, with
    the intervals: {person_id: (seconds, [{from, to}])}, in holding order."""
    out: dict[str | None, tuple[int, list[dict[str, Any]]]] = {}
    for holder in holders:
        start = max(holder["from"], due_at)
        stop = min(holder.get("to") or end, end)
        if stop <= start:
            continue
        seconds, intervals = out.get(holder.get("person_id"), (0, []))
        late = math.ceil((stop - start).total_seconds())
        out[holder.get("person_id")] = (seconds + late,
                                        intervals + [{"from": iso(start), "to": iso(stop),
                                                      "late_seconds": late}])
    return out


def cut_charges(miss: OpenMiss, month: str, book: RuleBook, zone: tzinfo,
                already_by_person: Mapping[str | None, int]) -> list[Charge]:
    """At the cut of `month`: the blocks a step never done has accrued by
    the month's end, less what earlier cuts charged (SPEC §4 choice)."""
    rs = book.at(miss.due_at, zone)
    if rs.choice("never_done_at_month_end") != "carry_over":
        return []
    _, end = month_bounds(month, zone)
    if miss.due_at >= end:
        return []
    shares: Mapping[str | None, tuple[int, list[dict[str, Any]] | None]]
    if miss.rule == "order_sign" and miss.holders:
        shares = split_holders(miss.holders, miss.due_at, end)
    else:
        seconds = math.ceil((end - miss.due_at).total_seconds())
        shares = {miss.person_id: (seconds, None)}
    block = rs.block_seconds[miss.rule]
    counting = rs.choice("block_counting")
    charges = []
    for person, (seconds, intervals) in shares.items():
        total = blocks(seconds, block, counting)
        before = already_by_person.get(person, 0)
        count = total - before
        if count <= 0:
            continue
        evidence = {"due_at": iso(miss.due_at), "done_at": None, "late_seconds": seconds,
                    "role": miss.role, "final": False, "segment": f"cut:{month}",
                    "cut_at": iso(end), "block_seconds": block, "block_counting": counting,
                    "blocks": count, "blocks_total": total, "blocks_charged_before": before,
                    "per_block": str(rs.per_block[miss.rule]), "holder_intervals": intervals}
        charges.append(Charge(
            source_key=f"{miss.rule}:{miss.timer_id}:{person or '-'}:cut:{month}",
            person_id=person, rule=miss.rule, article=rs.articles[miss.rule],
            complaint_id=miss.complaint_id, charged_at=last_instant(end),
            rule_version=rs.version, evidence=evidence, amount=rs.per_block[miss.rule] * count,
            timer_id=miss.timer_id))
    return charges


# -- overdue.accrued ------------------------------------------------------------------------

def overdue_charges(data: Facts, complaint_id: str | None, book: RuleBook,
                    zone: tzinfo) -> list[Charge]:
    """One overdue day (Art. 36): the handler and each supervising leader at
    the day's tier; nothing in money from the sanction day on (a case)."""
    rs = book.at(data["day_started_at"], zone)
    day = data["day"]
    index, tier = rs.tier_for(day)
    if index is None or tier is None:
        return []
    accrual = rs.choice("overdue_accrual")
    timer = data["timer_id"]
    people = [(person, capacity, tier.handler if capacity == HANDLER else tier.leader)
              for person, capacity in owing(data)]
    base = {"day": day, "tier": index + 1, "sla_tier": data.get("tier"),
            "day_started_at": iso(data["day_started_at"]),
            "completion_due_at": iso(data.get("completion_due_at")),
            "overdue_accrual": accrual}
    charges = []
    for person, capacity, rate in people:
        common = dict(person_id=person, rule="overdue", article=rs.articles["overdue"],
                      complaint_id=complaint_id, charged_at=data["day_started_at"],
                      rule_version=rs.version, timer_id=timer)
        charges.append(Charge(source_key=f"overdue:{timer}:{person or '-'}",
                              evidence=dict(base, capacity=capacity, rate=str(rate)),
                              amount=rate, **common))
        if accrual == "whole_period" and index > 0 and day == tier.first_day:
            previous = rs.tiers[index - 1]
            step = tier.handler - previous.handler if capacity == "handler" else \
                tier.leader - previous.leader
            charges.append(Charge(
                source_key=f"overdue_catchup:{timer}:{person or '-'}",
                evidence=dict(base, capacity=capacity, catch_up_days=day - 1, rate=str(step)),
                amount=step * (day - 1), **common))
    return charges


# -- reversals ------------------------------------------------------------------------------

def reversal(line: Line, reason: str, at: datetime, **evidence: Any) -> Charge:
    """The line that cancels `line` (an upheld appeal, a withdrawn miss): the
    same person, rule and article, negative amounts, `reverses` set."""
    return Charge(
        source_key=f"reverse:{line.id}", person_id=line.person_id, rule=line.rule,
        article=line.article, complaint_id=line.complaint_id, charged_at=at,
        rule_version=line.rule_version,
        evidence=dict(evidence, reason=reason, reverses=line.id, original_month=line.month,
                      original_source_key=line.source_key),
        amount=-line.amount if line.amount is not None else None,
        bonus_percent=-line.bonus_percent if line.bonus_percent is not None else None,
        bonus=line.bonus, timer_id=line.timer_id, reverses=line.id, flags=line.flags)


def reversible(line: Line, allow_negative: bool = False) -> bool:
    """Not a reversal, not reversed yet, and something charged (an appeal
    reverses a charge; a withdrawal reverses every line, adjustments too)."""
    if line.reverses is not None or line.reversed_by is not None:
        return False
    if allow_negative:
        return bool(line.amount or line.bonus_percent)
    return (line.amount or 0) > 0 or (line.bonus_percent or 0) > 0


# -- a charge becomes a line ------------------------------------------------------------------

def to_line(charge: Charge, person: Person | None, *, line_id: str, now: datetime, zone: tzinfo,
            event_id: str | None = None) -> Line:
    """Price a charge for its person: a bonus percentage gets its amount when
    the bonus is known; flags say what HR must look at."""
    flags = list(charge.flags)
    if charge.person_id is None:
        flags.append(NO_PERSON)
    elif person is None:
        flags.append(NOT_IN_DIRECTORY)
    elif not person.active:
        flags.append(INACTIVE)
    amount, bonus = money(charge.amount), charge.bonus
    if charge.reverses is None and charge.bonus_percent is not None and amount is None:
        bonus = person.bonus if person is not None else None
        if bonus is None:
            flags.append(BONUS_UNKNOWN)
        else:
            amount = money(bonus * charge.bonus_percent / HUNDRED)
    evidence = dict(charge.evidence)
    if charge.bonus_percent is not None and bonus is not None:
        evidence.setdefault("bonus", str(bonus))
    return Line(
        id=line_id, person_id=charge.person_id,
        person_name=person.name if person else None,
        unit_id=person.unit_id if person else None,
        unit_name=person.unit_name if person else None,
        amount=amount, bonus_percent=charge.bonus_percent, bonus=bonus, rule=charge.rule,
        article=charge.article, complaint_id=charge.complaint_id,
        month=month_of(charge.charged_at, zone), charged_at=charge.charged_at,
        evidence=evidence, rule_version=charge.rule_version, source_key=charge.source_key,
        timer_id=charge.timer_id, reverses=charge.reverses,
        flags=tuple(dict.fromkeys(flags)), source_event_id=event_id, created_at=now)


