"""`Observability(service)`: one line in each service class (issue 8).

On start it serves /metrics on METRICS_ADDRESS (shared.metrics_server) and
starts the hub watch (shared.hub_watch). Around every worker it times the
entrypoint (ccrm_handler_seconds), counts consumed events by outcome, and sets
the worker's correlation id (shared.worker_context) for logs and outbox:

- event handler: the message's `nameko.correlation_id` header (the outbox
  relay sets it), else the envelope's `correlation_id`;
- RPC: the caller's context data (nameko sends `worker_ctx.data` as headers),
  else a new one;
- HTTP: a valid UUID in `X-Correlation-Id`, else a new one (the gateway
  echoes it, services.gateway.api);
- timer: none; events a timer emits get one each, as they have no common cause.

The id is put in `worker_ctx.data`, so every RPC the worker makes carries it on.
"""
from __future__ import annotations

import inspect
import json
import logging
import time
from typing import Any

from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.timer import Timer
from nameko.web.handlers import HttpRequestHandler

from shared import hub_watch, logs, metrics, metrics_server, worker_context
from shared.worker_context import CONTEXT_KEY, new_correlation_id, valid_correlation_id

log = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-Id"
DEFAULT_HUB_BLOCK_LIMIT = 1.0
# What sla's engine answers for a delivery; anything else counts as applied.
OUTCOMES = frozenset({"applied", "duplicate", "ignored", "parked", "invalid"})


def entrypoint_kind(entrypoint: Any) -> str:
    for cls, kind in ((EventHandler, "event"), (Rpc, "rpc"), (HttpRequestHandler, "http"),
                      (Timer, "timer")):
        if isinstance(entrypoint, cls):
            return kind
    return "other"


class Observability(DependencyProvider):

    def __init__(self, service: str) -> None:
        self.service = service
        self.server: metrics_server.MetricsServer | None = None
        self.watching = False
        self._signatures: dict[str, inspect.Signature] = {}

    def setup(self) -> None:
        config = self.container.config
        logs.set_process_service(self.service)
        self.block_limit = float(config.get("HUB_BLOCK_LIMIT") or DEFAULT_HUB_BLOCK_LIMIT)
        address = metrics_server.parse_address(config.get("METRICS_ADDRESS"))
        if address is not None:
            self.server = metrics_server.acquire(address)    # a taken port fails here

    def start(self) -> None:
        if self.server is not None:
            self.server.start()
        hub_watch.acquire(self.service, self.block_limit)
        self.watching = True

    def stop(self) -> None:
        if self.watching:
            self.watching = False
            hub_watch.release()
        if self.server is not None:
            server, self.server = self.server, None
            metrics_server.release(server)

    kill = stop

    # -- around each worker -----------------------------------------------------------

    def worker_setup(self, worker_ctx: Any) -> None:
        kind = entrypoint_kind(worker_ctx.entrypoint)
        correlation: str | None = None
        complaint: Any = None
        if kind == "event":
            envelope = _envelope(worker_ctx.args[0] if worker_ctx.args else None)
            correlation = (valid_correlation_id(worker_ctx.data.get(CONTEXT_KEY))
                           or valid_correlation_id(envelope.get("correlation_id"))
                           or new_correlation_id())
            complaint = envelope.get("complaint_id")
        elif kind == "http":
            request = worker_ctx.args[0] if worker_ctx.args else None
            header = request.headers.get(CORRELATION_HEADER) if request is not None else None
            correlation = valid_correlation_id(header) or new_correlation_id()
            complaint = worker_ctx.kwargs.get("complaint_id")
        elif kind == "rpc":
            correlation = (valid_correlation_id(worker_ctx.data.get(CONTEXT_KEY))
                           or new_correlation_id())
            complaint = self._argument(worker_ctx, "complaint_id")
        if correlation is not None:
            worker_ctx.data[CONTEXT_KEY] = correlation
        worker_context.begin(self.service, correlation,
                             complaint if isinstance(complaint, str) else None,
                             kind=kind, started=time.perf_counter())

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        context = worker_context.current()
        if context is None or context.started is None:
            return
        metrics.handler_seconds.labels(self.service, worker_ctx.entrypoint.method_name).observe(
            time.perf_counter() - context.started)
        if context.kind == "event":
            if exc_info is not None:
                outcome = "failed"
            elif isinstance(result, str) and result in OUTCOMES:
                outcome = result
            else:
                outcome = "duplicate" if context.duplicate else "applied"
            envelope = _envelope(worker_ctx.args[0] if worker_ctx.args else None)
            event_type = envelope.get("type")
            if not isinstance(event_type, str) or not 0 < len(event_type) <= 100:
                event_type = getattr(worker_ctx.entrypoint, "event_type", "?")  # its pattern
            metrics.events_consumed.labels(self.service, event_type, outcome).inc()

    def worker_teardown(self, worker_ctx: Any) -> None:
        worker_context.end()

    def _argument(self, worker_ctx: Any, name: str) -> Any:
        """The value of parameter `name` of the called method, if it has one."""
        method = worker_ctx.entrypoint.method_name
        signature = self._signatures.get(method)
        if signature is None:
            signature = self._signatures[method] = inspect.signature(
                getattr(self.container.service_cls, method))
        if name not in signature.parameters:
            return None
        try:
            bound = signature.bind_partial(None, *worker_ctx.args, **worker_ctx.kwargs)
        except TypeError:
            return None
        return bound.arguments.get(name)


def _envelope(payload: Any) -> dict[str, Any]:
    """The event as a dict (nameko hands over the decoded JSON; be lenient)."""
    if isinstance(payload, (bytes, str)):
        try:
            payload = json.loads(payload)
        except ValueError:
            return {}
    return payload if isinstance(payload, dict) else {}
