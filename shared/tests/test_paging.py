"""One paging convention (shared/paging.py, SPEC §10): limit / offset with
the total, the deprecated page / page_size aliases, per-route bounds."""
import pytest

from shared.errors import InvalidInput
from shared.paging import Paging, page_answer, page_of_all, without_paging
from shared.validation import load_input


class Wide(Paging):
    DEFAULT_LIMIT = 50
    MAX_LIMIT = 200


def test_defaults_and_the_old_names():
    assert load_input(Paging, {}) == {"limit": 20, "offset": 0, "page": None,
                                           "page_size": None}
    assert load_input(Paging, {"limit": "7", "offset": "3"})["offset"] == 3
    old = load_input(Paging, {"page": "3", "page_size": "10"})
    assert (old["limit"], old["offset"]) == (10, 20)
    assert load_input(Paging, {"page": "2"})["offset"] == 20
    assert load_input(Wide, {})["limit"] == 50
    assert load_input(Wide, {"limit": "200"})["limit"] == 200


@pytest.mark.parametrize("given, field", [
    ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "1.5"}, "limit"),
    ({"offset": "-1"}, "offset"), ({"page": "0"}, "page"), ({"page_size": "101"}, "page_size"),
    ({"limit": "5", "page_size": "5"}, "page_size"), ({"offset": "5", "page": "1"}, "page"),
])
def test_bounds_are_checked_field_by_field(given, field):
    with pytest.raises(InvalidInput) as caught:
        load_input(Paging, given)
    assert field in caught.value.fields


def test_answers_have_the_four_keys_and_the_old_two_when_asked_by_page():
    query = load_input(Paging, {"limit": "2", "offset": "1"})
    assert page_of_all(list("abcde"), query) == {"items": ["b", "c"], "total": 5, "limit": 2,
                                                 "offset": 1}
    old = load_input(Paging, {"page": "2", "page_size": "2"})
    assert page_answer(["c", "d"], 5, old) == {"items": ["c", "d"], "total": 5, "limit": 2,
                                               "offset": 2, "page": 2, "page_size": 2}
    assert without_paging({"status": "open", "limit": "5", "page": "1"}) == {"status": "open"}
