"""Counting what dispatch sends to PostgreSQL (issue 17 "speed"): a `Database`
whose connections log every statement a cursor executes (an `executemany` is
one entry) and every transaction's BEGIN and COMMIT, so a test can pin how
many statements and round trips a step costs.

Round trips are read from libpq's protocol trace of each connection: every
time the client, having sent something, reads the server's answer again is
one (a pipeline's statements sent together and read together count once)."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import pq
from psycopg.rows import dict_row

from shared.db import Database


class Log:
    def __init__(self) -> None:
        self.statements: list[str] = []
        # (trace file, offset at the last clear, the traced connection)
        self.traces: list[tuple[Any, int, Any]] = []

    def sent(self, sql: str) -> None:
        self.statements.append(" ".join(sql.split()))

    def clear(self) -> None:
        self.statements.clear()
        self.flush()
        self.traces = [(f, os.fstat(f.fileno()).st_size, c) for f, _, c in self.traces]

    def flush(self) -> None:
        """Write out what libpq's trace still buffers (its stdio stream):
        PQuntrace flushes it; the trace goes on in the same file."""
        for trace, _, conn in self.traces:
            if conn.closed:
                continue
            conn.pgconn.untrace()
            start_trace(conn, trace)

    @property
    def round_trips(self) -> int:
        """Client-to-server turns in the traces since the last clear."""
        self.flush()
        turns = 0
        for trace, offset, _ in self.traces:
            with open(trace.name, "rb") as text:
                text.seek(offset)
                previous = "B"
                for line in text.read().decode("utf-8", "replace").splitlines():
                    side = line[:1]
                    if side == "B" and previous == "F":
                        turns += 1
                    if side in "FB":
                        previous = side
        return turns

    def matching(self, fragment: str) -> list[str]:
        return [s for s in self.statements if fragment in s]


class CountingCursor(psycopg.Cursor):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        self.connection.log.sent(str(query))  # type: ignore[attr-defined]
        return super().execute(query, params, **kwargs)

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
        self.connection.log.sent(str(query))  # type: ignore[attr-defined]
        return super().executemany(query, params_seq, **kwargs)


class CountingConnection(psycopg.Connection):
    log: Log

    @contextmanager
    def transaction(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.log.sent("BEGIN")
        with super().transaction(*args, **kwargs) as tx:
            yield tx
        self.log.sent("COMMIT")


class CountingDatabase(Database):
    """A `Database` on the real server whose statements land in `self.log`."""

    def __init__(self, dsn: str, **kwargs: Any) -> None:
        super().__init__(dsn, **kwargs)
        self.log = Log()

    def _connect(self) -> Any:
        conn = CountingConnection.connect(self.dsn, autocommit=True,
                                          row_factory=dict_row,  # type: ignore[arg-type]
                                          cursor_factory=CountingCursor,
                                          connect_timeout=self.connect_timeout, **self.options)
        conn.log = self.log
        trace = tempfile.NamedTemporaryFile(prefix="pgtrace-")  # noqa: SIM115 (kept open)
        start_trace(conn, trace)
        self.log.traces.append((trace, 0, conn))
        return conn


def start_trace(conn: Any, trace: Any) -> None:
    conn.pgconn.trace(trace.fileno())
    conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
