"""Counting what reaches PostgreSQL (issue 17): the statements every psycopg
connection executes (BEGIN, COMMIT and ROLLBACK of services.intake.pipelined
not counted) and its waits on the server's socket (`round_trips`: each wait
whose generator blocks at least once; in pipeline mode every statement sent
is one, a select on the socket through eventlet's hub)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import waiting

COUNTS = {"statements": 0, "round_trips": 0}
_CONTROL = (b"BEGIN", b"COMMIT", b"ROLLBACK")


def _counted_execute(method: Callable[..., Any]) -> Callable[..., Any]:
    def execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if query not in _CONTROL:          # BEGIN, COMMIT (services.intake.pipelined)
            COUNTS["statements"] += 1
        return method(self, query, params, **kwargs)
    return execute


def _counted_executemany(method: Callable[..., Any]) -> Callable[..., Any]:
    def executemany(self: Any, query: Any, params_seq: Any, **kwargs: Any) -> Any:
        params_seq = list(params_seq)
        COUNTS["statements"] += len(params_seq)
        return method(self, query, params_seq, **kwargs)
    return executemany


def _counted_wait(wait: Callable[..., Any]) -> Callable[..., Any]:
    """A wait whose generator blocks at least once is a trip to the server."""
    def counted(gen: Any, fileno: int, *args: Any, **kwargs: Any) -> Any:
        def tracked() -> Any:
            try:
                state = next(gen)
            except StopIteration as stop:
                return stop.value
            COUNTS["round_trips"] += 1
            while True:
                ready = yield state
                try:
                    state = gen.send(ready)
                except StopIteration as stop:
                    return stop.value
        return wait(tracked(), fileno, *args, **kwargs)
    return counted


@contextmanager
def counting() -> Iterator[dict[str, int]]:
    """Count the statements and round trips of every psycopg connection."""
    saved = psycopg.Cursor.execute, psycopg.Cursor.executemany, waiting.wait
    psycopg.Cursor.execute = _counted_execute(saved[0])            # type: ignore[method-assign]
    psycopg.Cursor.executemany = _counted_executemany(saved[1])    # type: ignore[method-assign]
    waiting.wait = _counted_wait(saved[2])
    try:
        yield COUNTS
    finally:
        psycopg.Cursor.execute, psycopg.Cursor.executemany = saved[0], saved[1]  # type: ignore
        waiting.wait = saved[2]
