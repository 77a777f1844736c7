"""reserve_uploads / confirm_upload and the sweep of uploads never confirmed,
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


def begin(service, content=None):
    [reserved] = service.reserve_uploads(1)
    return reserved, f"SZ/2026/11/{reserved['upload_id']}"


def confirm(service, upload_id, content, sha256=None, kind="photo", stage="before", **changes):
    fields = dict(filename="现场.png", kind=kind, stage=stage, complaint_id="C-SZ-2026-000001",
                  uploaded_by="P-7")
    fields.update(changes)
    return service.confirm_upload(upload_id, sha256 or sha(content), len(content), **fields)


def test_a_confirmed_upload_is_recorded_with_its_event(service, store, clean_database):
    begun, key = begin(service)
    assert begun["target"]["kind"] == "url" and key in begun["target"]["url"]
    assert [p["key"] for p in pending(clean_database)] == [key]
    assert rows(clean_database) == []
    store.put(key, samples.PNG, "application/octet-stream")       # what the gateway writes

    media = confirm(service, begun["upload_id"], samples.PNG)
    assert (media["id"], media["content_type"], media["size"], media["sha256"]) == (
        begun["upload_id"], "image/png", len(samples.PNG), sha(samples.PNG))
    assert (media["kind"], media["stage"], media["filename"], media["uploaded_by"]) == (
        "photo", "before", "现场.png", "P-7")
    assert [r["key"] for r in rows(clean_database)] == [key]
    assert pending(clean_database) == []
    assert [e["routing_key"] for e in outbox_rows(clean_database)] == ["media.stored"]
    # A retried confirm answers the same, records nothing more.
    assert confirm(service, begun["upload_id"], samples.PNG, sha(samples.PNG).upper()) == media
    assert len(outbox_rows(clean_database)) == 1
    with pytest.raises(InvalidInput):
        confirm(service, begun["upload_id"], samples.PNG, sha(samples.JPEG))


@pytest.mark.parametrize("stored, declared, declared_sha, changes, error", [
    (samples.EXE, samples.EXE, None, {}, UnsupportedMediaType),     # a program named .png
    (samples.PNG + b"x", samples.PNG, sha(samples.PNG + b"x"), {}, InvalidInput),  # other size
    (samples.JPEG[:len(samples.PNG)], samples.PNG, None, {}, InvalidInput),  # other bytes
    (samples.PNG, samples.PNG, None, {"stage": None}, InvalidInput),  # a photo without stage
    (samples.PNG, samples.PNG, None, {"kind": "video"}, InvalidInput),
])
def test_a_refused_confirm_deletes_the_object_and_the_upload(
        service, store, clean_database, stored, declared, declared_sha, changes, error):
    begun, key = begin(service)
    store.put(key, stored, "application/octet-stream")
    with pytest.raises(error):
        confirm(service, begun["upload_id"], declared, declared_sha, **changes)
    assert store.objects == {} and pending(clean_database) == [] and rows(clean_database) == []
    assert outbox_rows(clean_database) == []


def test_a_confirm_without_the_object_is_refused(service, clean_database):
    begun, _ = begin(service)
    with pytest.raises(InvalidInput) as caught:
        confirm(service, begun["upload_id"], samples.PNG)
    assert "file" in caught.value.fields
    assert pending(clean_database) == [] and rows(clean_database) == []


def test_reserve_and_confirm_refuse_bad_input_field_by_field(service, store, clean_database):
    reserved = service.reserve_uploads(3)
    assert len({r["upload_id"] for r in reserved}) == 3 and len(pending(clean_database)) == 3
    for count in (0, 33, "2", True):
        with pytest.raises(InvalidInput) as bad_count:
            service.reserve_uploads(count)
        assert set(bad_count.value.fields) == {"count"}
    key = f"SZ/2026/11/{reserved[0]['upload_id']}"
    store.put(key, samples.PNG, "application/octet-stream")
    with pytest.raises(InvalidInput) as empty:
        confirm(service, reserved[0]["upload_id"], b"")
    assert "file" in empty.value.fields and key not in store.objects
    store.put(f"SZ/2026/11/{reserved[1]['upload_id']}", samples.PNG, "x")
    with pytest.raises(TooLarge):
        service.confirm_upload(reserved[1]["upload_id"], sha(samples.PNG), 1024 * 1024 + 1,
                               "a.png", "photo", stage="before")
    with pytest.raises(InvalidInput) as bad:
        service.confirm_upload(reserved[2]["upload_id"], "not a hash", "12", "a.png", "photo",
                               stage="sideways")
    assert set(bad.value.fields) == {"sha256", "size", "stage"}
    with pytest.raises(NotFound):
        confirm(service, "M-SZ-" + "0" * 32, samples.PNG)
    assert pending(clean_database) == [] and rows(clean_database) == []


def test_unconfirmed_uploads_are_swept_after_the_setting_on_the_shared_clock(
        clean_database, store):
    service = make_service(clean_database, store)
    begun, key = begin(service)
    store.put(key, samples.PNG, "application/octet-stream")
    clock = service.clock
    with clean_database.transaction() as conn:    # its PUT URL expired (real time)
        conn.execute("UPDATE media.pending_uploads SET expires_at = now() - interval '1 s'")

    clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    assert service.sweep_orphans(0) == 0          # its object has a row: not an orphan either
    assert key in store.objects and len(pending(clean_database)) == 1

    clock.advance(timedelta(seconds=2))
    assert service.sweep_orphans(3600) == 1
    assert store.objects == {} and pending(clean_database) == []
    with pytest.raises(NotFound):
        confirm(service, begun["upload_id"], samples.PNG)


def test_a_reserved_place_still_valid_in_real_time_is_not_swept(clean_database, store):
    service = make_service(clean_database, store)
    begun, key = begin(service)                 # valid MEDIA.upload_url_seconds (300 s)
    service.clock.advance(timedelta(days=2))    # the shared clock moved on (simulation)
    assert service.sweep_orphans(3600) == 0
    store.put(key, samples.PNG, "application/octet-stream")
    assert confirm(service, begun["upload_id"], samples.PNG)["id"] == begun["upload_id"]


def test_a_confirmed_signature_keeps_its_kind_and_a_wrong_one_is_refused(service, store,
                                                                         clean_database):
    begun, key = begin(service)
    store.put(key, samples.PNG, "application/octet-stream")
    media = confirm(service, begun["upload_id"], samples.PNG, kind="signature", stage=None,
                    filename="typed-signature-or-not.png", signature_kind="typed")
    assert media["signature_kind"] == "typed"
    assert service.get(media["id"])["signature_kind"] == "typed"
    begun, key = begin(service)
    store.put(key, samples.PNG, "application/octet-stream")
    with pytest.raises(InvalidInput) as refused:        # a photo is no signature
        confirm(service, begun["upload_id"], samples.PNG, signature_kind="drawn")
    assert list(refused.value.fields) == ["signature_kind"]
