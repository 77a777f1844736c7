"""begin_upload / confirm_upload and the sweep of uploads never confirmed,
with the in-memory store (a fake subclassing the real one: the bytes the
gateway would have written are put in it here) on the real test database."""
import hashlib
from datetime import timedelta

import pytest

from services.media.storage import InMemoryObjectStore
from services.media.tests import samples
from services.media.tests.test_service_units import NOW, make_service, outbox_rows, rows
from shared.errors import InvalidInput, NotFound, TooLarge, UnsupportedMediaType


def sha(content):
    return hashlib.sha256(content).hexdigest()


def pending(database):
    with database.connection() as conn:
        return conn.execute("SELECT id, key, created_at FROM media.pending_uploads").fetchall()


@pytest.fixture
def store():
    return InMemoryObjectStore(now=lambda: NOW)


@pytest.fixture
def service(clean_database, store):
    return make_service(clean_database, store)


def begin(service, content, kind="photo", stage="before"):
    begun = service.begin_upload("现场.png", kind, len(content), stage=stage,
                                 complaint_id="C-SZ-2026-000001", uploaded_by="P-7")
    return begun, f"SZ/2026/11/{begun['upload_id']}"


def test_a_confirmed_upload_is_recorded_with_its_event(service, store, clean_database):
    begun, key = begin(service, samples.PNG)
    assert begun["target"]["kind"] == "url" and key in begun["target"]["url"]
    assert [p["key"] for p in pending(clean_database)] == [key]
    assert rows(clean_database) == []
    store.put(key, samples.PNG, "application/octet-stream")       # what the gateway writes

    media = service.confirm_upload(begun["upload_id"], sha(samples.PNG))
    assert (media["id"], media["content_type"], media["size"], media["sha256"]) == (
        begun["upload_id"], "image/png", len(samples.PNG), sha(samples.PNG))
    assert [r["key"] for r in rows(clean_database)] == [key]
    assert pending(clean_database) == []
    assert [e["routing_key"] for e in outbox_rows(clean_database)] == ["media.stored"]
    # A retried confirm answers the same, records nothing more.
    assert service.confirm_upload(begun["upload_id"], sha(samples.PNG).upper()) == media
    assert len(outbox_rows(clean_database)) == 1
    with pytest.raises(InvalidInput):
        service.confirm_upload(begun["upload_id"], sha(samples.JPEG))


@pytest.mark.parametrize("stored, declared_sha, error", [
    (samples.EXE, sha(samples.EXE), UnsupportedMediaType),          # a program named .png
    (samples.PNG + b"x", sha(samples.PNG + b"x"), InvalidInput),     # not the size begun
    (samples.JPEG[:len(samples.PNG)], sha(samples.PNG), InvalidInput),  # not the bytes written
])
def test_a_refused_confirm_deletes_the_object_and_the_upload(service, store, clean_database,
                                                             stored, declared_sha, error):
    begun, key = begin(service, samples.PNG)
    store.put(key, stored, "application/octet-stream")
    with pytest.raises(error):
        service.confirm_upload(begun["upload_id"], declared_sha)
    assert store.objects == {} and pending(clean_database) == [] and rows(clean_database) == []
    assert outbox_rows(clean_database) == []


def test_a_confirm_without_the_object_is_refused(service, clean_database):
    begun, _ = begin(service, samples.PNG)
    with pytest.raises(InvalidInput) as caught:
        service.confirm_upload(begun["upload_id"], sha(samples.PNG))
    assert "file" in caught.value.fields
    assert pending(clean_database) == [] and rows(clean_database) == []


def test_begin_refuses_empty_too_large_and_bad_fields(service, clean_database):
    with pytest.raises(InvalidInput) as empty:
        service.begin_upload("a.png", "photo", 0, stage="before")
    assert "file" in empty.value.fields
    with pytest.raises(TooLarge):
        service.begin_upload("a.png", "photo", 1024 * 1024 + 1, stage="before")
    with pytest.raises(InvalidInput) as bad:
        service.begin_upload("a.png", "photo", "12", stage="sideways")
    assert set(bad.value.fields) == {"size", "stage"}
    with pytest.raises(NotFound):
        service.confirm_upload("M-SZ-" + "0" * 32, sha(samples.PNG))
    with pytest.raises(InvalidInput) as bad_sha:
        service.confirm_upload("M-SZ-" + "0" * 32, "not a hash")
    assert set(bad_sha.value.fields) == {"sha256"}
    assert pending(clean_database) == []


def test_unconfirmed_uploads_are_swept_after_the_setting_on_the_shared_clock(
        clean_database, store):
    service = make_service(clean_database, store)
    begun, key = begin(service, samples.PNG)
    store.put(key, samples.PNG, "application/octet-stream")
    clock = service.clock

    clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    assert service.sweep_orphans(0) == 0          # its object has a row: not an orphan either
    assert key in store.objects and len(pending(clean_database)) == 1

    clock.advance(timedelta(seconds=2))
    assert service.sweep_orphans(3600) == 1
    assert store.objects == {} and pending(clean_database) == []
    with pytest.raises(NotFound):
        service.confirm_upload(begun["upload_id"], sha(samples.PNG))
