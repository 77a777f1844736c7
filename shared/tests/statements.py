"""Counting the statements psycopg sends (BEGIN and COMMIT included), for the
tests that pin how many an event costs (issue 17: most of a consumer's CPU is
per statement)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import _connection_base, _cursor_base


@contextmanager
def sent_statements() -> Iterator[list[str]]:
    """While active, every statement any connection of this process sends,
    as one line of SQL each (a pipelined one too; an `executemany` once per row)."""
    sent: list[str] = []
    prepare = _cursor_base.BaseCursor._maybe_prepare_gen
    command = _connection_base.BaseConnection._exec_command

    def counted_prepare(self: Any, pgq: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(" ".join(bytes(pgq.query).decode().split()))
        return (yield from prepare(self, pgq, *args, **kwargs))

    def counted_command(self: Any, cmd: Any, *args: Any, **kwargs: Any) -> Any:
        text = cmd if isinstance(cmd, (bytes, str)) else cmd.as_bytes(self)
        sent.append(text.decode() if isinstance(text, bytes) else text)
        return (yield from command(self, cmd, *args, **kwargs))

    _cursor_base.BaseCursor._maybe_prepare_gen = counted_prepare    # type: ignore[method-assign]
    _connection_base.BaseConnection._exec_command = counted_command  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        _cursor_base.BaseCursor._maybe_prepare_gen = prepare        # type: ignore[method-assign]
        _connection_base.BaseConnection._exec_command = command     # type: ignore[method-assign]
