"""The deduction rules as versioned data (data/rules/*.yaml, SPEC §4).

A `RuleBook` holds every version; `at(moment)` gives the version in force on
the local date of a fact (the deadline missed, the overdue day started, the
case opened). A line records the version it used, so a new version never
changes a past line. Amounts are Decimal; a float in the file is refused.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from shared.config import REPO_ROOT
from shared.contracts.penalty.forms import MEASURES

DEFAULT_RULES_DIR = REPO_ROOT / "data" / "rules"

BLOCK_RULES = ("order_submit", "order_sign")
ONCE_RULES = ("visit", "plan")
CHARGED_RULES = BLOCK_RULES + ONCE_RULES + ("progress", "overdue")

CHOICES = {
    "block_counting": ("started", "completed"),
    "overdue_accrual": ("day_by_day", "whole_period"),
    "never_done_at_month_end": ("carry_over", "at_final"),
}


class RulesError(ValueError):
    """A rules file that cannot be used; says which file and what."""


def _money(value: object, where: str) -> Decimal:
    if isinstance(value, float):
        raise RulesError(f"{where}: write amounts as quoted decimals ('100.00'), not floats")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError):
        raise RulesError(f"{where}: {value!r} is not a decimal amount") from None
    if not amount.is_finite() or amount < 0:
        raise RulesError(f"{where}: {value!r} must be a non-negative amount")
    return amount


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise RulesError(f"{where}: {value!r} must be a positive whole number")
    return value


@dataclass(frozen=True)
class Tier:
    first_day: int
    last_day: int
    handler: Decimal
    leader: Decimal


@dataclass(frozen=True)
class SanctionRule:
    """A kind of sanction case: its article, and per role the measures the
    regulation allows with their bounds ({measure: {min_percent: ..}})."""
    kind: str
    article: str
    measures: dict[str, dict[str, dict[str, Any]]]   # role -> {measure: {bound: Decimal|int}}
    settings: dict[str, Any] = field(default_factory=dict)

    def allowed(self, role: str) -> dict[str, dict[str, Any]]:
        return self.measures.get(role) or next(iter(self.measures.values()))


@dataclass(frozen=True)
class RuleSet:
    version: str
    effective_from: date
    articles: dict[str, str]                 # rule -> article
    per_block: dict[str, Decimal]            # block rule -> amount per block
    block_seconds: dict[str, int]            # block rule -> seconds
    visit_bonus_percent: Decimal
    plan_amount: Decimal
    progress_amount: Decimal
    tiers: tuple[Tier, ...]
    sanction_from_day: int
    sanctions: dict[str, SanctionRule]       # kind -> SanctionRule
    choices: dict[str, str]

    def tier_for(self, day: int) -> tuple[int | None, Tier | None]:
        """(index, Tier) of an overdue day, or (None, None) from the sanction day on."""
        for index, tier in enumerate(self.tiers):
            if tier.first_day <= day <= tier.last_day:
                return index, tier
        return None, None

    def choice(self, name: str) -> str:
        return self.choices[name]


def parse_ruleset(document: Any, source: str = "rules") -> RuleSet:
    try:
        rules = document["rules"]
        version = str(document["version"])
        effective = document["effective_from"]
    except (KeyError, TypeError) as exc:
        raise RulesError(f"{source}: missing {exc}") from None
    if not isinstance(effective, date):
        raise RulesError(f"{source}: effective_from must be a date (YYYY-MM-DD)")
    articles = {code: str(rules[code]["article"]) for code in CHARGED_RULES if code in rules}
    missing = [code for code in CHARGED_RULES if code not in rules]
    if missing:
        raise RulesError(f"{source}: rules missing: {', '.join(missing)}")
    per_block: dict[str, Decimal] = {}
    block_seconds: dict[str, int] = {}
    for code in BLOCK_RULES:
        per_block[code] = _money(rules[code]["per_block"], f"{source} {code}.per_block")
        block_seconds[code] = 60 * _int(rules[code]["block_minutes"],
                                        f"{source} {code}.block_minutes")
    overdue = rules["overdue"]
    tiers = tuple(Tier(_int(t["first_day"], f"{source} tier"),
                       _int(t["last_day"], f"{source} tier"),
                       _money(t["handler"], f"{source} tier.handler"),
                       _money(t["leader"], f"{source} tier.leader"))
                  for t in overdue["tiers"])
    expected = 1
    for tier in tiers:
        if tier.first_day != expected or tier.last_day < tier.first_day:
            raise RulesError(f"{source}: overdue tiers must run on from day 1 without gaps")
        expected = tier.last_day + 1
    sanction_day = _int(overdue["sanction_from_day"], f"{source} sanction_from_day")
    if sanction_day != expected:
        raise RulesError(f"{source}: sanction_from_day must follow the last tier (day {expected})")
    choices = dict(document.get("choices") or {})
    for name, allowed in CHOICES.items():
        value = choices.setdefault(name, allowed[0])
        if value not in allowed:
            raise RulesError(f"{source}: choice {name} must be one of {', '.join(allowed)}")
    unknown = set(choices) - set(CHOICES)
    if unknown:
        raise RulesError(f"{source}: unknown choices {', '.join(sorted(unknown))}")
    return RuleSet(
        version=version, effective_from=effective, articles=articles,
        per_block=per_block, block_seconds=block_seconds,
        visit_bonus_percent=_money(rules["visit"]["bonus_percent"], f"{source} visit"),
        plan_amount=_money(rules["plan"]["amount"], f"{source} plan"),
        progress_amount=_money(rules["progress"]["amount"], f"{source} progress"),
        tiers=tiers, sanction_from_day=sanction_day,
        sanctions=_sanctions(document.get("sanctions") or {}, source), choices=choices)


def _sanctions(section: Mapping[str, Any], source: str) -> dict[str, SanctionRule]:
    out = {}
    for kind, spec in section.items():
        measures: dict[str, dict[str, dict[str, Any]]] = {}
        settings: dict[str, Any] = {}
        for key, value in spec.items():
            if key == "article":
                continue
            if isinstance(value, dict):
                measures[key] = {m: _bounds(b or {}, f"{source} {kind}.{key}.{m}")
                                 for m, b in value.items()}
                unknown = set(measures[key]) - set(MEASURES)
                if unknown:
                    raise RulesError(f"{source}: unknown measures {sorted(unknown)} in {kind}")
            else:
                settings[key] = value
        out[kind] = SanctionRule(kind, str(spec["article"]), measures, settings)
    return out


def _bounds(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("min_percent", "max_percent", "min_amount"):
            bounds[key] = _money(value, f"{where}.{key}")
        elif key == "min_grades":
            bounds[key] = _int(value, f"{where}.{key}")
        else:
            raise RulesError(f"{where}: unknown bound {key}")
    return bounds


class RuleBook:
    """Every version, oldest first."""

    def __init__(self, versions: Iterable[RuleSet]) -> None:
        self.versions = tuple(sorted(versions, key=lambda v: v.effective_from))
        if not self.versions:
            raise RulesError("no rule versions")
        names = [v.version for v in self.versions]
        if len(set(names)) != len(names):
            raise RulesError("two rule files share a version name")
        if len({v.effective_from for v in self.versions}) != len(self.versions):
            raise RulesError("two rule versions share an effective date")

    def at(self, moment: datetime, zone: tzinfo) -> RuleSet:
        """The version in force on the local date of `moment`."""
        day = moment.astimezone(zone).date()
        chosen = None
        for version in self.versions:
            if version.effective_from <= day:
                chosen = version
        if chosen is None:
            raise RulesError(f"no rule version in force on {day.isoformat()}")
        return chosen

    def named(self, version: str) -> RuleSet:
        for candidate in self.versions:
            if candidate.version == version:
                return candidate
        raise RulesError(f"unknown rule version {version}")


def load_rulebook(directory: str | Path | None = None) -> RuleBook:
    directory = Path(directory or DEFAULT_RULES_DIR)
    if not directory.is_absolute():
        directory = REPO_ROOT / directory
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise RulesError(f"no rule files (*.yaml) in {directory}")
    versions = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            versions.append(parse_ruleset(yaml.safe_load(handle), path.name))
    return RuleBook(versions)
