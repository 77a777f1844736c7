"""nameko checks an entrypoint's signature with `inspect.getcallargs` on every
HTTP request; the gateway's routes (api.route: `(self, request, **path_args)`)
cannot fail it and skip it (issue 17), other entrypoints are still checked."""
import inspect
from types import SimpleNamespace

import pytest
from nameko.exceptions import IncorrectSignature

from services.gateway.api import ROUTES
from services.gateway.service import GatewayService
from services.gateway.web_server import ANY_PATH_ARGS, JsonHttpRequestHandler


class Plain:
    def page(self, request):
        return "page"


def handler_of(service_cls, method_name):
    handler = JsonHttpRequestHandler("GET", "/x")
    handler.container = SimpleNamespace(service_cls=service_cls)
    handler.method_name = method_name
    return handler


def test_a_route_skips_getcallargs_and_other_entrypoints_are_still_checked(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("getcallargs called")

    with monkeypatch.context() as patch:
        patch.setattr(inspect, "getcallargs", refuse)
        handler_of(GatewayService, "me").check_signature(("request",), {})
        handler_of(GatewayService, "get_media").check_signature(("request",),
                                                                {"media_id": "M1"})
    plain = handler_of(Plain, "page")
    plain.check_signature(("request",), {})
    with pytest.raises(IncorrectSignature):
        plain.check_signature(("request",), {"extra": 1})


def test_every_declared_route_is_marked():
    assert ROUTES
    for spec in ROUTES:
        entrypoint = getattr(GatewayService, spec.handler)
        assert getattr(entrypoint, ANY_PATH_ARGS, False), spec.handler
