"""PostgreSQL access: a small connection pool and its nameko dependency.

Connections are autocommit; every unit of work runs in `transaction()`, so a
state change, its outbox rows and its inbox mark commit or roll back together.
The pool uses `threading` and `queue`, which nameko's eventlet monkey-patching
turns green: a worker waiting for a query lets the others run.

Every connection has bounded waits (the fault test's PostgreSQL restarts and
network faults, docs/reliability.md): a connect timeout, TCP keepalives and
a user timeout (a peer that vanished is noticed), a statement timeout, and an
idle-in-transaction timeout so that a client cut off mid-transaction does not
hold its locks (the outbox relay's among them) for ever. After a restart every
pooled connection is dead: one the server has closed is noticed before it is
handed out (its socket reads as closed), and a connection lost in use raises
`Unavailable` (503, "try again") and empties the pool.
"""
from __future__ import annotations

import logging
import queue
import select
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from nameko.extensions import DependencyProvider
from psycopg.rows import DictRow, dict_row

from shared.errors import Unavailable

log = logging.getLogger(__name__)

# A pooled connection: autocommit, rows as dicts.
Connection = psycopg.Connection[DictRow]


# Bounded waits of every connection (seconds; libpq's and the server's settings).
CONNECT_TIMEOUT = 5
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3, "tcp_user_timeout": 30_000}
STATEMENT_TIMEOUT = 60
IDLE_IN_TRANSACTION_TIMEOUT = 30
# How long a pool slot may be waited for before the caller gets a 503.
SLOT_TIMEOUT = 30.0

# What a user reads (a 503: try again); the details are logged.
DB_UNREACHABLE = "数据库暂时无法连接，请稍后重试 (database unreachable; try again shortly)"
DB_LOST = "数据库连接中断，请稍后重试 (the database connection was lost; try again shortly)"
DB_TIMEOUT = "数据库查询超时，请稍后重试 (the database did not answer in time; try again shortly)"
DB_BUSY = "数据库连接繁忙，请稍后重试"


def connect_options(statement_timeout: float = STATEMENT_TIMEOUT,
                    idle_in_transaction_timeout: float = IDLE_IN_TRANSACTION_TIMEOUT
                    ) -> dict[str, Any]:
    """libpq keyword arguments: keepalives and the server-side timeouts."""
    return {**KEEPALIVES, "options": (
        f"-c statement_timeout={int(statement_timeout * 1000)} "
        f"-c idle_in_transaction_session_timeout={int(idle_in_transaction_timeout * 1000)}")}


def closed_by_server(conn: Connection) -> bool:
    """An idle connection whose socket is readable has been closed by the
    server (a restart, a terminated backend): nothing else arrives unasked
    (no LISTEN here). No round trip, so it costs nothing under latency."""
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(readable)


class Database:
    def __init__(self, dsn: str, size: int = 8, connect_timeout: int = CONNECT_TIMEOUT,
                 statement_timeout: float = STATEMENT_TIMEOUT,
                 idle_in_transaction_timeout: float = IDLE_IN_TRANSACTION_TIMEOUT,
                 slot_timeout: float = SLOT_TIMEOUT) -> None:
        self.dsn = dsn
        self.connect_timeout = connect_timeout
        self.options = connect_options(statement_timeout, idle_in_transaction_timeout)
        self.slot_timeout = slot_timeout
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self.discarded = 0          # connections found dead (a restart), for tests and logs

    def _connect(self) -> Connection:
        try:
            return psycopg.connect(self.dsn, autocommit=True, row_factory=dict_row,
                                   connect_timeout=self.connect_timeout, **self.options)
        except psycopg.OperationalError as exc:
            # The details (host, port, libpq's words) go to the log, not to a user.
            log.warning("database unreachable: %s", str(exc).strip())
            raise Unavailable(DB_UNREACHABLE) from exc

    def _checkout(self) -> Connection:
        """An idle connection the server has not closed, else a new one."""
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                return self._connect()
            if not closed_by_server(conn):
                return conn
            self.discarded += 1
            conn.close()

    def _flush(self) -> None:
        """Close every idle connection: one was lost, its peers were likely lost
        with it (a restart, a failover); the next ones are made afresh."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
            self.discarded += 1

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled autocommit connection; broken ones are dropped, not reused.

        A connection lost during the work (the server restarted or is
        unreachable) or a statement over its timeout raises `Unavailable`:
        the work did not happen, or its commit's outcome is unknown, and the
        caller may retry (every state change here is safe to retry)."""
        began = time.monotonic()
        if not self._slots.acquire(timeout=self.slot_timeout):
            raise Unavailable(f"{DB_BUSY} (no database connection free within "
                              f"{time.monotonic() - began:.0f}s)")
        conn = None
        try:
            conn = self._checkout()
            try:
                yield conn
            except psycopg.errors.QueryCanceled as exc:
                log.warning("statement over its timeout: %s", str(exc).strip())
                raise Unavailable(DB_TIMEOUT) from exc
            except psycopg.Error as exc:
                # Connection lost: AdminShutdown, IdleInTransactionSessionTimeout
                # (not an OperationalError), a socket closed; the others stay.
                if not (conn.closed or conn.broken):
                    raise
                self._flush()
                log.warning("database connection lost (%s); pool emptied", str(exc).strip())
                raise Unavailable(DB_LOST) from exc
        finally:
            if conn is not None:
                if conn.closed or conn.broken or conn.info.transaction_status != 0:
                    conn.close()
                else:
                    self._idle.put(conn)
            self._slots.release()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.connection() as conn:
            with conn.transaction():
                yield conn

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def database_url(config: Mapping[str, Any], service: str | None = None) -> str:
    """The DSN a service uses: its own role's URL when configured (production),
    else the shared DATABASE_URL."""
    per_service = (config.get("DATABASE_URLS") or {}).get(service) if service else None
    return per_service or config["DATABASE_URL"]


def admin_dsn(dsn: str, dbname: str = "postgres") -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + dbname))


def ensure_database(dsn: str) -> None:
    """Create the DSN's database if it does not exist yet."""
    name = urlsplit(dsn).path.lstrip("/")
    with psycopg.connect(admin_dsn(dsn), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            log.info("created database %s", name)


class DatabaseProvider(DependencyProvider):
    """Gives a nameko worker the service's `Database`."""

    def __init__(self, service: str | None = None) -> None:
        self.service = service
        self.database: Database | None = None

    def setup(self) -> None:
        config = self.container.config
        self.database = Database(database_url(config, self.service),
                                 size=int(config.get("DB_POOL_SIZE", 8)))

    def stop(self) -> None:
        if self.database:
            self.database.close()

    # A killed container (tests, a crash-stop) must not leave its connections open.
    kill = stop

    def get_dependency(self, worker_ctx: Any) -> Database | None:
        return self.database
