"""nameko's web server with SPEC §10's error body for what no route answers.

nameko's WsgiApp answers an unknown URL or a wrong method with werkzeug's
HTML page; a client of the API (and the console's fetch calls) expects the
same JSON `{"error": {"code", "message"}}` as every other error. Routes use
`http` from here, so the gateway's one shared server is this one.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from shared import json_text


def json_error(status: int, code: str, message: str) -> Response:
    """SPEC §10's error body (api.error_response's shape, without a CCRMError)."""
    body = json_text.dumps({"error": {"code": code, "message": message}})
    return Response(body, status=status, mimetype="application/json")


class JsonErrorWsgiApp(WsgiApp):

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
        except NotFound:
            response = json_error(404, "not_found",
                                  f"没有这个地址 (no such URL: {request.path})")
        except MethodNotAllowed as exc:
            allowed = sorted(exc.valid_methods or ())
            response = json_error(405, "method_not_allowed",
                                  f"此地址不接受 {request.method} 请求，可用：{', '.join(allowed)} "
                                  f"({request.method} not allowed here; allowed: "
                                  f"{', '.join(allowed)})")
            response.headers["Allow"] = ", ".join(allowed)
        except HTTPException as exc:   # e.g. a redirect werkzeug's routing asks for
            return exc(environ, start_response)
        else:
            request.path_values = values
            try:
                response = provider.handle_request(request)
            except HTTPException as exc:
                response = exc
        return response(environ, start_response)


class JsonErrorWebServer(WebServer):

    def get_wsgi_app(self) -> WsgiApp:
        return JsonErrorWsgiApp(self)


# An entrypoint marked so takes `(self, request, **path_args)` (api.route's
# wrapper): any request and any path values bind to it.
ANY_PATH_ARGS = "__takes_any_path_args__"


def takes_any_path_args(fn: Callable[..., Any]) -> Callable[..., Any]:
    setattr(fn, ANY_PATH_ARGS, True)
    return fn


class JsonHttpRequestHandler(HttpRequestHandler):
    server = JsonErrorWebServer()

    def check_signature(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """nameko's runs `inspect.getcallargs` on every request (8 % of the
        gateway's CPU in an older profile, issue 17); an entrypoint that takes
        any path values cannot fail it, so it is skipped for those."""
        if getattr(getattr(self.container.service_cls, self.method_name), ANY_PATH_ARGS, False):
            return
        super().check_signature(args, kwargs)


http = JsonHttpRequestHandler.decorator
