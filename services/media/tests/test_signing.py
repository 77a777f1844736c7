"""The canonical form a signature's record hash is taken of (shared.signing)."""
import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

import pytest

from shared.signing import NotCanonical, canonical_form, record_sha256

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_sorted_keys_no_whitespace_utf8_text():
    assert canonical_form({"b": 1, "a": {"d": [1, 2], "c": "张三"}}) == \
        '{"a":{"c":"张三","d":[1,2]},"b":1}'


def test_key_order_does_not_change_the_hash():
    assert record_sha256({"a": 1, "b": 2}) == record_sha256({"b": 2, "a": 1})


def test_datetimes_are_iso_in_utc_whatever_their_zone():
    local = datetime(2026, 11, 27, 10, 42, tzinfo=SHANGHAI)
    utc = datetime(2026, 11, 27, 2, 42, tzinfo=UTC)
    assert canonical_form({"at": local}) == '{"at":"2026-11-27T02:42:00+00:00"}'
    assert record_sha256({"at": local}) == record_sha256({"at": utc})


def test_naive_datetime_is_refused():
    with pytest.raises(NotCanonical):
        canonical_form({"at": datetime(2026, 11, 27, 10, 42)})


@pytest.mark.parametrize("value, text", [
    (Decimal("1300"), "1300"), (Decimal("1300.00"), "1300"), (Decimal("1.3E+3"), "1300"),
    (Decimal("0.50"), "0.5"), (Decimal("-0.00"), "0"), (Decimal("12.34"), "12.34"),
])
def test_decimals_are_strings_of_their_value(value, text):
    assert canonical_form({"amount": value}) == f'{{"amount":"{text}"}}'


def test_decimal_nan_is_refused():
    with pytest.raises(NotCanonical):
        canonical_form({"amount": Decimal("NaN")})


def test_float_nan_is_refused():
    with pytest.raises(NotCanonical):
        canonical_form({"x": float("nan")})


def test_uuid_dates_sets_and_tuples():
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    record = {"id": ident, "day": date(2026, 11, 27), "tags": {"b", "a"}, "pair": (1, 2)}
    assert canonical_form(record) == \
        '{"day":"2026-11-27","id":"12345678-1234-5678-1234-567812345678","pair":[1,2],"tags":["a","b"]}'


class Channel(Enum):
    VISIT = "visit"


def test_enums_are_their_value():
    assert canonical_form({"channel": Channel.VISIT}) == '{"channel":"visit"}'


def test_unknown_types_are_refused():
    with pytest.raises(NotCanonical):
        canonical_form({"x": object()})
    with pytest.raises(NotCanonical):
        canonical_form(["not", "a", "dict"])


def test_hash_is_sha256_of_the_utf8_canonical_form():
    record = {"room": "1-2-301", "demand": "漏水", "at": datetime(2026, 1, 1, tzinfo=UTC)}
    expected = hashlib.sha256(canonical_form(record).encode("utf-8")).hexdigest()
    assert record_sha256(record) == expected
    assert len(expected) == 64


def test_any_change_to_the_record_changes_the_hash():
    record = {"demand": "漏水", "requested_completion_at": datetime(2026, 12, 1, tzinfo=SHANGHAI)}
    changed = dict(record, requested_completion_at=record["requested_completion_at"]
                   + timedelta(seconds=1))
    assert record_sha256(record) != record_sha256(changed)
    assert record_sha256(record) != record_sha256(dict(record, demand="漏水 "))
