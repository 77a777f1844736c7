"""shared.pruning on the real database (issue 14): one run per day however
many instances ask, batched deletes of keys older than the setting, and keys
without a time kept a full window from the first run that sees them."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import eventlet
import pytest

from shared import pruning

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)        # 10:00 in the group's zone
KEYS = pruning.KeyTable("gateway", "idempotency", "clock_created_at")
WEEK = timedelta(days=7)


def add_keys(database, *ages):
    with database.transaction() as conn:
        for n, age in enumerate(ages):
            conn.execute(
                """INSERT INTO gateway.idempotency (person_id, key, method, path,
                       request_sha256, status, response, clock_created_at)
                   VALUES ('p', %(k)s, 'POST', '/api/x', 'f', 201, '{}', %(at)s)""",
                {"k": f"k{n}", "at": None if age is None else NOW - age})


def left(database):
    with database.connection() as conn:
        return sorted(r["key"] for r in conn.execute("SELECT key FROM gateway.idempotency"))


def test_keys_older_than_the_window_go_in_batches_and_once_a_day(clean_database):
    add_keys(clean_database, timedelta(days=30), timedelta(days=8), timedelta(days=7, hours=1),
             timedelta(days=7, seconds=1), timedelta(days=6), timedelta(hours=1), None)
    done = pruning.prune(clean_database, KEYS, NOW, ZONE, WEEK, batch=2)
    assert (done.deleted, done.stamped, done.day.isoformat()) == (4, 1, "2026-11-20")
    assert left(clean_database) == ["k4", "k5", "k6"]
    # Later the same (local) day: no second run, even with a key now old enough.
    add_keys(clean_database, timedelta(days=9))            # k0 again
    assert pruning.prune(clean_database, KEYS, NOW + timedelta(hours=13), ZONE, WEEK) is None
    assert "k0" in left(clean_database)
    # 00:00 in the group's zone is a new day: the job runs again.
    nextday = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert pruning.prune(clean_database, KEYS, nextday, ZONE, WEEK).deleted == 1
    # Six and a half days on: k4 (6 days old at first) goes; k6, without a time
    # at the first run, was stamped then: kept a week from then, like k5.
    assert pruning.prune(clean_database, KEYS, NOW + timedelta(days=6, hours=12), ZONE,
                         WEEK).deleted == 1
    assert left(clean_database) == ["k5", "k6"]
    with clean_database.connection() as conn:
        row = conn.execute("SELECT * FROM gateway.housekeeping").fetchone()
    assert (row["job"], row["last_run_on"].isoformat()) == ("prune:gateway.idempotency",
                                                            "2026-11-26")


def test_several_instances_asking_at_once_run_the_day_once(clean_database):
    add_keys(clean_database, timedelta(days=8), timedelta(days=9))
    pool = eventlet.GreenPool()
    results = list(pool.imap(
        lambda _: pruning.prune(clean_database, KEYS, NOW, ZONE, WEEK), range(6)))
    ran = [r for r in results if r is not None]
    assert len(ran) == 1 and ran[0].deleted == 2
