"""Rules as versioned data: amounts, tiers and choices from data/rules."""
import copy
from datetime import date
from decimal import Decimal

import pytest
import yaml

from services.penalty import ledger
from services.penalty.rules import RuleBook, RulesError, load_rulebook, parse_ruleset
from services.penalty.tests.helpers import BOOK, ZONE, at, missed, overdue
from shared.config import REPO_ROOT

RAW = yaml.safe_load((REPO_ROOT / "data" / "rules" / "penalty-2026.1.yaml").read_text("utf-8"))


def version(name, effective, **rule_changes):
    doc = copy.deepcopy(RAW)
    doc["version"], doc["effective_from"] = name, effective
    for rule, changes in rule_changes.items():
        doc["rules"][rule].update(changes)
    return parse_ruleset(doc, name)


def test_the_shipped_rules_say_what_spec_section_4_says():
    rs = BOOK.at(at("2026-11-03 10:00"), ZONE)
    assert rs.per_block == {"order_submit": Decimal("100.00"), "order_sign": Decimal("100.00")}
    assert rs.block_seconds == {"order_submit": 300, "order_sign": 300}
    assert rs.visit_bonus_percent == Decimal("20")
    assert (rs.plan_amount, rs.progress_amount) == (Decimal("300.00"), Decimal("200.00"))
    assert [(t.first_day, t.last_day, t.handler, t.leader) for t in rs.tiers] == [
        (1, 7, Decimal("100.00"), Decimal("50.00")), (8, 15, Decimal("200.00"), Decimal("100.00"))]
    assert rs.sanction_from_day == 16
    assert rs.choices == {"block_counting": "started", "overdue_accrual": "day_by_day",
                          "never_done_at_month_end": "carry_over"}
    assert rs.sanctions["overdue"].allowed("handler")["bonus"] == {
        "min_percent": Decimal("50"), "max_percent": Decimal("100")}


def test_a_new_version_applies_from_its_date_and_never_to_earlier_facts():
    book = RuleBook([BOOK.versions[0],
                     version("2027.1", date(2027, 1, 1), plan={"amount": "400.00"})])
    before = ledger.missed_charges(missed("plan", at("2026-12-31 23:00"), 60), "C", book, ZONE)
    after = ledger.missed_charges(missed("plan", at("2027-01-01 09:00"), 60), "C", book, ZONE)
    assert [(c.amount, c.rule_version) for c in before] == [(Decimal("300.00"), "2026.1")]
    assert [(c.amount, c.rule_version) for c in after] == [(Decimal("400.00"), "2027.1")]


def test_overdue_days_take_the_version_of_the_day():
    book = RuleBook([BOOK.versions[0], version("2027.1", date(2027, 1, 1))])
    doc = copy.deepcopy(RAW)
    doc["version"], doc["effective_from"] = "2027.2", date(2027, 2, 1)
    doc["rules"]["overdue"]["tiers"][0]["handler"] = "150.00"
    book = RuleBook(list(book.versions) + [parse_ruleset(doc, "2027.2")])
    due = at("2027-01-30 18:00")
    charges = [c for day in (1, 2, 3)
               for c in ledger.overdue_charges(overdue(day, due, leaders=()), "C", book, ZONE)]
    assert [(c.amount, c.rule_version) for c in charges] == [
        (Decimal("100.00"), "2027.1"), (Decimal("100.00"), "2027.1"),
        (Decimal("150.00"), "2027.2")]


def test_floats_in_a_rules_file_are_refused():
    doc = copy.deepcopy(RAW)
    doc["rules"]["plan"]["amount"] = 300.5
    with pytest.raises(RulesError, match="floats"):
        parse_ruleset(doc)


def test_tiers_with_a_gap_or_a_misplaced_sanction_day_are_refused():
    doc = copy.deepcopy(RAW)
    doc["rules"]["overdue"]["tiers"][1]["first_day"] = 9
    with pytest.raises(RulesError, match="without gaps"):
        parse_ruleset(doc)
    doc = copy.deepcopy(RAW)
    doc["rules"]["overdue"]["sanction_from_day"] = 20
    with pytest.raises(RulesError, match="sanction_from_day"):
        parse_ruleset(doc)


def test_unknown_choices_and_values_are_refused():
    doc = copy.deepcopy(RAW)
    doc["choices"]["block_counting"] = "rounded"
    with pytest.raises(RulesError, match="block_counting"):
        parse_ruleset(doc)
    doc = copy.deepcopy(RAW)
    doc["choices"]["free_lunch"] = True
    with pytest.raises(RulesError, match="unknown choices"):
        parse_ruleset(doc)


def test_no_version_in_force_before_the_first_date(tmp_path):
    doc = copy.deepcopy(RAW)
    doc["effective_from"] = date(2030, 1, 1)
    (tmp_path / "v.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    book = load_rulebook(tmp_path)
    with pytest.raises(RulesError, match="no rule version"):
        book.at(at("2026-11-03 10:00"), ZONE)


def test_two_versions_on_one_date_are_refused():
    with pytest.raises(RulesError, match="effective date"):
        RuleBook([BOOK.versions[0], version("other", BOOK.versions[0].effective_from)])
