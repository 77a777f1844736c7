"""What the running nameko worker is about: its correlation id (SPEC §7), the
complaint when known, and whether the inbox found its event a duplicate.

Kept in a `contextvars.ContextVar`: greenlet gives every green thread its own
context, so each nameko worker (one green thread) sees only its own values,
with or without eventlet's monkey-patching. Code outside a worker (relay
loops, scripts) sees None everywhere.
"""
from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass

# The key nameko carries between services: RPC and event headers
# `nameko.correlation_id`, `worker_ctx.data["correlation_id"]`.
CONTEXT_KEY = "correlation_id"


@dataclass
class WorkerContext:
    service: str
    correlation_id: str | None = None
    complaint_id: str | None = None
    duplicate: bool = False
    kind: str | None = None          # rpc, event, http, timer
    started: float | None = None     # time.perf_counter() at worker set-up


_current: contextvars.ContextVar[WorkerContext | None] = contextvars.ContextVar(
    "ccrm_worker_context", default=None)


def begin(service: str, correlation_id: str | None = None, complaint_id: str | None = None,
          kind: str | None = None, started: float | None = None) -> WorkerContext:
    """Called when a worker starts (shared.observability); returns its context."""
    context = WorkerContext(service, correlation_id, complaint_id, kind=kind, started=started)
    _current.set(context)
    return context


def end() -> None:
    _current.set(None)


def current() -> WorkerContext | None:
    return _current.get()


def correlation_id() -> str | None:
    """The running worker's correlation id, or None outside a worker."""
    context = _current.get()
    return context.correlation_id if context is not None else None


def complaint_id() -> str | None:
    context = _current.get()
    return context.complaint_id if context is not None else None


def note_complaint(complaint_id: object) -> None:
    """Code that learns the complaint later (e.g. one just recorded) may say so."""
    context = _current.get()
    if context is not None and complaint_id:
        context.complaint_id = str(complaint_id)


def note_duplicate() -> None:
    """The inbox saw this event before (shared.inbox): counted as `duplicate`."""
    context = _current.get()
    if context is not None:
        context.duplicate = True


def valid_correlation_id(value: object) -> str | None:
    """`value` as a canonical UUID string, or None: the envelope's
    correlation_id is a UUID, so anything else from outside is not taken."""
    if not value or not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def new_correlation_id() -> str:
    return str(uuid.uuid4())
