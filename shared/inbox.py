"""Inbox: each consumer applies an event once (ARCHITECTURE).

`consume()` is the one way a handler applies an event: in one transaction it
records the event id under the handler's key (`<schema>.<handler>`) and runs
the effect; a redelivered event finds its row and is skipped. Two deliveries
at once queue on the primary key, and the second sees the first's commit.

Speed (issue 17): most of a consumer's CPU is per statement (psycopg's send,
the hub's wake-up per round trip), so the inbox row shares its statement:

- `consume_with` adds the handler's own first columns to the statement that
  records the event (a lock, a version it reads), evaluated after the row;
- `consume_statement` runs an effect that is one SQL statement (a read
  model's upsert) as a data-modifying CTE beside the inbox row: one
  autocommit statement, no BEGIN and no COMMIT, atomic all the same.

(A psycopg pipeline for BEGIN + the inbox row saves the round trip but costs
more client CPU than it saves: 0.53 against 0.36 ms per event, measured.)
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from shared import worker_context

R = TypeVar("R")

# The CTE an effect of `consume_statement` guards itself with, and the guard.
FIRST = "inbox_first"
GUARD = f"EXISTS (SELECT FROM {FIRST})"


def inbox_key(schema: str, handler: str) -> str:
    """The inbox key of a handler: `intake.visit_blocked`, `penalty.deadline_missed`."""
    return handler if handler.startswith(f"{schema}.") else f"{schema}.{handler}"


def _inbox_params(schema: str, handler: str, envelope: Mapping[str, Any]) -> dict[str, Any]:
    return {"inbox_handler": inbox_key(schema, handler),
            "inbox_event_id": str(envelope["event_id"]), "inbox_event_type": envelope.get("type")}


def _insert(schema: str) -> str:
    return (f"{FIRST} AS (INSERT INTO {schema}.inbox (handler, event_id, event_type) "
            "VALUES (%(inbox_handler)s, %(inbox_event_id)s, %(inbox_event_type)s) "
            "ON CONFLICT DO NOTHING RETURNING 1)")


def first_delivery(conn: Any, schema: str, handler: str, event_id: object,
                   event_type: str | None = None) -> bool:
    """Record the event for `handler` in this transaction; False if it was already applied."""
    row = conn.execute(
        f"""INSERT INTO {schema}.inbox (handler, event_id, event_type)
            VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1""",
        (inbox_key(schema, handler), str(event_id), event_type)).fetchone()
    return _counted(row is not None)


def _counted(first: bool) -> bool:
    if not first:
        worker_context.note_duplicate()     # ccrm_events_consumed{outcome="duplicate"}
    return first


def consume(db: Any, schema: str, handler: str, envelope: Mapping[str, Any],
            apply: Callable[[Any], R]) -> R | None:
    """Run `apply(conn)` once for this event and handler, in the transaction that
    records it in the inbox; None (nothing done) for a redelivery."""
    with db.transaction() as conn:
        if not first_delivery(conn, schema, handler, envelope["event_id"], envelope.get("type")):
            return None
        return apply(conn)


def _guarded(effects: Sequence[str]) -> str:
    for effect in effects:
        if FIRST not in effect:
            raise ValueError(f"an effect must be guarded by {FIRST}: {effect[:60]}")
    return "".join(f", inbox_effect_{n} AS ({effect})" for n, effect in enumerate(effects))


def consume_with(db: Any, schema: str, handler: str, envelope: Mapping[str, Any],
                 columns: str, params: Mapping[str, Any],
                 apply: Callable[[Any, Mapping[str, Any]], R],
                 effects: Sequence[str] = ()) -> R | None:
    """`consume` whose `apply(conn, row)` gets the row of `SELECT <columns>`
    (named `%(name)s` parameters from `params`) run in the statement that
    records the event, after its inbox row: e.g. the handler's lock, so a
    redelivery waits behind the first delivery as before. A redelivery's
    columns are evaluated for nothing, in a transaction that changes nothing.
    `effects`: data-modifying statements run in that statement too, each
    guarded by `inbox_first` (see `consume_statement`)."""
    with db.transaction() as conn:
        row = conn.execute(
            f"WITH {_insert(schema)}{_guarded(effects)} "
            f"SELECT EXISTS (SELECT FROM {FIRST}) AS inbox_first"
            f"{', ' if columns else ''}{columns}",
            {**params, **_inbox_params(schema, handler, envelope)}).fetchone()
        if not _counted(row["inbox_first"]):
            return None
        return apply(conn, row)


def consume_statement(db: Any, schema: str, handler: str, envelope: Mapping[str, Any],
                      effect: str, params: Mapping[str, Any]) -> bool:
    """Apply an effect that is one data-modifying statement once: `effect`
    (an INSERT/UPDATE that must read `inbox_first`, e.g. `... WHERE EXISTS
    (SELECT FROM inbox_first)`, so a redelivery changes nothing) runs beside
    the inbox row in one autocommit statement. False for a redelivery."""
    with db.connection() as conn:
        row = conn.execute(
            f"WITH {_insert(schema)}{_guarded([effect])} "
            f"SELECT EXISTS (SELECT FROM {FIRST}) AS inbox_first",
            {**params, **_inbox_params(schema, handler, envelope)}).fetchone()
    return _counted(row["inbox_first"])
