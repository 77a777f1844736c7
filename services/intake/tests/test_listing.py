"""The list's pure parts (services/intake/listing.py): free text as a LIKE
pattern with its wildcards taken literally, phone digits, the day range in
the group's zone, the sort whitelist, and every typed value as a parameter."""
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from services.intake import listing
from shared.contracts.intake import forms

ZONE = timezone(timedelta(hours=8))


def query(**given):
    return forms.load(forms.ListFilters(), given)


@pytest.mark.parametrize("text, pattern", [
    ("王小明", "%王小明%"), ("50%", "%50\\%%"), ("a_b", "%a\\_b%"), ("c:\\x", "%c:\\\\x%"),
])
def test_free_text_is_a_pattern_with_its_wildcards_taken_literally(text, pattern):
    assert listing.like_pattern(text) == pattern


@pytest.mark.parametrize("text, digits", [
    ("138 1234 5678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
    ("020-1234", "0201234"), ("5678", "5678"), ("12", None), ("王小明", None),
    ("3-2-1801", "321801"),
])
def test_phone_digits(text, digits):
    assert listing.phone_digits(text) == digits


def test_every_typed_value_travels_as_a_parameter():
    nasty = "'; DROP TABLE intake.complaints; --"
    where = listing.conditions(query(q=nasty, project_id=nasty, handler_id=nasty), ZONE)
    sql = " ".join(where.conditions)
    assert "DROP" not in sql and nasty in where.params.values()
    assert where.params["q"] == listing.like_pattern(nasty)


def test_the_day_range_is_whole_days_in_the_groups_zone():
    where = listing.conditions(query(**{"from": "2026-11-01", "to": "2026-11-30"}), ZONE)
    assert where.params["recorded_from"] == datetime(2026, 11, 1, tzinfo=ZONE)
    assert where.params["recorded_before"] == datetime(2026, 12, 1, tzinfo=ZONE)
    assert listing.day_start(date(2026, 11, 27), ZONE).utcoffset() == timedelta(hours=8)


def test_voided_complaints_leave_the_list_unless_asked_for():
    assert "c.state <> 'voided'" in listing.conditions(query(), ZONE).conditions
    asked = listing.conditions(query(status="voided"), ZONE)
    assert asked.params["state"] == "voided" and "c.state <> 'voided'" not in asked.conditions


@pytest.mark.parametrize("sort, sql", [
    (None, " ORDER BY c.recorded_at DESC, c.id DESC"),
    ("recorded_at", " ORDER BY c.recorded_at ASC, c.id ASC"),
    ("-requested_completion_at", " ORDER BY c.requested_completion_at DESC, c.id DESC"),
    ("id", " ORDER BY c.id ASC"),
])
def test_sorting_is_a_whitelist_with_the_id_breaking_ties(sort, sql):
    assert listing.order_by(sort) == sql
    with pytest.raises(KeyError):
        listing.order_by("customer_name; DROP TABLE x")


def test_the_names_default_to_none():
    names = listing.Names({"GZ-P01": "御景半岛"}, {"p1": "李思琪"})
    assert (names.project("GZ-P01"), names.project("GZ-P09"), names.person(None)) == (
        "御景半岛", None, None)


def test_due_today_is_in_work_and_asked_for_on_the_shared_clocks_date_in_the_zone():
    # 23:30 on Nov 27 in UTC is already Nov 28 in the group's zone (UTC+8)
    now = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    where = listing.conditions(query(due="today"), ZONE, now=now)
    assert where.params["due_from"] == datetime(2026, 11, 28, tzinfo=ZONE)
    assert where.params["due_before"] == datetime(2026, 11, 29, tzinfo=ZONE)
    assert any("c.state = 'order_signed'" in c for c in where.conditions)
    assert "due_from" not in listing.conditions(query(), ZONE, now=now).params
    with pytest.raises(ValueError):
        listing.conditions(query(due="today"), ZONE)


@pytest.mark.parametrize("value", ["tomorrow", "TODAY", ""])
def test_due_takes_only_today(value):
    with pytest.raises(Exception) as caught:
        query(due=value)
    assert "due" in caught.value.fields
