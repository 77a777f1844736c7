"""What `confirm_upload` reads of a stored object (issue 17: no read-back on S3).

With the MD5 the gateway sent as the PUT's Content-MD5, media checks the
object from its first bytes, its size and the store's MD5 (S3's ETag), and
records the SHA-256 the gateway computed; in every other case (no MD5, an
ETag that is no MD5 or another one, a first bytes that do not settle the type)
it reads the object back whole, as before. Unit tests count the bytes read
through a store that subclasses the real ones; the S3 tests run on the test
S3 server (moto) with the gateway's own writer."""
import hashlib
import io
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3

from services.media.storage import InMemoryObjectStore, ObjectStore, StoredHead
from services.media.tests import samples
from services.media.tests.test_confirm_upload import confirm, pending
from services.media.tests.test_service_units import NOW, make_service, outbox_rows, rows
from shared.contracts.media.writing import write_to_target
from shared.errors import InvalidInput, UnsupportedMediaType

PHOTO = samples.JPEG + bytes(200_000)            # a 200 KB photo


def md5(content):
    return hashlib.md5(content).hexdigest()


class Counting:
    """Counts what passes through `read` and `peek` of the store it is mixed into."""

    def counted(self):
        if not hasattr(self, "bytes_read"):
            self.bytes_read, self.whole_reads, self.peeks = 0, 0, 0

    def read(self, key):
        self.counted()
        content = super().read(key)
        self.bytes_read += len(content)
        self.whole_reads += 1
        return content

    def peek(self, key, count):
        self.counted()
        head = super().peek(key, count)
        self.bytes_read += len(head.head)
        self.peeks += 1
        return head


class CountingMemoryStore(Counting, InMemoryObjectStore):
    pass


class NoMd5MemoryStore(CountingMemoryStore):
    """A store whose ETag is no MD5 (a multipart or SSE-KMS object)."""

    def peek(self, key, count):
        head = super().peek(key, count)
        return StoredHead(head.size, head.head, None)


class CountingObjectStore(Counting, ObjectStore):
    pass


@pytest.fixture
def store():
    store = CountingMemoryStore(now=lambda: NOW)
    store.counted()
    return store


@pytest.fixture
def service(clean_database, store):
    return make_service(clean_database, store)


def reserved(service, store, content):
    [place] = service.reserve_uploads(1)
    key = f"SZ/2026/11/{place['upload_id']}"
    store.put(key, content, "application/octet-stream")        # what the gateway wrote
    return place["upload_id"], key


def test_a_confirm_with_the_stores_md5_reads_only_the_first_bytes(service, store,
                                                                  clean_database):
    upload_id, key = reserved(service, store, PHOTO)
    media = confirm(service, upload_id, PHOTO, md5=md5(PHOTO).upper())
    assert (media["content_type"], media["size"], media["sha256"]) == (
        "image/jpeg", len(PHOTO), hashlib.sha256(PHOTO).hexdigest())
    assert store.whole_reads == 0 and store.peeks == 1 and store.bytes_read == 64
    assert [r["key"] for r in rows(clean_database)] == [key] and pending(clean_database) == []
    assert [e["routing_key"] for e in outbox_rows(clean_database)] == ["media.stored"]


def test_without_an_md5_the_object_is_read_back_whole(service, store):
    upload_id, _ = reserved(service, store, PHOTO)
    assert confirm(service, upload_id, PHOTO)["size"] == len(PHOTO)
    assert store.whole_reads == 1 and store.peeks == 0 and store.bytes_read == len(PHOTO)


@pytest.mark.parametrize("stored, error", [
    (PHOTO[:-1] + b"\x01", InvalidInput),        # altered on the way: another MD5
    (PHOTO + b"\x00", InvalidInput),             # longer (and another MD5)
    (samples.EXE, UnsupportedMediaType),         # a program named .jpg, MD5 and all
])
def test_an_object_that_is_not_the_file_is_read_back_and_refused(
        service, store, clean_database, stored, error):
    upload_id, _ = reserved(service, store, stored)
    declared = samples.EXE if stored == samples.EXE else PHOTO
    with pytest.raises(error):
        confirm(service, upload_id, declared, md5=md5(declared))
    assert store.whole_reads == 1
    assert store.objects == {} and pending(clean_database) == [] and rows(clean_database) == []
    assert outbox_rows(clean_database) == []


def test_an_md5_that_is_not_the_objects_sends_it_to_the_read_back(service, store):
    upload_id, _ = reserved(service, store, PHOTO)
    media = confirm(service, upload_id, PHOTO, md5=md5(samples.PNG))
    assert media["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert store.whole_reads == 1 and store.peeks == 1


def test_a_report_told_by_its_whole_content_is_read_back(service, store):
    upload_id, _ = reserved(service, store, samples.CSV)
    media = confirm(service, upload_id, samples.CSV, kind="report", stage=None,
                    md5=md5(samples.CSV))
    assert media["content_type"] == "text/csv" and store.whole_reads == 1


def test_a_store_whose_etag_is_no_md5_reads_back_whole(clean_database):
    store = NoMd5MemoryStore(now=lambda: NOW)
    store.counted()
    service = make_service(clean_database, store)
    upload_id, _ = reserved(service, store, PHOTO)
    assert confirm(service, upload_id, PHOTO, md5=md5(PHOTO))["size"] == len(PHOTO)
    assert store.whole_reads == 1 and store.peeks == 1


def test_a_malformed_md5_is_refused_as_a_field(service, store):
    upload_id, _ = reserved(service, store, PHOTO)
    with pytest.raises(InvalidInput) as caught:
        confirm(service, upload_id, PHOTO, md5="not-an-md5")
    assert list(caught.value.fields) == ["md5"]


# -- on the S3 test server, with the gateway's writer ---------------------------

class AlteringHttp(urllib3.PoolManager):
    """A network that flips one byte of a PUT's body on the way."""

    def request(self, method, url, body=None, headers=None, **kwargs):
        content = bytearray(body.read())
        content[-1] ^= 0xFF
        return super().request(method, url, body=bytes(content), headers=headers, **kwargs)


@pytest.fixture
def s3_service(clean_database, s3_config):
    store = CountingObjectStore.from_config(s3_config)
    store.counted()
    return make_service(clean_database, store), store


def test_on_s3_the_gateways_upload_is_confirmed_from_its_first_bytes(s3_service,
                                                                     clean_database):
    service, store = s3_service
    [place] = service.reserve_uploads(1)
    # The presigned PUT signs the host only: Content-MD5 may be added.
    query = parse_qs(urlsplit(place["target"]["url"]).query)
    assert query["X-Amz-SignedHeaders"] == ["host"]
    written = write_to_target(place["target"], io.BytesIO(PHOTO), len(PHOTO), {})
    assert written.md5 == md5(PHOTO)
    media = confirm(service, place["upload_id"], PHOTO, written.sha256, md5=written.md5)
    assert (media["content_type"], media["size"]) == ("image/jpeg", len(PHOTO))
    assert store.whole_reads == 0 and store.peeks == 1 and store.bytes_read == 64
    key = rows(clean_database)[0]["key"]
    assert store.read(key) == PHOTO


def test_on_s3_a_body_altered_on_the_way_is_refused_and_nothing_recorded(s3_service,
                                                                         clean_database):
    service, store = s3_service
    [place] = service.reserve_uploads(1)
    # S3 and MinIO refuse this PUT (400 BadDigest: the gateway answers 503);
    # moto does not check Content-MD5 and keeps the altered bytes, with
    # their own MD5 as ETag: media's comparison refuses them.
    written = write_to_target(place["target"], io.BytesIO(PHOTO), len(PHOTO), {},
                              http=AlteringHttp())
    with pytest.raises(InvalidInput):
        confirm(service, place["upload_id"], PHOTO, written.sha256, md5=written.md5)
    assert store.whole_reads == 1
    assert list(store.list("SZ/")) == [] and rows(clean_database) == []
    assert pending(clean_database) == [] and outbox_rows(clean_database) == []


def test_on_s3_peek_says_size_first_bytes_and_md5_of_one_object(s3_config):
    store = ObjectStore.from_config(s3_config)
    store.put("SZ/2026/11/a", PHOTO, "image/jpeg")
    store.put("SZ/2026/11/b", b"\xff\xd8", "image/jpeg")
    assert store.peek("SZ/2026/11/a", 64) == StoredHead(len(PHOTO), PHOTO[:64], md5(PHOTO))
    assert store.peek("SZ/2026/11/b", 64) == StoredHead(2, b"\xff\xd8", md5(b"\xff\xd8"))
