"""A transaction in psycopg's pipeline mode whose BEGIN leaves with its first
statement and whose COMMIT leaves with its last writes (issue 17).

psycopg's own `conn.transaction()` inside a pipeline syncs on entering (BEGIN
alone is one round trip) and on leaving (twice): on intake's steps that was
three of their trips. Here BEGIN is queued, the body's reads flush as they
are fetched (the server runs the queue in order, so a read sent after the
lock still sees what the lock waited for), and COMMIT goes out with the
writes and the pipeline's one Sync. Whatever goes wrong, the transaction is rolled back
before the connection goes back to the pool: an exception in the body, an
error the server reports at a read, or one it reports at the COMMIT's Sync
(a unique violation of the last writes) are raised as they were.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

log = logging.getLogger(__name__)
_OPEN = (TransactionStatus.INTRANS, TransactionStatus.INERROR)


@contextmanager
def transaction(conn: Any) -> Iterator[Any]:
    """BEGIN ... COMMIT on an autocommit connection, in one pipeline."""
    try:
        with conn.pipeline():
            conn.execute(b"BEGIN", prepare=False)
            try:
                yield conn
            except BaseException:
                # Queued: it leaves with the pipeline's Sync (skipped if the
                # server already refused a statement: see below).
                _quietly(conn, b"ROLLBACK")
                raise
            conn.execute(b"COMMIT", prepare=False)
    finally:
        # The server refused a statement (at a read or at the Sync): the
        # pipeline skipped the rest, COMMIT or ROLLBACK included.
        if not (conn.closed or conn.broken) and conn.info.transaction_status in _OPEN:
            _quietly(conn, b"ROLLBACK")


def _quietly(conn: Any, command: bytes) -> None:
    try:
        conn.execute(command, prepare=False)
    except psycopg.Error as exc:     # the connection is lost: the pool drops it
        log.warning("%s after a failed step failed: %s", command.decode(), exc)
