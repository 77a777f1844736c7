"""One batch of the outbox relay (shared.outbox.OutboxRelay), in two round trips.

A batch was five statements and five round trips (BEGIN; the advisory lock;
SELECT the rows; UPDATE them; COMMIT), an empty wake four: at one complaint
life a second that was a quarter of the suite's statements (issue 17). Now a
batch, and an empty wake alike, is three statements in two round trips:

1. `BEGIN; EXECUTE <claim>`, one simple-protocol message. The claim is one
   `UPDATE ... RETURNING` (`claim_sql`), prepared once per connection with
   SQL's PREPARE so the server plans it once. An InitPlan takes the advisory
   lock, once and first (EXPLAIN: a One-Time Filter gates the read of the
   ids), so only the relay holding the lock reads and marks anything.
2. the rows are published with confirms, as before;
3. `COMMIT`.

Marking before publishing keeps "marked only once confirmed": the mark lives
in this transaction, which commits only after the confirms; a relay that
dies rolls it back and the rows go out again (at least once, as before). A
publish failure un-marks the rows not confirmed and commits the confirmed
prefix, then raises; nothing confirmed rolls back.

The statement's snapshot is taken before its lock: the previous holder may
have committed its marks in between. `published_at IS NULL` on the UPDATE
itself is checked again on the newest version of such a row (READ
COMMITTED), which is skipped instead of being sent twice.

The lock key is the old one, `hashtext('outbox:<schema>')`: relays of the
old and new code exclude each other during a rolling deploy.

(psycopg's pipeline for BEGIN + claim costs more client CPU than the round
trip it saves, as for shared.inbox; measured in docs/benchmarks.md.)
"""
from __future__ import annotations

import logging
import weakref
from typing import Any, Protocol

import psycopg
from psycopg.pq import TransactionStatus

from shared import metrics
from shared.db import Database

log = logging.getLogger(__name__)

CONFIRM_WINDOW = 100
_OPEN = (TransactionStatus.INTRANS, TransactionStatus.INERROR)
# The claims prepared on each connection (SQL-level PREPARE lives as long as
# the server's session, which is as long as the connection object).
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


class Publisher(Protocol):
    def publish_many(self, messages: list[tuple[str, str, str, str, dict[str, Any]]]) -> int:
        ...


def lock_key_sql(schema: str) -> str:
    """The SQL of the relay's advisory lock key (the old relay's, unchanged)."""
    return f"hashtext('outbox:{schema}')"


def claim_sql(schema: str, batch_size: int) -> str:
    """Take the schema's relay lock and, only if got, mark the first
    `batch_size` unpublished rows and return them (in no order)."""
    return f"""UPDATE {schema}.outbox SET published_at = now()
                WHERE published_at IS NULL
                  AND id = ANY(ARRAY(
                      SELECT id FROM {schema}.outbox
                       WHERE published_at IS NULL
                         AND (SELECT pg_try_advisory_xact_lock({lock_key_sql(schema)}))
                       ORDER BY id LIMIT {int(batch_size)}))
            RETURNING id, event_id, exchange, routing_key, body"""


def relay_once(database: Database, schema: str, publisher: Publisher, batch_size: int = 500,
               service: str | None = None) -> int:
    """Publish one batch in id order; return how many rows were published
    (counted under `service`, default the schema's name).

    An advisory lock makes one relay per schema active at a time, so events
    leave in the order they were committed even with several instances."""
    with database.connection() as conn:
        try:
            rows = _claim(conn, schema, batch_size)
            published, failure = _publish(rows, publisher, service or schema)
            if failure is not None:
                if not published:
                    raise failure           # nothing to keep: rolled back below
                unsent = [row["id"] for row in rows[len(published):]]
                conn.execute(f"UPDATE {schema}.outbox SET published_at = NULL "
                             "WHERE id = ANY(%s)", (unsent,), prepare=False)
            # COMMIT, not ROLLBACK, for an empty claim too: psycopg answers a
            # ROLLBACK by deallocating every prepared statement of the session.
            conn.execute(b"COMMIT", prepare=False)
        except BaseException:
            _rollback(conn)
            raise
    if failure is not None:
        raise failure
    return len(published)


def _claim(conn: Any, schema: str, batch_size: int) -> list[Any]:
    """BEGIN and the claim, in one round trip (two the first time on a connection)."""
    name = f"outbox_claim_{schema}_{int(batch_size)}"
    try:
        return _begin_and_claim(conn, schema, batch_size, name)
    except psycopg.errors.InvalidSqlStatementName:
        # Deallocated meanwhile: psycopg does so on any ROLLBACK of a session
        # where it has prepared statements of its own.
        _prepared.get(conn, set()).discard(name)
        _rollback(conn)
        return _begin_and_claim(conn, schema, batch_size, name)


def _begin_and_claim(conn: Any, schema: str, batch_size: int, name: str) -> list[Any]:
    known = _prepared.setdefault(conn, set())
    if name not in known:
        try:
            conn.execute(f"PREPARE {name} AS {claim_sql(schema, batch_size)}", prepare=False)
        except psycopg.errors.DuplicatePreparedStatement:
            pass                            # prepared before, not known here
        known.add(name)
    cursor = conn.execute(f"BEGIN; EXECUTE {name}".encode(), prepare=False)
    cursor.nextset()                        # BEGIN's result, then the claim's
    return sorted(cursor.fetchall(), key=lambda row: row["id"])


def _publish(rows: list[Any], publisher: Publisher,
             service: str) -> tuple[list[int], Exception | None]:
    """Publish in windows of CONFIRM_WINDOW; return the ids confirmed, a
    prefix of `rows`, and the failure that stopped it if any."""
    published: list[int] = []
    # A window of messages per confirm wait: fewer round trips, and a
    # failure redoes at most one window (at least once, as before).
    for start in range(0, len(rows), CONFIRM_WINDOW):
        window = rows[start:start + CONFIRM_WINDOW]
        messages = []
        for row in window:
            correlation = _correlation_id(row["body"])
            messages.append((row["exchange"], row["routing_key"], row["body"],
                             str(row["event_id"]),
                             {"nameko.correlation_id": correlation} if correlation else {}))
        try:
            confirmed = publisher.publish_many(messages)
        except Exception as exc:  # noqa: BLE001 - raised after the confirmed are committed
            _count(window[:getattr(exc, "confirmed", 0)], published, service)
            return published, exc
        _count(window[:confirmed], published, service)
    return published, None


def _rollback(conn: Any) -> None:
    """Leave a failed batch's transaction so the connection can be reused
    (one still inside is closed by the pool, which rolls it back too)."""
    if conn.closed or conn.broken or conn.info.transaction_status not in _OPEN:
        return
    try:
        conn.execute(b"ROLLBACK", prepare=False)
    except psycopg.Error as exc:     # the connection is lost: the pool drops it
        log.warning("ROLLBACK after a failed outbox batch failed: %s", exc)


def _count(rows: list[Any], published: list[int], service: str) -> None:
    per_type: dict[str, int] = {}
    for row in rows:
        published.append(row["id"])
        per_type[row["routing_key"]] = per_type.get(row["routing_key"], 0) + 1
    for routing_key, count in per_type.items():     # a label lookup per type, not per row
        metrics.events_published.labels(service, routing_key).inc(count)


def _correlation_id(body: str) -> str | None:
    marker = '"correlation_id":"'
    start = body.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return body[start:body.find('"', start)]
