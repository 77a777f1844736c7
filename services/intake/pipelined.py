"""A transaction in psycopg's pipeline mode whose BEGIN leaves with its first
statement and whose COMMIT leaves with its last writes (issue 17).

psycopg's own `conn.transaction()` inside a pipeline syncs on entering (BEGIN
alone is one round trip) and on leaving (twice): on intake's steps that was
three of their trips. Here BEGIN is queued, the body's reads flush as they
are fetched (the server runs the queue in order, so a read sent after the
lock still sees what the lock waited for), and COMMIT goes out with the
writes and one Sync. Whatever goes wrong, the transaction is rolled back
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


def _roll_back(conn: Any, pipeline: Any) -> None:
    """End the transaction, whatever the pipeline holds (errors already raised)."""
    try:
        pipeline.sync()                      # errors queued after the first are dropped
    except psycopg.Error:
        pass
    if conn.broken or conn.closed:
        return
    if conn.info.transaction_status in _OPEN:
        conn.execute(b"ROLLBACK", prepare=False)
        pipeline.sync()


@contextmanager
def transaction(conn: Any) -> Iterator[Any]:
    """BEGIN ... COMMIT on an autocommit connection, in one pipeline."""
    with conn.pipeline() as pipeline:
        conn.execute(b"BEGIN", prepare=False)
        try:
            yield conn
        except BaseException:
            try:
                _roll_back(conn, pipeline)
            except psycopg.Error as exc:     # the connection is lost: the pool drops it
                log.warning("rollback after a failed step failed: %s", exc)
            raise
        conn.execute(b"COMMIT", prepare=False)
        try:
            pipeline.sync()
        except psycopg.Error:
            # The COMMIT was skipped (the pipeline aborted at the error).
            try:
                _roll_back(conn, pipeline)
            except psycopg.Error as exc:
                log.warning("rollback after a failed commit failed: %s", exc)
            raise
