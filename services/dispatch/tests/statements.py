"""Counting what dispatch sends to PostgreSQL (issue 17 "speed"): a `Database`
whose connections log every statement a cursor executes (an `executemany` is
one entry) and every transaction's BEGIN and COMMIT, so a test can pin how
many statements and round trips a step costs.

A pipeline (`conn.pipeline()`) sends its statements together: `round_trips`
counts each pipeline block once, whatever it holds (the block's flush)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from shared.db import Database


class Log:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.round_trips = 0
        self._pipelined = 0

    def sent(self, sql: str) -> None:
        self.statements.append(" ".join(sql.split()))
        if not self._pipelined:
            self.round_trips += 1

    def clear(self) -> None:
        self.statements.clear()
        self.round_trips = 0

    def matching(self, fragment: str) -> list[str]:
        return [s for s in self.statements if fragment in s]


class CountingCursor(psycopg.Cursor):  # type: ignore[type-arg]
    log: Log

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        self.connection.log.sent(str(query))  # type: ignore[attr-defined]
        return super().execute(query, params, **kwargs)

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
        self.connection.log.sent(str(query))  # type: ignore[attr-defined]
        return super().executemany(query, params_seq, **kwargs)


class CountingConnection(psycopg.Connection):  # type: ignore[type-arg]
    log: Log

    @contextmanager
    def transaction(self, *args: Any, **kwargs: Any) -> Iterator[Any]:  # type: ignore[override]
        self.log.sent("BEGIN")
        with super().transaction(*args, **kwargs) as tx:
            yield tx
        self.log.sent("COMMIT")

    @contextmanager
    def pipeline(self) -> Iterator[Any]:  # type: ignore[override]
        self.log.round_trips += 1
        self.log._pipelined += 1
        try:
            with super().pipeline() as pipe:
                yield pipe
        finally:
            self.log._pipelined -= 1


class CountingDatabase(Database):
    """A `Database` on the real server whose statements land in `self.log`."""

    def __init__(self, dsn: str, **kwargs: Any) -> None:
        super().__init__(dsn, **kwargs)
        self.log = Log()

    def _connect(self) -> Any:
        conn = CountingConnection.connect(self.dsn, autocommit=True, row_factory=dict_row,
                                          cursor_factory=CountingCursor,
                                          connect_timeout=self.connect_timeout, **self.options)
        conn.log = self.log
        return conn
