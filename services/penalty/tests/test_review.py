"""A person's month above the threshold (issue 13), the pure rules."""
from dataclasses import replace
from decimal import Decimal

import pytest

from services.penalty import review
from services.penalty.tests.helpers import at
from shared.errors import Conflict

LIMIT = Decimal("5000.00")


def decision(kind, amount, case_id=None):
    return review.Decision(kind, Decimal(amount), 1, case_id, "centre-gm", at("2026-12-01 09:00"))


def test_the_setting_and_what_is_above_it():
    assert review.threshold({}) == LIMIT
    assert review.threshold({"PENALTY_GM_CONFIRM_ABOVE": 3000}) == Decimal("3000.00")
    for wrong in ("lots", "0", "-5"):
        with pytest.raises(ValueError):
            review.threshold({"PENALTY_GM_CONFIRM_ABOVE": wrong})
    people = [("a", "甲", Decimal("5000.00")), ("b", "乙", Decimal("5000.01")),
              (None, None, Decimal("9000.00"))]
    assert [s.person_id for s in review.statuses(people, LIMIT, {})] == ["b"]


def test_a_confirmation_covers_the_amount_confirmed_and_a_referral_stands():
    assert review.status_of("b", None, Decimal("5200"), []).status == "pending"
    confirmed = review.status_of("b", None, Decimal("5200"), [decision("confirmed", "5200")])
    assert confirmed.status == "confirmed" and review.is_final([confirmed])
    later = review.status_of("b", None, Decimal("5400"), [decision("confirmed", "5200")])
    assert (later.status, later.confirmed_amount) == ("pending", Decimal("5200"))
    referred = review.status_of("b", None, Decimal("5400"), [
        decision("confirmed", "5200"), decision("referred", "5400", "case-1")])
    assert (referred.status, referred.case_id) == ("referred", "case-1")
    assert not review.is_final([replace(referred, case_status="open")])
    assert review.is_final([replace(referred, case_status="decided")])
    with pytest.raises(Conflict):
        review.check_decision(None, "a", "2026-11", "confirmed", LIMIT)
    with pytest.raises(Conflict):
        review.check_decision(confirmed, "b", "2026-11", "confirmed", LIMIT)
    with pytest.raises(Conflict):
        review.check_decision(referred, "b", "2026-11", "confirmed", LIMIT)
    assert review.check_decision(confirmed, "b", "2026-11", "referred", LIMIT) is confirmed
