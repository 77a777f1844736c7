"""The pool under database faults (docs/reliability.md, issue 15), on real
PostgreSQL: every connection carries its timeouts, a connection the server
closed is not handed out, one lost in use is a 503 and empties the pool, a
session idle inside a transaction is ended by the server, a full pool is a
bounded wait; and after a real `pg_ctl restart -m fast` of a cluster of the
test's own, the first unit of work succeeds."""
import os
import threading
from pathlib import Path

import psycopg
import pytest

from scripts.fault_servers import OwnPostgres
from shared.db import DB_LOST, DB_TIMEOUT, Database
from shared.errors import Unavailable

pytestmark = pytest.mark.integration


def terminate(dsn, pid):
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # waits for the exit


def test_every_connection_has_keepalives_and_server_side_timeouts(test_dsn):
    db = Database(test_dsn, size=1, statement_timeout=20, idle_in_transaction_timeout=7)
    with db.connection() as conn:
        settings = conn.execute("""SELECT current_setting('statement_timeout') AS st,
                                   current_setting('idle_in_transaction_session_timeout') AS it
                                """).fetchone()
        assert settings == {"st": "20s", "it": "7s"}
        assert conn.info.get_parameters()["keepalives_idle"] == "10"
        assert conn.info.get_parameters()["tcp_user_timeout"] == "30000"
    db.close()


def test_a_connection_the_server_closed_is_replaced_before_use(test_dsn):
    db = Database(test_dsn, size=2)
    with db.connection() as conn:
        old = conn.info.backend_pid
    terminate(test_dsn, old)
    with db.connection() as conn:                 # no error: a fresh connection
        assert conn.execute("SELECT pg_backend_pid() AS p").fetchone()["p"] != old
    assert db.discarded == 1
    db.close()


def test_a_connection_lost_in_use_is_a_503_and_empties_the_pool(test_dsn):
    db = Database(test_dsn, size=3)
    with db.connection() as a, db.connection() as b:
        idle_pid = b.info.backend_pid
        lost_pid = a.info.backend_pid
    with pytest.raises(Unavailable) as caught:
        with db.connection() as conn:             # LIFO: a, returned last
            terminate(test_dsn, conn.info.backend_pid)
            conn.execute("SELECT 1")
    assert caught.value.message == DB_LOST and caught.value.status == 503   # no libpq words
    assert db._idle.qsize() == 0                  # its peer was closed too
    with db.connection() as conn:
        assert conn.info.backend_pid not in (idle_pid, lost_pid)
    db.close()


def test_the_server_ends_a_session_left_idle_inside_a_transaction(test_dsn):
    db = Database(test_dsn, size=1, idle_in_transaction_timeout=0.3)
    with pytest.raises(Unavailable):
        with db.transaction() as conn:
            conn.execute("SELECT 1")
            # A client whose network stalled mid-transaction: the server does
            # not wait for it (its locks are released).
            threading.Event().wait(1.0)
            conn.execute("SELECT 1")
    db.close()


def test_a_full_pool_is_a_bounded_wait(test_dsn):
    db = Database(test_dsn, size=1, slot_timeout=0.2)
    with db.connection():
        with pytest.raises(Unavailable) as caught:
            with db.connection():
                pass
    assert "数据库连接繁忙" in caught.value.message
    db.close()


def test_a_statement_over_its_timeout_is_a_503(test_dsn):
    db = Database(test_dsn, size=1, statement_timeout=0.2)
    with pytest.raises(Unavailable) as caught:
        with db.connection() as conn:
            conn.execute("SELECT pg_sleep(2)")
    assert caught.value.message == DB_TIMEOUT
    with db.connection() as conn:                 # the connection is still good
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    db.close()


def test_the_pool_recovers_from_a_real_restart_without_a_failed_request():
    # Not pytest's tmp_path: the postgres user must reach the data directory.
    pg = OwnPostgres(Path("/tmp") / f"ccrm-pool-restart-{os.getpid()}", 5452,
                     say=lambda _: None)
    pg.start()
    try:
        db = Database(pg.url + "/postgres", size=3)
        with db.connection() as a, db.connection() as b:
            before = {a.info.backend_pid, b.info.backend_pid}
        pg.restart()                                # pg_ctl restart -m fast
        for _ in range(3):
            with db.connection() as conn:
                assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
                assert conn.info.backend_pid not in before
        assert db.discarded == 2
        db.close()
    finally:
        pg.stop()
        pg.base.parent.rmdir()
