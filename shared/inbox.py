"""Inbox: each consumer applies an event once (ARCHITECTURE).

`consume()` is the one way a handler applies an event: in one transaction it
records the event id under the handler's key (`<schema>.<handler>`) and runs
the effect; a redelivered event finds its row and is skipped. Two deliveries
at once queue on the primary key, and the second sees the first's commit.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from shared import worker_context

R = TypeVar("R")


def inbox_key(schema: str, handler: str) -> str:
    """The inbox key of a handler: `intake.visit_blocked`, `penalty.deadline_missed`."""
    return handler if handler.startswith(f"{schema}.") else f"{schema}.{handler}"


def first_delivery(conn: Any, schema: str, handler: str, event_id: object,
                   event_type: str | None = None) -> bool:
    """Record the event for `handler` in this transaction; False if it was already applied."""
    row = conn.execute(
        f"""INSERT INTO {schema}.inbox (handler, event_id, event_type)
            VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1""",
        (inbox_key(schema, handler), str(event_id), event_type)).fetchone()
    if row is None:
        worker_context.note_duplicate()     # ccrm_events_consumed{outcome="duplicate"}
    return row is not None


def consume(db: Any, schema: str, handler: str, envelope: Mapping[str, Any],
            apply: Callable[[Any], R]) -> R | None:
    """Run `apply(conn)` once for this event and handler, in the transaction that
    records it in the inbox; None (nothing done) for a redelivery."""
    with db.transaction() as conn:
        if not first_delivery(conn, schema, handler, envelope["event_id"], envelope.get("type")):
            return None
        return apply(conn)
