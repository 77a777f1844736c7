"""What a miss costs: every worked example of SPEC §4 as a pure test."""
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from services.penalty import ledger
from services.penalty.ledger import OpenMiss, Person
from services.penalty.rules import RuleBook
from services.penalty.tests.helpers import BOOK, ZONE, at, missed, overdue

NOW = at("2026-11-20 12:00")


def total(charges):
    return sum((c.amount for c in charges), Decimal(0))


def with_choice(**choices):
    version = BOOK.versions[0]
    return RuleBook([replace(version, choices=dict(version.choices, **choices))])


# -- order_submit / order_sign: ¥100 per started 5 minutes (Art. 18) ----------------------------

@pytest.mark.parametrize("late, amount", [
    (1, "100"),            # 1 s late = ¥100 (a started block)
    (299, "100"), (300, "100"), (301, "200"),
    (12 * 60, "300"),      # 12 min late = ¥300
    (60 * 60, "1200"),
])
def test_order_submit_costs_100_per_started_five_minutes(late, amount):
    charges = ledger.missed_charges(missed("order_submit", at("2026-11-03 10:30"), late),
                                    "C-1", BOOK, ZONE)
    assert len(charges) == 1
    assert charges[0].amount == Decimal(amount)
    assert charges[0].evidence["blocks"] == int(amount) // 100
    assert charges[0].rule_version == "2026.1" and charges[0].article == "14, 18"


def test_completed_blocks_is_a_named_choice():
    charges = ledger.missed_charges(missed("order_submit", at("2026-11-03 10:30"), 12 * 60),
                                    "C-1", with_choice(block_counting="completed"), ZONE)
    assert total(charges) == Decimal("200")


def test_block_rules_are_charged_from_the_final_miss_only():
    announced = missed("order_submit", at("2026-11-03 10:30"), 600, final=False)
    assert ledger.missed_charges(announced, "C-1", BOOK, ZONE) == []


def test_order_held_past_its_deadline_by_deputy_then_gm_each_pays_for_their_own_part():
    """Submitted 09:00, due 10:00. The deputy GM reviews at 10:07 (7 min of
    his own past the deadline: 2 started blocks), the GM signs at 10:19
    (12 min: 3 blocks). sla sends one event per person."""
    due = at("2026-11-03 10:00")
    deputy = missed("order_sign", due, 7 * 60, person="centre-deputy-gm", timer="sign-1",
                    role="centre_deputy_gm",
                    intervals=[{"from": due, "to": due + timedelta(minutes=7),
                                "late_seconds": 420}])
    deputy["done_at"] = at("2026-11-03 10:19")
    gm = missed("order_sign", due, 12 * 60, person="centre-gm", timer="sign-1", role="centre_gm",
                intervals=[{"from": due + timedelta(minutes=7), "to": at("2026-11-03 10:19"),
                            "late_seconds": 720}])
    gm["done_at"] = at("2026-11-03 10:19")
    charged = ledger.missed_charges(deputy, "C-1", BOOK, ZONE) + \
        ledger.missed_charges(gm, "C-1", BOOK, ZONE)
    assert [(c.person_id, c.amount) for c in charged] == [
        ("centre-deputy-gm", Decimal("200")), ("centre-gm", Decimal("300"))]
    assert len({c.source_key for c in charged}) == 2
    assert charged[1].evidence["holder_intervals"][0]["late_seconds"] == 720


def test_the_same_event_gives_the_same_source_key():
    event = missed("order_submit", at("2026-11-03 10:30"), 61)
    first = ledger.missed_charges(event, "C-1", BOOK, ZONE)[0]
    again = ledger.missed_charges(dict(event), "C-1", BOOK, ZONE)[0]
    assert first.source_key == again.source_key == "order_submit:t-1:p01-spec-1:final"


# -- visit, plan, progress (Art. 35) ---------------------------------------------------------------

def test_visit_costs_twenty_percent_of_the_monthly_bonus():
    charge = ledger.missed_charges(missed("visit", at("2026-11-03 11:00"), 60, person="h-1",
                                          final=False, role="handler"), "C-1", BOOK, ZONE)[0]
    assert charge.bonus_percent == Decimal("20") and charge.amount is None
    line = ledger.to_line(charge, Person("h-1", "冯晓东", bonus=Decimal("10000")),
                          line_id="l-1", now=NOW, zone=ZONE)
    assert line.amount == Decimal("2000.00") and line.bonus == Decimal("10000")
    assert line.flags == ()
    unknown = ledger.to_line(charge, Person("h-1", "冯晓东", bonus=None), line_id="l-2",
                             now=NOW, zone=ZONE)
    assert unknown.amount is None and unknown.flags == (ledger.BONUS_UNKNOWN,)


def test_visit_and_plan_are_charged_once_per_deadline():
    first = ledger.missed_charges(missed("visit", at("2026-11-03 11:00"), 60, final=False),
                                  "C-1", BOOK, ZONE)[0]
    final = ledger.missed_charges(missed("visit", at("2026-11-03 11:00"), 7200, final=True),
                                  "C-1", BOOK, ZONE)[0]
    assert first.source_key == final.source_key == "visit:t-1"
    plan = ledger.missed_charges(missed("plan", at("2026-11-03 11:00"), 60), "C-1", BOOK, ZONE)
    assert [(c.amount, c.source_key) for c in plan] == [(Decimal("300"), "plan:t-1")]


def test_progress_costs_200_per_missed_day():
    charges = []
    for day in range(3):
        due = at("2026-11-04 18:00") + timedelta(days=day)
        charges += ledger.missed_charges(missed("progress", due, 1, timer=f"pr-{day}"),
                                         "C-1", BOOK, ZONE)
    assert total(charges) == Decimal("600")
    assert [c.evidence["day"] for c in charges] == ["2026-11-04", "2026-11-05", "2026-11-06"]


def test_deadlines_without_a_fine_charge_nothing():
    for rule in ("closure_verify", "blocked_callback", "claim_report"):
        assert ledger.missed_charges(missed(rule, at("2026-11-03 11:00"), 600), "C-1",
                                     BOOK, ZONE) == []


# -- overdue (Art. 36) -------------------------------------------------------------------------

def overdue_days(days, book=BOOK):
    due = at("2026-11-01 18:00")
    out = []
    for day in range(1, days + 1):
        out += ledger.overdue_charges(overdue(day, due), "C-GZ-2026-000001", book, ZONE)
    return out


def test_ten_days_overdue_cost_1300_for_the_handler_and_650_for_the_leader():
    charges = overdue_days(10)
    handler = [c for c in charges if c.person_id == "rcgz-mkt-head"]
    leader = [c for c in charges if c.person_id == "rcgz-vp-mkt"]
    assert total(handler) == Decimal("1300")       # 7 x 100 + 3 x 200
    assert total(leader) == Decimal("650")         # 7 x 50 + 3 x 100
    assert len({c.source_key for c in charges}) == 20


def test_day_three_costs_100_and_day_nine_200_and_day_sixteen_nothing_in_money():
    due = at("2026-11-01 18:00")
    assert total(ledger.overdue_charges(overdue(3, due, leaders=()), "C", BOOK, ZONE)) == 100
    assert total(ledger.overdue_charges(overdue(9, due, leaders=()), "C", BOOK, ZONE)) == 200
    assert total(ledger.overdue_charges(overdue(15, due, leaders=()), "C", BOOK, ZONE)) == 200
    assert ledger.overdue_charges(overdue(16, due), "C", BOOK, ZONE) == []


def test_whole_period_accrual_is_a_named_choice():
    charges = overdue_days(10, with_choice(overdue_accrual="whole_period"))
    handler = [c for c in charges if c.person_id == "rcgz-mkt-head"]
    assert total(handler) == Decimal("2000")       # every day at the tier reached
    assert total([c for c in charges if c.person_id == "rcgz-vp-mkt"]) == Decimal("1000")


def test_a_person_who_is_both_handler_and_leader_is_charged_once_a_day():
    due = at("2026-11-01 18:00")
    charges = ledger.overdue_charges(overdue(2, due, handler="chair", leaders=("chair",)),
                                     "C", BOOK, ZONE)
    assert [(c.person_id, c.amount) for c in charges] == [("chair", Decimal("100"))]


# -- a step never done: the month's cut ----------------------------------------------------------

def test_a_step_never_done_is_charged_at_the_cut_and_the_rest_next_month():
    due = at("2026-11-30 23:50")
    miss = OpenMiss("t-9", "order_submit", "14, 18", "C-1", "p01-spec-1", "specialist", due)
    cut = ledger.cut_charges(miss, "2026-11", BOOK, ZONE, {})
    assert [(c.amount, c.evidence["blocks"]) for c in cut] == [(Decimal("200"), 2)]
    assert ledger.to_line(cut[0], None, line_id="x", now=NOW, zone=ZONE).month == "2026-11"
    # Submitted at 00:12 on 1 December: 22 min late = 5 blocks; 2 already charged.
    final = missed("order_submit", due, 22 * 60, timer="t-9")
    rest = ledger.missed_charges(final, "C-1", BOOK, ZONE, already_blocks=2)
    assert [(c.amount, c.evidence["blocks"]) for c in rest] == [(Decimal("300"), 3)]
    assert ledger.to_line(rest[0], None, line_id="y", now=NOW, zone=ZONE).month == "2026-12"


def test_the_cut_splits_an_unsigned_order_between_its_holders():
    due = at("2026-11-30 23:00")
    holders = ({"person_id": "centre-deputy-gm", "role": "centre_deputy_gm",
                "from": at("2026-11-30 22:00"), "to": at("2026-11-30 23:20")},
               {"person_id": "centre-gm", "role": "centre_gm",
                "from": at("2026-11-30 23:20"), "to": None})
    miss = OpenMiss("s-1", "order_sign", "14, 18", "C-1", "centre-deputy-gm", "centre_deputy_gm",
                    due, holders)
    cut = ledger.cut_charges(miss, "2026-11", BOOK, ZONE, {})
    assert [(c.person_id, c.amount) for c in cut] == [
        ("centre-deputy-gm", Decimal("400")), ("centre-gm", Decimal("800"))]
    # A second cut of the same month charges nothing more.
    again = ledger.cut_charges(miss, "2026-11", BOOK, ZONE,
                               {"centre-deputy-gm": 4, "centre-gm": 8})
    assert again == []


def test_a_final_that_shows_the_cut_overcharged_gives_a_negative_adjustment():
    due = at("2026-11-30 23:50")
    final = missed("order_submit", due, 4 * 60, timer="t-9")   # done 23:54, event late
    rest = ledger.missed_charges(final, "C-1", BOOK, ZONE, already_blocks=2)
    assert [(c.amount, c.flags) for c in rest] == [(Decimal("-100"), (ledger.ADJUSTMENT,))]


def test_no_cut_when_the_choice_is_to_charge_at_the_end_only():
    miss = OpenMiss("t-9", "order_submit", "14, 18", "C-1", "p", "specialist",
                    at("2026-11-30 20:00"))
    assert ledger.cut_charges(miss, "2026-11", with_choice(never_done_at_month_end="at_final"),
                              ZONE, {}) == []


# -- lines: people, flags, months, reversals ---------------------------------------------------

def test_a_person_no_longer_in_the_directory_is_still_charged_and_flagged():
    charge = ledger.missed_charges(missed("plan", at("2026-11-03 11:00"), 60, person="gone"),
                                   "C-1", BOOK, ZONE)[0]
    line = ledger.to_line(charge, None, line_id="l", now=NOW, zone=ZONE)
    assert line.person_id == "gone" and line.amount == Decimal("300.00")
    assert line.flags == (ledger.NOT_IN_DIRECTORY,)
    left = ledger.to_line(charge, Person("gone", "离职者", active=False), line_id="l", now=NOW,
                          zone=ZONE)
    assert left.flags == (ledger.INACTIVE,)


def test_the_month_is_the_group_time_zones():
    charge = ledger.missed_charges(missed("plan", at("2026-12-01 07:30"), 60), "C-1", BOOK,
                                   ZONE)[0]
    # 07:30 in Shanghai on 1 December is still 30 November in UTC.
    assert ledger.to_line(charge, None, line_id="l", now=NOW, zone=ZONE).month == "2026-12"


def test_a_reversal_cancels_the_line_exactly():
    charge = ledger.missed_charges(missed("visit", at("2026-11-03 11:00"), 60), "C-1", BOOK,
                                   ZONE)[0]
    line = ledger.to_line(charge, Person("p01-spec-1", "李思琪", bonus=Decimal("3800")),
                          line_id="l-1", now=NOW, zone=ZONE)
    back = ledger.to_line(ledger.reversal(line, "appeal_upheld", at("2026-12-02 09:00")),
                          Person("p01-spec-1", "李思琪", bonus=Decimal("9999")), line_id="l-2",
                          now=NOW, zone=ZONE)
    assert back.amount == -line.amount == Decimal("-760.00")
    assert back.bonus_percent == Decimal("-20") and back.reverses == "l-1"
    assert back.month == "2026-12" and back.source_key == "reverse:l-1"
    assert not ledger.reversible(back)
    assert ledger.reversible(line)
    assert not ledger.reversible(replace(line, reversed_by="l-2"))


def test_only_the_departments_supervising_leader_owes_the_leaders_daily_fine():
    """Art. 36 fines the 分管领导; the capital project's company leaders and a
    tier-3 project GM carry leadership responsibility (SPEC §3) but not this fine."""
    data = overdue(2, at("2026-11-01 18:00"), leaders=("rcgz-vp-mkt",))
    data["leaders"] += [{"person_id": "rcgz-vp-design", "role": "company_leader"},
                        {"person_id": "p04-gm", "role": "project_gm"}]
    data["leader_person_ids"] += ["rcgz-vp-design", "p04-gm"]
    charges = ledger.overdue_charges(data, "C", BOOK, ZONE)
    assert sorted((c.person_id, c.amount) for c in charges) == [
        ("rcgz-mkt-head", Decimal("100")), ("rcgz-vp-mkt", Decimal("50"))]
