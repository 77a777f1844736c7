"""Bearer tokens found in the database, kept a few seconds per gateway process
(issue 17: the lookup was 10 % of the gateway's CPU on every request).

Revocation: the process that revokes (sign-out, an admin's revocation, a
person's sessions ended) forgets its cached tokens at once (`forget_all`), so
its next request asks the database. The other processes hear it: a trigger
on gateway.tokens (migration 005) sends `NOTIFY ccrm_token_revoked,
'<sha256>'` on commit whenever a token's row changes or goes, whatever the
statement; each process keeps one LISTENing connection and, before it trusts
a cached token, reads what has arrived on it (no round trip). PostgreSQL
passes a notice on a moment after the commit (milliseconds: the listener's
backend forwards it), so another process may serve a revoked token for that
moment, never longer than it takes the notice to arrive. When the
listening connection is down, nothing is served from memory (every lookup
asks the database) until it is back and the cache emptied (a notice may have
been missed). A cached row never lives longer than
`GATEWAY_TOKEN_CACHE_SECONDS` (default 10; 0 turns the cache off), and its
expiry is checked on every request as before (auth.check_token).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from nameko.extensions import DependencyProvider

from shared.db import database_url

log = logging.getLogger(__name__)

CHANNEL = "ccrm_token_revoked"
DEFAULT_SECONDS = 10.0
MAX_ENTRIES = 50_000
RECONNECT_SECONDS = 1.0


class TokenCache:
    """{token SHA-256: (found at, row)}, trusted only while revocations are heard."""

    def __init__(self, dsn: str, seconds: float = DEFAULT_SECONDS) -> None:
        self.dsn, self.seconds = dsn, seconds
        self._rows: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._listener: psycopg.Connection[Any] | None = None
        self._next_connect = 0.0

    def find(self, digest: str, load: Callable[[], Any]) -> Any:
        """The token's row: from memory when fresh and revocations are heard,
        else `load()` (a row found is kept; an unknown token is not)."""
        if self.seconds <= 0:
            return load()
        with self._lock:
            hearing = self._hear()
            hit = self._rows.get(digest) if hearing else None
        if hit is not None and time.monotonic() - hit[0] < self.seconds:
            return hit[1]
        row = load()
        if row is not None and hearing:
            with self._lock:
                if len(self._rows) >= MAX_ENTRIES:
                    self._rows.clear()
                self._rows[digest] = (time.monotonic(), row)
        return row

    def forget_all(self) -> None:
        """Drop every cached row (this process just revoked something)."""
        with self._lock:
            self._rows.clear()

    def _hear(self) -> bool:
        """Apply every revocation notice received so far; False when not listening."""
        if self._listener is None:
            if time.monotonic() < self._next_connect:
                return False
            self._next_connect = time.monotonic() + RECONNECT_SECONDS
            try:
                self._listener = psycopg.connect(self.dsn, autocommit=True, connect_timeout=2)
                self._listener.execute(f"LISTEN {CHANNEL}")
            except psycopg.Error as exc:
                log.warning("token cache: cannot listen for revocations (%s); not caching", exc)
                self._drop()
                return False
            self._rows.clear()      # revocations missed while nobody listened
        try:
            pgconn = self._listener.pgconn
            # What has arrived; never waits. Twice: a server that ended the
            # connection sent its goodbye first, and the second read meets the
            # closed socket and raises.
            pgconn.consume_input()
            pgconn.consume_input()
            while (notice := pgconn.notifies()) is not None:
                digest = notice.extra.decode("ascii", "replace")
                if digest == "*":           # the table was emptied
                    self._rows.clear()
                else:
                    self._rows.pop(digest, None)
        except psycopg.Error as exc:
            log.warning("token cache: revocations not heard (%s); not caching", exc)
            self._drop()
            return False
        return True

    def _drop(self) -> None:
        self._rows.clear()
        if self._listener is not None:
            try:
                self._listener.close()
            except psycopg.Error:
                pass
        self._listener = None

    def close(self) -> None:
        with self._lock:
            self._drop()


class TokenCacheProvider(DependencyProvider):
    """Gives the gateway its process's `TokenCache`."""

    def setup(self) -> None:
        config = self.container.config
        self.cache = TokenCache(database_url(config, "gateway"),
                                float(config.get("GATEWAY_TOKEN_CACHE_SECONDS", DEFAULT_SECONDS)))

    def stop(self) -> None:
        self.cache.close()

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> TokenCache:
        return self.cache
