"""The relay's batch on the real PostgreSQL (issue 17, fourth part): what it
costs the database, and that two relays still never publish together."""
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import pq

from shared.db import Database
from shared.outbox import Outbox, PublishFailed, outbox_backlog, relay_once
from shared.outbox_batch import claim_sql

NOW = datetime(2026, 11, 27, 2, 42, tzinfo=UTC)
STORED = {"media_id": "m-1", "kind": "signature", "stage": None, "content_type": "image/png",
          "size": 10, "sha256": "ab" * 32, "uploaded_by": "p-1", "complaint_id": None}
OLD_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('outbox:media')) AS ok"


class Recorder:
    """A publisher whose broker confirms everything at once (or, from the
    `fail_at`-th message on, nothing), recording what was sent."""

    def __init__(self, fail_at=None, during=None):
        self.sent = []
        self.fail_at = fail_at
        self.during = during        # run inside the publish, the transaction still open

    def publish_many(self, messages):
        if self.during:
            self.during()
        ids = [m[3] for m in messages]
        if self.fail_at is not None and len(self.sent) + len(ids) > self.fail_at:
            confirmed = max(0, self.fail_at - len(self.sent))
            self.sent.extend(ids[:confirmed])
            error = PublishFailed("not confirmed")
            error.confirmed = confirmed
            raise error
        self.sent.extend(ids)
        return len(ids)


class Trace:
    def __init__(self, lines):
        self.lines = lines

    @property
    def round_trips(self):
        """Turns: the client sent something, then read the server's answer."""
        turns, previous = 0, "B"
        for side in (line[:1] for line in self.lines):
            if side == "B" and previous == "F":
                turns += 1
            if side in "FB":
                previous = side
        return turns

    @property
    def statements(self):
        """Statements the server ran (one CommandComplete each)."""
        return [line.split("CommandComplete", 1)[1].strip().strip('"')
                for line in self.lines if "\tCommandComplete\t" in line]


@contextmanager
def traced(database: Database) -> Iterator[Trace]:
    """libpq's protocol trace of the connection `database` hands out next
    (its pool is LIFO), read once PQuntrace has flushed it."""
    with database.connection() as conn:
        pass
    trace = Trace([])
    with tempfile.TemporaryFile() as out:
        conn.pgconn.trace(out.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield trace
        finally:
            conn.pgconn.untrace()
            out.seek(0)
            trace.lines.extend(out.read().decode("utf-8", "replace").splitlines())


def add(database, count=1, start=0):
    outbox = Outbox("media", "media", "GZ")
    ids = []
    with database.transaction() as conn:
        for n in range(start, start + count):
            ids.append(outbox.add(conn, "media.stored", dict(STORED, media_id=f"m-{n}"),
                                  occurred_at=NOW).event_id)
    return ids


@pytest.fixture
def relay_db(test_dsn):
    db = Database(test_dsn, size=2)
    yield db
    db.close()


# -- what a batch costs ---------------------------------------------------------------------

def test_a_batch_is_three_statements_in_two_round_trips(clean_database, relay_db):
    """BEGIN + the claim (lock, read, mark) in one message, COMMIT in another:
    it was BEGIN, lock, SELECT, UPDATE, COMMIT, five round trips."""
    relay_once(relay_db, "media", Recorder())          # the claim is prepared once
    ids = add(clean_database)
    publisher = Recorder()
    with traced(relay_db) as trace:
        assert relay_once(relay_db, "media", publisher) == 1
    assert publisher.sent == ids
    assert trace.statements == ["BEGIN", "UPDATE 1", "COMMIT"]
    assert trace.round_trips == 2
    assert outbox_backlog(clean_database, "media") == 0


def test_an_empty_wake_is_three_statements_in_two_round_trips(clean_database, relay_db):
    """Nothing to send: BEGIN + a claim that marks nothing, COMMIT (it was
    BEGIN, lock, SELECT, COMMIT, four round trips)."""
    relay_once(relay_db, "media", Recorder())
    publisher = Recorder()
    with traced(relay_db) as trace:
        assert relay_once(relay_db, "media", publisher) == 0
    assert publisher.sent == []
    assert trace.statements == ["BEGIN", "UPDATE 0", "COMMIT"]
    assert trace.round_trips == 2


def test_the_claim_is_prepared_once_per_connection(clean_database, relay_db):
    with traced(relay_db) as first:
        relay_once(relay_db, "media", Recorder())
    with traced(relay_db) as second:
        relay_once(relay_db, "media", Recorder())
    assert first.statements[0] == "PREPARE" and first.round_trips == 3
    assert "PREPARE" not in second.statements and second.round_trips == 2


def test_the_lock_is_taken_once_before_the_read(clean_database):
    """EXPLAIN: the lock is an InitPlan gating the read of the ids (a One-Time
    Filter), evaluated once, not a filter on every row."""
    add(clean_database, 3)
    with clean_database.connection() as conn:
        plan = "\n".join(row["QUERY PLAN"] for row in conn.execute(
            "EXPLAIN (VERBOSE, COSTS OFF) " + claim_sql("media", 500)).fetchall())
    lock = plan.index("pg_try_advisory_xact_lock")
    assert "InitPlan" in plan[:lock]
    assert "One-Time Filter" in plan[lock:]
    assert "Filter: pg_try_advisory_xact_lock" not in plan


# -- one relay at a time ------------------------------------------------------------------------

def test_a_second_relay_publishes_nothing_while_the_first_holds_the_lock(clean_database,
                                                                         relay_db, test_dsn):
    ids = add(clean_database, 3)
    other_db = Database(test_dsn, size=1)
    other = Recorder()
    other_counts = []
    first = Recorder(during=lambda: other_counts.append(relay_once(other_db, "media", other)))
    try:
        assert relay_once(relay_db, "media", first) == 3
        assert relay_once(other_db, "media", other) == 0      # and after it: nothing left
    finally:
        other_db.close()
    assert other_counts == [0] and other.sent == []
    assert first.sent == ids
    assert outbox_backlog(clean_database, "media") == 0


def test_a_relay_of_the_old_code_holding_the_lock_keeps_it_out(clean_database, relay_db):
    """The lock key is the old relay's: a rolling deploy never runs two relays."""
    add(clean_database, 2)
    publisher = Recorder()
    with clean_database.transaction() as conn:
        assert conn.execute(OLD_LOCK).fetchone()["ok"]
        assert relay_once(relay_db, "media", publisher) == 0
    assert publisher.sent == [] and outbox_backlog(clean_database, "media") == 2
    assert relay_once(relay_db, "media", publisher) == 2


def test_rows_the_previous_holder_marked_after_the_snapshot_are_not_sent_again(clean_database,
                                                                                 test_dsn):
    """The claim's snapshot is taken before its lock. Forced here with a lock
    that waits: the previous holder marks rows 1-2 and commits while the
    claim waits; the claim, on its older snapshot, still skips them."""
    add(clean_database, 4)
    claimed = []
    with psycopg.connect(test_dsn, autocommit=True) as holder, \
            psycopg.connect(test_dsn, autocommit=True) as waiter:
        holder.execute("BEGIN")
        holder.execute(OLD_LOCK)
        holder.execute("UPDATE media.outbox SET published_at = now() WHERE id <= 2")

        try_lock = "pg_try_advisory_xact_lock(hashtext('outbox:media'))"
        waiting = claim_sql("media", 500).replace(
            try_lock, "pg_advisory_xact_lock(hashtext('outbox:media'))::text = ''")
        assert try_lock in claim_sql("media", 500) and try_lock not in waiting

        def claim():
            with waiter.transaction():
                rows = waiter.execute(waiting)
                claimed.extend(row[0] for row in rows.fetchall())

        thread = threading.Thread(target=claim)
        thread.start()
        deadline = time.monotonic() + 5
        while not holder.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                 "AND NOT granted AND pid = %s",
                                 (waiter.info.backend_pid,)).fetchone()[0]:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        holder.execute("COMMIT")
        thread.join(5)
    assert sorted(claimed) == [3, 4]


# -- failures -------------------------------------------------------------------------------------

def test_a_failure_commits_the_confirmed_prefix_then_raises(clean_database, relay_db):
    """Three windows of 100; the broker stops confirming at the 130th message:
    130 are marked, the 120 others go out on the next pass, in order."""
    ids = add(clean_database, 250)
    failing = Recorder(fail_at=130)
    with pytest.raises(PublishFailed):
        relay_once(relay_db, "media", failing)
    assert failing.sent == ids[:130]
    assert outbox_backlog(clean_database, "media") == 120
    again = Recorder()
    assert relay_once(relay_db, "media", again) == 120
    assert again.sent == ids[130:]


def test_nothing_confirmed_marks_nothing_and_the_connection_is_reused(clean_database, relay_db):
    ids = add(clean_database, 3)
    with relay_db.connection() as conn:
        pass
    with pytest.raises(PublishFailed):
        relay_once(relay_db, "media", Recorder(fail_at=0))
    assert outbox_backlog(clean_database, "media") == 3
    with relay_db.connection() as same:
        assert same is conn and same.info.transaction_status == pq.TransactionStatus.IDLE
    again = Recorder()
    assert relay_once(relay_db, "media", again) == 3 and again.sent == ids


def test_a_claim_deallocated_meanwhile_is_prepared_again(clean_database, relay_db):
    """psycopg deallocates every prepared statement on a ROLLBACK when it has
    some of its own: the relay prepares its claim again and goes on."""
    relay_once(relay_db, "media", Recorder())
    with relay_db.connection() as conn:
        conn.execute("DEALLOCATE ALL")
    ids = add(clean_database, 2)
    publisher = Recorder()
    assert relay_once(relay_db, "media", publisher) == 2 and publisher.sent == ids


def test_the_relay_goes_on_after_its_connection_is_killed(clean_database, relay_db):
    relay_once(relay_db, "media", Recorder())
    with relay_db.connection() as conn:
        pid = conn.info.backend_pid
    with clean_database.connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.2)
    ids = add(clean_database, 2)
    publisher = Recorder()
    assert relay_once(relay_db, "media", publisher) == 2 and publisher.sent == ids
