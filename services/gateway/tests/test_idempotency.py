"""Idempotency keys on the real database: a replay, a conflicting reuse, and a
call abandoned by a gateway that died mid-call (kill -9), taken over by the
retry once its lease has run out."""
import pytest

from services.gateway.idempotency import IdempotencyRepository
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
