import time

import eventlet
import pytest

from shared.db import Database
from shared.errors import Unavailable


def test_three_parallel_queries_overlap_on_eventlet(database):
    """psycopg must not block eventlet's hub (ARCHITECTURE, known traps)."""
    def sleep_one_second():
        with database.connection() as conn:
            conn.execute("SELECT pg_sleep(1)")

    started = time.monotonic()
    pool = eventlet.GreenPool()
    for _ in range(3):
        pool.spawn(sleep_one_second)
    pool.waitall()
    assert time.monotonic() - started < 1.8


def test_transaction_rolls_back_on_error(database):
    with database.transaction() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.db_test (n int)")
        conn.execute("TRUNCATE public.db_test")
    with pytest.raises(RuntimeError):
        with database.transaction() as conn:
            conn.execute("INSERT INTO public.db_test VALUES (1)")
            raise RuntimeError("boom")
    with database.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM public.db_test").fetchone()["n"] == 0


def test_broken_connection_is_not_reused(database):
    with database.connection() as conn:
        conn.close()
    with database.connection() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone()["one"] == 1


def test_unreachable_database_is_a_readable_error():
    db = Database("postgresql://postgres@127.0.0.1:1/nowhere", connect_timeout=1)
    with pytest.raises(Unavailable) as caught:
        with db.connection():
            pass
    assert "database unreachable" in caught.value.message
    assert "127.0.0.1" not in caught.value.message          # libpq's details are logged only
