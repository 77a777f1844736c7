"""Gateway pieces that need no server: tokens, durations, the error body,
the OpenAPI document."""
from datetime import timedelta

import pytest
from marshmallow import ValidationError
from nameko.exceptions import RemoteError
from openapi_spec_validator import validate

import services.gateway.service  # noqa: F401  (fills the route table)
from services.gateway.api import ROUTES, translate
from services.gateway.auth import bearer_token, token_hash
from services.gateway.openapi import build_spec
from services.gateway.schemas import ClockChange
from shared.errors import Conflict, InvalidInput, Unauthenticated


@pytest.mark.parametrize("text, expected", [
    ("PT90M", timedelta(minutes=90)), ("P1DT2H", timedelta(days=1, hours=2)),
    ("PT30S", timedelta(seconds=30)), ("-PT1H", -timedelta(hours=1)), ("P3D", timedelta(days=3)),
])
def test_clock_advance_takes_iso_durations(text, expected):
    assert ClockChange().load({"advance": text})["advance"] == expected


@pytest.mark.parametrize("text", ["90", "PT", "P", "1H", "PT1.5H", "P1DT"])
def test_bad_durations_are_refused_with_a_message(text):
    with pytest.raises(ValidationError) as caught:
        ClockChange().load({"advance": text})
    assert "ISO 8601" in caught.value.messages["advance"][0]


def test_clock_change_needs_exactly_one_of_now_and_advance():
    with pytest.raises(ValidationError):
        ClockChange().load({})
    with pytest.raises(ValidationError):
        ClockChange().load({"advance": "PT1H", "now": "2026-11-27T09:30:00+08:00"})


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer " + "x" * 300])
def test_malformed_authorization_is_401(header):
    with pytest.raises(Unauthenticated):
        bearer_token(header)


def test_token_is_stored_only_as_its_hash():
    assert bearer_token("Bearer abc") == "abc"
    assert token_hash("abc") != "abc" and len(token_hash("abc")) == 64


def test_remote_domain_errors_keep_their_status_and_fields():
    remote = RemoteError("InvalidInput", str(InvalidInput({"room": ["必填"]})))
    error = translate(remote)
    assert error.status == 400 and error.fields == {"room": ["必填"]}
    assert translate(RemoteError("Conflict", str(Conflict("wrong state")))).status == 409


def test_unexpected_errors_never_show_a_stack_trace():
    error = translate(KeyError("secret internals"))
    assert error.status == 500
    assert "secret internals" not in error.message and "internal error" in error.message


def test_openapi_document_is_valid_and_covers_every_route():
    document = build_spec()
    validate(document)
    for route in ROUTES:
        path = route.path.replace("<", "{").replace(">", "}")
        assert route.method.lower() in document["paths"][path]
    assert "ClockChange" in document["components"]["schemas"]


def test_a_services_own_error_class_keeps_its_code_and_status():
    class DirectoryIncomplete(Conflict):
        code = "directory_incomplete"

    error = translate(RemoteError("DirectoryIncomplete",
                                  str(DirectoryIncomplete("缺少部门一把手"))))
    assert (error.status, error.code, error.message) == (
        409, "directory_incomplete", "缺少部门一把手")


def test_a_call_while_the_broker_is_down_is_503_not_500():
    """A broker restart refuses the RPC's publish: the caller is told to retry
    (503), not shown an internal error (found by the fault test)."""
    import kombu.exceptions

    from shared import rpc
    from shared.errors import Unavailable

    class BrokerDown:
        service_name = "media"

        def upload(self, *args):
            raise kombu.exceptions.OperationalError("[Errno 111] ECONNREFUSED")

    with pytest.raises(Unavailable) as refused:
        rpc.call(BrokerDown(), "upload", b"", timeout=1)
    assert refused.value.status == 503 and "media" in str(refused.value)
