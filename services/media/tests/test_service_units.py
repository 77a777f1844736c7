"""The service's own logic with fakes that subclass the real interfaces:
an in-memory object store and an outbox that fails. The database is the real
test database (worker_factory, no broker)."""
import base64
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from nameko.testing.services import worker_factory

from services.media import library
from services.media.service import MediaService
from services.media.storage import InMemoryObjectStore
from services.media.tests import samples
from shared.clock import FixedClock
from shared.db import Database
from shared.errors import Forbidden, NotFound, Unavailable
from shared.outbox import Outbox

NOW = datetime(2026, 11, 27, 2, 42, tzinfo=UTC)
CONFIG = {"REGION_CODE": "SZ", "MEDIA": {"max_bytes": 1024 * 1024, "signed_url_seconds": 120}}


class BrokenOutbox(Outbox):
    """The commit fails after the row was written (here: at the event)."""

    def add(self, conn, event_type, data, **kwargs):
        super().add(conn, event_type, data, **kwargs)
        raise RuntimeError("database connection lost before commit")


class AnswerLostDatabase(Database):
    """The commit happens, then the connection is lost before its answer (a
    PostgreSQL restart at that moment): the caller sees Unavailable."""

    @contextmanager
    def transaction(self):
        with super().transaction() as conn:
            yield conn
        raise Unavailable("数据库连接中断，请稍后再试 (database connection lost)")


def make_service(database, store=None, outbox=None):
    return worker_factory(
        MediaService, database=database, clock=FixedClock(NOW), config=CONFIG,
        store=store or InMemoryObjectStore(now=lambda: NOW),
        outbox=outbox or Outbox("media", "media", "SZ", UTC))


def rows(database):
    with database.connection() as conn:
        return conn.execute("SELECT id, key FROM media.objects").fetchall()


def outbox_rows(database):
    with database.connection() as conn:
        return conn.execute("SELECT routing_key, body FROM media.outbox").fetchall()


def png_b64():
    return base64.b64encode(samples.PNG).decode()


def test_upload_stores_object_row_and_event(clean_database):
    store = InMemoryObjectStore(now=lambda: NOW)
    service = make_service(clean_database, store)
    result = service.upload(png_b64(), "现场.png", "photo", stage="before",
                            complaint_id="C-SZ-2026-000001", uploaded_by="P-7", step="visit")
    assert result["id"].startswith("M-SZ-")
    assert [r["key"] for r in rows(clean_database)] == [f"SZ/2026/11/{result['id']}"]
    assert store.objects[f"SZ/2026/11/{result['id']}"][:2] == (samples.PNG, "image/png")
    events = outbox_rows(clean_database)
    assert [e["routing_key"] for e in events] == ["media.stored"]
    assert result["id"] in events[0]["body"]


def test_failed_commit_removes_the_object_and_leaves_no_row(clean_database):
    store = InMemoryObjectStore(now=lambda: NOW)
    service = make_service(clean_database, store, BrokenOutbox("media", "media", "SZ"))
    with pytest.raises(RuntimeError):
        service.upload(png_b64(), "a.png", "signature")
    assert store.objects == {}
    assert rows(clean_database) == []
    assert outbox_rows(clean_database) == []


def test_store_down_means_unavailable_and_nothing_written(clean_database):
    store = InMemoryObjectStore(now=lambda: NOW)
    store.put_error = Unavailable("文件存储暂不可用 (object store unavailable)")
    service = make_service(clean_database, store)
    with pytest.raises(Unavailable):
        service.upload(png_b64(), "a.png", "signature")
    assert rows(clean_database) == []
    assert outbox_rows(clean_database) == []


def test_sweep_only_touches_this_regions_prefix(clean_database):
    store = InMemoryObjectStore()  # objects dated by the real clock, as a real store does
    service = make_service(clean_database, store)
    kept = service.upload(png_b64(), "a.png", "signature")
    store.put("SZ/2026/11/M-SZ-" + "1" * 32, b"orphan", "image/png")
    store.put("GZ/2026/11/M-GZ-" + "2" * 32, b"another region's", "image/png")
    assert service.sweep_orphans(older_than_seconds=0) == 1
    assert sorted(store.objects) == ["GZ/2026/11/M-GZ-" + "2" * 32, f"SZ/2026/11/{kept['id']}"]


def test_get_signs_a_gateway_link_for_the_configured_time(clean_database):
    service = make_service(clean_database)
    uploaded = service.upload(png_b64(), "a.png", "material")
    before = datetime.now(UTC).replace(microsecond=0)
    got = service.get(uploaded["id"])
    assert got["url"].startswith(f"/files/{uploaded['id']}.")
    expires = datetime.fromisoformat(got["url_expires_at"])
    assert before + timedelta(seconds=120) <= expires <= datetime.now(UTC) + timedelta(seconds=120)
    assert got["sha256"] == uploaded["sha256"]


def test_a_link_opens_its_file_until_it_expires_and_not_when_altered(clean_database,
                                                                     monkeypatch):
    store = InMemoryObjectStore(now=lambda: NOW)
    service = make_service(clean_database, store)
    uploaded = service.upload(png_b64(), "现场.png", "photo", stage="before")
    token = service.get(uploaded["id"])["url"].removeprefix("/files/")
    opened = service.open_link(token)
    key = f"SZ/2026/11/{uploaded['id']}"
    assert opened["source"] == {"kind": "url", "url": f"memory://ccrm-media/{key}"}
    assert {k: opened[k] for k in ("media_id", "content_type", "size", "sha256", "filename")} \
        == {"media_id": uploaded["id"], "content_type": "image/png", "size": len(samples.PNG),
            "sha256": uploaded["sha256"], "filename": "现场.png"}

    media_id, expires, signature = token.split(".")
    for changed in (f"{media_id}.{int(expires) + 3600}.{signature}",
                    f"M-SZ-{'0' * 32}.{expires}.{signature}", token[:-2]):
        with pytest.raises(Forbidden) as caught:
            service.open_link(changed)
        assert caught.value.status == 403 and "无效" in caught.value.message

    later = datetime.now(UTC) + timedelta(seconds=121)
    monkeypatch.setattr(library, "system_now", lambda: later)
    with pytest.raises(Forbidden) as caught:
        service.open_link(token)
    assert "过期" in caught.value.message


def test_a_link_to_a_file_no_longer_there_is_404(clean_database):
    service = make_service(clean_database)
    uploaded = service.upload(png_b64(), "a.png", "material")
    token = service.get(uploaded["id"])["url"].removeprefix("/files/")
    with clean_database.connection() as conn:
        conn.execute("DELETE FROM media.objects")
    with pytest.raises(NotFound):
        service.open_link(token)


def test_a_commit_whose_answer_was_lost_keeps_its_object(test_dsn, clean_database):
    """A PostgreSQL restart between the commit and its answer: the upload
    answers 503 (the client retries), and the row it did write still names
    an object: the clean-up of a failed upload must not remove it."""
    store = InMemoryObjectStore(now=lambda: NOW)
    lost = AnswerLostDatabase(test_dsn, size=2)
    service = make_service(lost, store)
    with pytest.raises(Unavailable):
        service.upload(png_b64(), "现场.png", "photo", stage="before",
                       complaint_id="C-SZ-2026-000001", uploaded_by="P-7", step="visit")
    lost.close()
    [row] = rows(clean_database)
    assert row["key"] in store.objects
