"""Idempotency keys on the real database: a replay, a conflicting reuse, and a
call abandoned by a gateway that died mid-call (kill -9), taken over by the
retry once its lease has run out."""
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from services.gateway.idempotency import IdempotencyRepository
from services.gateway.service import GatewayService
from shared.errors import Conflict

pytestmark = pytest.mark.integration

PERSON, KEY = "p01-spec-1", "key-1"


def begin(database, fingerprint="f1", lease=60.0):
    with database.transaction() as conn:
        return IdempotencyRepository(conn).begin(PERSON, KEY, "POST", "/api/complaints",
                                                 fingerprint, lease_seconds=lease)


def age(database, seconds):
    with database.transaction() as conn:
        conn.execute("UPDATE gateway.idempotency SET created_at = created_at - "
                     "make_interval(secs => %s)", (seconds,))


def test_a_finished_call_is_replayed_and_a_key_reused_for_another_body_is_refused(
        clean_database):
    assert begin(clean_database) is None
    with clean_database.transaction() as conn:
        IdempotencyRepository(conn).finish(PERSON, KEY, 201, '{"id": "C-1"}')
    age(clean_database, 3600)                  # a finished answer never goes stale
    assert begin(clean_database) == (201, '{"id": "C-1"}')
    with pytest.raises(Conflict):
        begin(clean_database, fingerprint="f2")


def test_a_call_in_progress_is_refused_until_its_lease_runs_out_then_taken_over_once(
        clean_database):
    assert begin(clean_database) is None
    with pytest.raises(Conflict) as busy:
        begin(clean_database)
    assert "正在处理" in str(busy.value)
    age(clean_database, 61)                    # its gateway died without releasing it
    assert begin(clean_database) is None       # this retry takes the call over...
    with pytest.raises(Conflict):              # ...and holds a fresh lease
        begin(clean_database)


class CountingConnection:
    """A real connection that counts the statements and transaction blocks sent."""

    def __init__(self, conn, counts):
        self.conn, self.counts = conn, counts

    def execute(self, *args, **kwargs):
        self.counts["statements"] += 1
        return self.conn.execute(*args, **kwargs)

    def transaction(self, *args, **kwargs):
        self.counts["transactions"] += 1
        return self.conn.transaction(*args, **kwargs)


class CountingDatabase:
    def __init__(self, database):
        self.database = database
        self.counts = {"statements": 0, "transactions": 0}

    @contextmanager
    def connection(self):
        with self.database.connection() as conn:
            yield CountingConnection(conn, self.counts)

    @contextmanager
    def transaction(self):
        with self.connection() as conn, conn.transaction():
            yield conn


def test_a_posts_idempotency_rows_take_one_statement_each_and_no_transaction_block(
        clean_database):
    """Issue 17: begin + finish of a new key were two BEGIN/statement/COMMIT
    blocks (6 round trips); each is one autocommit statement now."""
    db = CountingDatabase(clean_database)
    gateway = SimpleNamespace(db=db, rpc_timeout=lambda: 15.0,
                              clock=SimpleNamespace(now=lambda: None))
    request = EnvironBuilder(method="POST", path="/api/complaints", data=b'{"a": 1}',
                             content_type="application/json").get_request()
    assert GatewayService.idempotency_begin(gateway, PERSON, KEY, request) is None
    answer = Response('{"id": "C-1"}', status=201, mimetype="application/json")
    GatewayService.idempotency_finish(gateway, PERSON, KEY, answer)
    assert db.counts == {"statements": 2, "transactions": 0}
    assert GatewayService.idempotency_begin(gateway, PERSON, KEY, request) == (201,
                                                                               '{"id": "C-1"}')
    GatewayService.idempotency_release(gateway, PERSON, KEY)
    assert GatewayService.idempotency_begin(gateway, PERSON, KEY, request) is None
    assert db.counts["transactions"] == 0
