"""PostgreSQL access: a small connection pool and its nameko dependency.

Connections are autocommit; every unit of work runs in `transaction()`, so a
state change, its outbox rows and its inbox mark commit or roll back together.
The pool uses `threading` and `queue`, which nameko's eventlet monkey-patching
turns green: a worker waiting for a query lets the others run.
"""
from __future__ import annotations

import logging
import queue
import threading
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


class Database:
    def __init__(self, dsn: str, size: int = 8, connect_timeout: int = 5) -> None:
        self.dsn = dsn
        self.connect_timeout = connect_timeout
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    def _connect(self) -> Connection:
        try:
            return psycopg.connect(self.dsn, autocommit=True, row_factory=dict_row,
                                   connect_timeout=self.connect_timeout)
        except psycopg.OperationalError as exc:
            raise Unavailable(f"数据库无法连接 (database unreachable): {exc}".strip()) from exc

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled autocommit connection; broken ones are dropped, not reused."""
        self._slots.acquire()
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._connect()
            yield conn
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
