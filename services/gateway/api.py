"""Declaring HTTP routes once: nameko's `@http`, auth, roles, input schemas,
error translation, and the route table the OpenAPI document is built from.

A handler is a method `(self, request, principal, payload, **path_args)` that
returns a JSON-able value (or `(status, value)`). Everything around it is
here, so no handler can forget authentication or leak a stack trace.
"""
import functools
import logging
import uuid
from dataclasses import dataclass, field

from nameko.exceptions import RemoteError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from services.gateway import bodies
from services.gateway.bodies import MAX_JSON_BYTES
from services.gateway.idempotency import check_key
from services.gateway.web_server import http, takes_any_path_args
from shared import json_text, worker_context
from shared.errors import CCRMError, TooLarge, from_remote
from shared.observability import CORRELATION_HEADER
from shared.validation import load_input

log = logging.getLogger(__name__)


@dataclass
class RouteSpec:
    method: str
    path: str
    summary: str
    roles: frozenset | None
    body: type | None = None
    query: type | None = None
    response: type | None = None
    status: int = 200
    public: bool = False
    tags: tuple = ()
    content: str = "application/json"
    handler: str = ""
    description: str = ""
    extra: dict = field(default_factory=dict)


ROUTES = []


def json_response(status, value):
    return Response(json_text.dumps(value), status=status, mimetype="application/json")


def echo_correlation_id(response):
    """X-Correlation-Id: the id this request's events and log lines carry
    (taken from the request when it sent a UUID, else new; shared.observability)."""
    correlation = worker_context.correlation_id()
    if correlation is not None:
        response.headers[CORRELATION_HEADER] = correlation
    return response


def error_response(error):
    return json_response(error.status, error.to_body())


def translate(exc):
    """Any exception -> a CCRMError that is safe to show a user."""
    if isinstance(exc, CCRMError):
        return exc
    if isinstance(exc, RequestEntityTooLarge):
        return TooLarge("请求体过大 (request body too large)")
    if isinstance(exc, RemoteError):
        mapped = from_remote(exc.exc_type, exc.value)
        if mapped is not None:
            return mapped
    reference = uuid.uuid4().hex[:12]
    log.error("unexpected error (reference %s)", reference, exc_info=exc)
    return CCRMError(f"系统内部错误，请联系管理员并提供编号 {reference} (internal error)")


def read_json(request):
    """The body as a JSON object ({} when empty): 413 over MAX_JSON_BYTES,
    415 unless sent as JSON, 400 for anything but a JSON object of bounded
    depth without NUL characters (see bodies)."""
    request.max_content_length = MAX_JSON_BYTES
    raw = request.get_data(cache=True)
    if raw.strip():
        bodies.require_json_type(request)
    return bodies.parse_object(raw)


def load_json(request, schema_cls):
    """Parse and validate a JSON body: 400 with per-field messages on failure."""
    return load_mapping(schema_cls, read_json(request))


load_mapping = load_input


def route(method, path, *, summary, roles=None, body=None, query=None, response=None,
          status=200, public=False, tags=(), content="application/json", description=""):
    """Register an HTTP entrypoint. `roles=None` means any signed-in person."""

    def decorate(fn):
        spec = RouteSpec(method, path, summary, frozenset(roles) if roles else None, body,
                         query, response, status, public, tuple(tags), content, fn.__name__,
                         description)
        ROUTES.append(spec)

        def respond(self, request, **path_args):
            try:
                if content == "application/json":
                    request.max_content_length = MAX_JSON_BYTES
                principal = None if public else self.authenticate(request)
                if roles is not None and principal is not None:
                    principal.require(roles, summary)
                replay, key = None, None
                if (method == "POST" and principal is not None and content == "application/json"
                        and request.headers.get("Idempotency-Key") is not None):
                    key = check_key(request.headers.get("Idempotency-Key"))
                    replay = self.idempotency_begin(principal.person_id, key, request)
                    if replay is not None:
                        return Response(replay[1], status=replay[0], mimetype="application/json",
                                        headers={"Idempotent-Replayed": "true"})
                try:
                    response = _run(self, request, principal, path_args)
                except Exception:
                    if key is not None:
                        self.idempotency_release(principal.person_id, key)
                    raise
                if key is not None:
                    self.idempotency_finish(principal.person_id, key, response)
                return response
            except Exception as exc:  # noqa: BLE001 - every error becomes SPEC §10's body
                return error_response(translate(exc))

        def _run(self, request, principal, path_args):
            payload = None
            # NUL cannot be stored in text anywhere: refused as a field error
            bodies.refuse_nul(path_args.items())
            bodies.refuse_nul(request.args.items(multi=True))
            if body is not None and content.startswith("multipart"):
                bodies.require_multipart(request)
                request.max_content_length = self.max_upload_bytes()
                bodies.refuse_nul(request.form.items(multi=True))
                payload = load_mapping(body, request.form.to_dict())
            elif body is not None:
                # a form that checks times against now (intake's RecordForm) gets the
                # gateway's clock: its first 400 already names every field
                payload = load_json(request, body(now=self.clock.now())
                                    if getattr(body, "takes_now", False) else body)
            elif query is not None:
                payload = load_mapping(query, request.args.to_dict())
            elif method == "POST" and content == "application/json":
                read_json(request)      # no fields to take, but still a sound body
            result = fn(self, request, principal=principal, payload=payload, **path_args)
            if isinstance(result, Response):
                return result
            if isinstance(result, tuple):
                return json_response(*result)
            return json_response(status, result)

        @takes_any_path_args        # nameko's signature check cannot fail: skipped
        @functools.wraps(fn)
        def entrypoint(self, request, **path_args):
            return echo_correlation_id(respond(self, request, **path_args))

        return http(method, path)(entrypoint)

    return decorate
