"""Sanction cases (Art. 11, 16, 17, 36.3) and appeals: who may, the range
allowed, decided once."""
from decimal import Decimal

import pytest

from services.penalty import appeals, ledger, sanctions
from services.penalty.access import Actor
from services.penalty.ledger import Person
from services.penalty.tests.helpers import BOOK, ZONE, at, missed, overdue
from shared.errors import Conflict, Forbidden, InvalidInput

NOW = at("2026-11-20 12:00")
GM = Actor("centre-gm", frozenset({"centre_gm"}))
HR = Actor("hr-1", frozenset({"hr"}))
DEPUTY = Actor("centre-deputy-gm", frozenset({"centre_deputy_gm"}))
SPEC = Actor("p01-spec-1", frozenset({"specialist"}))
OTHER = Actor("p01-spec-2", frozenset({"specialist"}))


def ids():
    counter = iter(range(1, 1000))
    return lambda: f"id-{next(counter)}"


def line(person="p01-spec-1"):
    charge = ledger.missed_charges(missed("order_submit", at("2026-11-03 10:30"), 720,
                                          person=person), "C-1", BOOK, ZONE)[0]
    return ledger.to_line(charge, Person(person, "李思琪"), line_id="l-1", now=NOW, zone=ZONE)


# -- appeals ---------------------------------------------------------------------------------

def test_a_person_appeals_their_own_line_once():
    appeal = appeals.file(line(), SPEC, "系统故障导致延迟", NOW, "a-1")
    assert (appeal.status, appeal.deduction_id, appeal.person_id) == (
        "pending", "l-1", "p01-spec-1")
    with pytest.raises(Conflict):
        appeals.file(line(), SPEC, "再申诉一次", NOW, "a-2", existing=appeal)


def test_nobody_appeals_someone_elses_line():
    with pytest.raises(Forbidden):
        appeals.file(line(), OTHER, "不是我的", NOW, "a-1")
    with pytest.raises(Forbidden):
        appeals.file(line(), GM, "总经理代为申诉", NOW, "a-1")


def test_a_reversal_cannot_be_appealed():
    back = ledger.to_line(ledger.reversal(line(), "appeal_upheld", NOW), None, line_id="l-2",
                          now=NOW, zone=ZONE)
    with pytest.raises(Conflict):
        appeals.file(back, SPEC, "冲销行", NOW, "a-1")


def test_an_upheld_appeal_reverses_the_line_and_a_second_decision_is_refused():
    original = line()
    appeal = appeals.file(original, SPEC, "系统故障", NOW, "a-1")
    decided, charge = appeals.decide(appeal, original, GM, "upheld", "属实", at("2026-12-02 10:00"))
    assert decided.status == "upheld" and decided.decided_by == "centre-gm"
    assert charge.amount == Decimal("-300") and charge.reverses == "l-1"
    assert charge.evidence["appeal_id"] == "a-1"
    with pytest.raises(Conflict):
        appeals.decide(decided, original, GM, "rejected", None, NOW)


def test_a_rejected_appeal_changes_nothing_in_the_ledger():
    original = line()
    decided, charge = appeals.decide(appeals.file(original, SPEC, "理由", NOW, "a-1"), original,
                                     GM, "rejected", "不属实", NOW)
    assert decided.status == "rejected" and charge is None


def test_only_the_gm_decides_appeals():
    original = line()
    with pytest.raises(Forbidden):
        appeals.decide(appeals.file(original, SPEC, "理由", NOW, "a-1"), original, DEPUTY,
                       "upheld", None, NOW)


# -- sanction cases -------------------------------------------------------------------------------

def test_day_sixteen_opens_a_case_for_the_handler_and_each_leader_with_the_allowed_range():
    data = overdue(16, at("2026-11-01 18:00"), leaders=("rcgz-vp-mkt", "p02-gm"))
    cases = sanctions.overdue_cases(data, "C-1", BOOK, ZONE, NOW, ids())
    assert [(c.person_id, c.role) for c in cases] == [
        ("rcgz-mkt-head", "handler"), ("rcgz-vp-mkt", "leader"), ("p02-gm", "leader")]
    assert cases[0].allowed == {"bonus": {"min_percent": "50", "max_percent": "100"},
                                "pay_cut": {}, "demotion": {}}
    assert cases[1].allowed == {"bonus": {"min_percent": "20", "max_percent": "50"},
                                "pay_cut": {}}
    assert cases[0].source_key == "overdue_sanction:od-16:rcgz-mkt-head"
    assert cases[0].evidence["day"] == 16 and cases[0].article == "36"


def test_a_decision_within_the_range_deducts_the_bonus_share():
    case = sanctions.overdue_cases(overdue(16, at("2026-11-01 18:00")), "C-1", BOOK, ZONE, NOW,
                                   ids())[0]
    decided, charge = sanctions.decide(case, HR, {"measure": "bonus",
                                                  "bonus_percent": Decimal("60")}, NOW, ZONE)
    assert decided.status == "decided" and decided.decided_role == "hr"
    assert decided.decision == {"measure": "bonus", "note": None, "bonus_percent": "60"}
    assert charge.bonus_percent == Decimal("60") and charge.rule == "sanction_overdue"
    assert charge.source_key == f"sanction:{case.id}"
    with pytest.raises(Conflict):
        sanctions.decide(decided, GM, {"measure": "pay_cut"}, NOW, ZONE)


@pytest.mark.parametrize("decision, field", [
    ({"measure": "bonus", "bonus_percent": Decimal("40")}, "bonus_percent"),
    ({"measure": "bonus", "bonus_percent": Decimal("100.5")}, "bonus_percent"),
    ({"measure": "dismissal"}, "measure"),
])
def test_a_decision_outside_the_range_is_refused(decision, field):
    case = sanctions.overdue_cases(overdue(16, at("2026-11-01 18:00")), "C-1", BOOK, ZONE, NOW,
                                   ids())[0]
    with pytest.raises(InvalidInput) as caught:
        sanctions.decide(case, GM, decision, NOW, ZONE)
    assert field in caught.value.fields


def test_a_non_money_measure_is_recorded_without_a_ledger_line():
    case = sanctions.overdue_cases(overdue(16, at("2026-11-01 18:00")), "C-1", BOOK, ZONE, NOW,
                                   ids())[0]
    decided, charge = sanctions.decide(case, GM, {"measure": "demotion", "note": "降职"}, NOW,
                                       ZONE)
    assert charge is None and decided.decision["measure"] == "demotion"


def test_only_the_gm_or_hr_decide_and_only_the_gm_opens_a_case():
    case = sanctions.manual_case("reception_attitude", "p01-spec-1", "C-1", "视频显示态度恶劣",
                                 None, GM, NOW, BOOK, ZONE, ids())
    assert case.article == "11" and case.allowed["pay_grade_cut"] == {"min_grades": "1"}
    with pytest.raises(Forbidden):
        sanctions.decide(case, DEPUTY, {"measure": "pay_grade_cut", "pay_grades": 1}, NOW, ZONE)
    with pytest.raises(Forbidden):
        sanctions.manual_case("concealed", "p01-spec-1", None, "漏报", None, HR, NOW, BOOK, ZONE,
                              ids())


def test_concealment_costs_three_grades_and_past_two_a_month_dismissal_only():
    second = sanctions.manual_case("concealed", "p01-spec-1", None, "漏报", None, GM, NOW, BOOK,
                                   ZONE, ids(), cases_this_month=1)
    assert set(second.allowed) == {"pay_grade_cut", "dismissal"}
    with pytest.raises(InvalidInput):
        sanctions.decide(second, GM, {"measure": "pay_grade_cut", "pay_grades": 2}, NOW, ZONE)
    decided, _ = sanctions.decide(second, GM, {"measure": "pay_grade_cut", "pay_grades": 3},
                                  NOW, ZONE)
    assert decided.decision["pay_grades"] == 3
    third = sanctions.manual_case("concealed", "p01-spec-1", None, "又漏报", None, GM, NOW, BOOK,
                                  ZONE, ids(), cases_this_month=2)
    assert third.allowed == {"dismissal": {}} and third.evidence["cases_this_month"] == 3


def test_three_months_running_in_the_bottom_ten_opens_a_case_once_per_three():
    months = ["2026-08", "2026-09", "2026-10", "2026-11"]
    assert sanctions.bottom_ten_streak({"2026-10", "2026-11"}, months, 3) == (False, 2)
    assert sanctions.bottom_ten_streak({"2026-09", "2026-10", "2026-11"}, months, 3) == (True, 3)
    assert sanctions.bottom_ten_streak(set(months), months, 3) == (False, 4)
    assert sanctions.bottom_ten_streak({"2026-08", "2026-09", "2026-11"}, months, 3) == (False, 1)


def test_an_undecided_case_can_be_withdrawn_but_not_a_decided_one():
    case = sanctions.overdue_cases(overdue(16, at("2026-11-01 18:00")), "C-1", BOOK, ZONE, NOW,
                                   ids())[0]
    assert sanctions.withdraw(case, "overdue_withdrawn", NOW).status == "withdrawn"
    decided, _ = sanctions.decide(case, GM, {"measure": "pay_cut"}, NOW, ZONE)
    assert sanctions.withdraw(decided, "overdue_withdrawn", NOW) is None
