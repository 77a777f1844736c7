"""The gateway's checks of a request's input before any schema (issue 8):
a JSON object of bounded depth, no NUL anywhere; and token expiry."""
from datetime import UTC, datetime, timedelta

import pytest

from services.gateway import bodies
from services.gateway.auth import check_token
from shared.errors import InvalidInput, Unauthenticated

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def refused(raw):
    with pytest.raises(InvalidInput) as caught:
        bodies.parse_object(raw)
    return caught.value.fields


@pytest.mark.parametrize("raw", [b'{"a": ', b"[]", b"42", b'"x"', b"null", b'{"a": NaN}',
                                 b'{"a": -Infinity}', b"\xff\xfe{\x00}\x00", b"\xc3\x28"])
def test_only_a_json_object_in_utf8_is_a_body(raw):
    assert "_body" in refused(raw)


def test_an_empty_body_is_an_empty_object():
    assert bodies.parse_object(b"") == {} and bodies.parse_object(b"  \n") == {}


def test_depth_is_bounded_even_past_the_recursion_limit():
    depth = bodies.MAX_JSON_DEPTH
    assert bodies.parse_object(b'{"a":' * depth + b"1" + b"}" * depth)
    assert "_body" in refused(b'{"a":' * (depth + 1) + b"1" + b"}" * (depth + 1))
    assert "_body" in refused(b'{"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}")


def test_nul_is_named_by_its_path_wherever_it_is():
    fields = refused(b'{"note": "a\\u0000b", "ids": ["ok", "x\\u0000"], "d": {"k\\u0000": 1}}')
    assert set(fields) == {"note", "ids.1", "d.k\\u0000"}
    with pytest.raises(InvalidInput) as caught:
        bodies.refuse_nul([("q", "fine"), ("person_id", "a\x00"), ("q", "b\x00")])
    assert set(caught.value.fields) == {"person_id", "q"}
    bodies.refuse_nul([("q", "中文 <script>")])


def test_a_token_without_an_expiry_or_past_it_is_refused():
    row = {"revoked_at": None, "expires_at": NOW + timedelta(seconds=1)}
    assert check_token(row, NOW) is row
    for bad in ({"revoked_at": None, "expires_at": NOW}, {"revoked_at": None, "expires_at": None},
                {"revoked_at": NOW, "expires_at": NOW + timedelta(days=1)}, None):
        with pytest.raises(Unauthenticated):
            check_token(bad, NOW)
