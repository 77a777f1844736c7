"""A rating link rates its own complaint's reception in its own round only
(issue 8: a link replayed for another complaint or a later round is refused)."""
from dataclasses import replace
from datetime import timedelta

import pytest

from services.intake import links, model
from services.intake.tests.helpers import MIN, NOW, recorded
from shared.contracts.intake import vocabulary
from shared.errors import Conflict, NotFound


def rating_link(complaint):
    return model.new_link("r" * 43, complaint, vocabulary.STEP_RATING, NOW,
                          timedelta(hours=72)).link


def test_a_rating_link_of_an_earlier_round_rates_nothing():
    c = recorded("phone").complaint
    link = rating_link(c)
    reopened = replace(c, order_round=c.order_round + 1)
    with pytest.raises(Conflict) as refused:
        links.rate(reopened, 5, None, NOW + MIN, existing=None, via="link", link=link)
    assert "earlier round" in refused.value.message
    assert links.rate(c, 5, None, NOW + MIN, existing=None, via="link", link=link).rating


def test_a_rating_link_of_another_complaint_is_unknown():
    c = recorded("phone").complaint
    other = replace(c, id="C-GZ-2026-000002")
    with pytest.raises(NotFound):
        links.rate(other, 5, None, NOW + MIN, existing=None, via="link", link=rating_link(c))
