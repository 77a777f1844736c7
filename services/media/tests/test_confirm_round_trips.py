"""How many times `confirm_upload` waits for PostgreSQL (issue 17: media
spent 23 % of its busy samples waiting for it). Counted from libpq's own
trace of the protocol: each `Sync` or simple `Query` the client sends is one
round trip. The writes (the media row, whose INSERT takes the upload's row,
and its event) go out in one pipeline, one implicit transaction without
BEGIN and COMMIT: 2 round trips with the lookup of the upload, where they
were 6 (lookup, BEGIN, three statements, COMMIT)."""
import os
import tempfile
from contextlib import contextmanager
from datetime import UTC

import psycopg
import psycopg.pq
import pytest

from services.media.storage import InMemoryObjectStore
from services.media.tests import samples
from services.media.tests.test_confirm_upload import confirm, pending
from services.media.tests.test_service_units import NOW, make_service, outbox_rows, rows
from shared.db import Database
from shared.errors import NotFound
from shared.outbox import Outbox


class TracedDatabase(Database):
    """The test database, every connection traced by libpq into one file."""

    def __init__(self, dsn):
        super().__init__(dsn, size=2)
        self.trace = tempfile.TemporaryFile()

    @contextmanager
    def connection(self):
        with super().connection() as conn:
            conn.pgconn.trace(self.trace.fileno())
            conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS
                                        | psycopg.pq.Trace.REGRESS_MODE)
            try:
                yield conn
            finally:
                conn.pgconn.untrace()

    def sent(self):
        """The protocol messages the client sent since the last call, by name."""
        self.trace.flush()
        os.fsync(self.trace.fileno())
        self.trace.seek(0)
        lines = self.trace.read().decode("utf-8", "replace").splitlines()
        self.trace.seek(0)
        self.trace.truncate()
        return [line.split("\t")[2].split(" ")[0] for line in lines if line.startswith("F\t")]

    def round_trips(self):
        return sum(1 for message in self.sent() if message in ("Sync", "Query"))


@pytest.fixture
def traced(clean_database, test_dsn):
    database = TracedDatabase(test_dsn)
    yield database
    database.close()


def test_a_confirm_waits_for_the_database_twice(traced):
    store = InMemoryObjectStore(now=lambda: NOW)
    service = make_service(traced, store)
    [place] = service.reserve_uploads(1)
    store.put(f"SZ/2026/11/{place['upload_id']}", samples.PNG, "application/octet-stream")
    traced.sent()
    media = confirm(service, place["upload_id"], samples.PNG)
    assert traced.round_trips() == 2
    assert [r["id"] for r in rows(traced)] == [media["id"]] and pending(traced) == []
    assert len(outbox_rows(traced)) == 1
    traced.sent()
    # A retry finds the upload's row gone and answers the first confirm's view.
    assert confirm(service, place["upload_id"], samples.PNG) == media
    assert traced.round_trips() == 2 and len(outbox_rows(traced)) == 1


class RacingStore(InMemoryObjectStore):
    """Runs `race` once while media reads the object (between its lookup of
    the upload and its writes)."""

    def __init__(self):
        super().__init__(now=lambda: NOW)
        self.race = None

    def read(self, key):
        race, self.race = self.race, None
        if race is not None:
            race()
        return super().read(key)


@pytest.fixture
def racing(clean_database):
    store = RacingStore()
    service = make_service(clean_database, store)
    [place] = service.reserve_uploads(1)
    store.put(f"SZ/2026/11/{place['upload_id']}", samples.PNG, "application/octet-stream")
    return service, store, place["upload_id"]


def test_a_confirm_whose_upload_was_swept_meanwhile_records_nothing(racing, clean_database):
    service, store, upload_id = racing

    def sweep():
        with clean_database.transaction() as conn:
            conn.execute("DELETE FROM media.pending_uploads")
    store.race = sweep
    with pytest.raises(NotFound):
        confirm(service, upload_id, samples.PNG)
    assert rows(clean_database) == [] and outbox_rows(clean_database) == []


def test_of_two_confirms_at_once_one_records_and_both_answer_the_same(racing, clean_database):
    service, store, upload_id = racing
    answers = []
    store.race = lambda: answers.append(confirm(service, upload_id, samples.PNG))
    answers.append(confirm(service, upload_id, samples.PNG))
    assert answers[0] == answers[1] and answers[0]["id"] == upload_id
    assert len(rows(clean_database)) == 1 and len(outbox_rows(clean_database)) == 1


class EventThatFails(Outbox):
    """The event's INSERT fails in PostgreSQL, after the media row's."""

    def add(self, conn, event_type, data, **kwargs):
        super().add(conn, event_type, data, **kwargs)
        conn.execute("INSERT INTO media.no_such_table VALUES (1)")


def test_the_row_and_its_event_are_kept_together_or_not_at_all(clean_database):
    """No BEGIN/COMMIT: the pipeline is one implicit transaction."""
    store = InMemoryObjectStore(now=lambda: NOW)
    failing = make_service(clean_database, store, outbox=EventThatFails("media", "media", "SZ",
                                                                        UTC))
    [place] = failing.reserve_uploads(1)
    store.put(f"SZ/2026/11/{place['upload_id']}", samples.PNG, "application/octet-stream")
    with pytest.raises(psycopg.errors.UndefinedTable):
        confirm(failing, place["upload_id"], samples.PNG)
    assert rows(clean_database) == [] and outbox_rows(clean_database) == []
    assert [p["id"] for p in pending(clean_database)] == [place["upload_id"]]
    # Nothing was lost either: the upload can be confirmed again.
    media = confirm(make_service(clean_database, store), place["upload_id"], samples.PNG)
    assert [r["id"] for r in rows(clean_database)] == [media["id"]]
    assert len(outbox_rows(clean_database)) == 1 and pending(clean_database) == []
