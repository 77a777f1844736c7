"""The media service in a real container, on real PostgreSQL, RabbitMQ and a
real S3-compatible HTTP server (moto's server, `s3_server`)."""
import base64
import hashlib
import hmac
import io
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from minio import Minio
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy

from services.media.service import MediaService
from services.media.tests import samples
from shared.contracts.media.reading import open_source
from shared.errors import from_remote
from shared.signing import record_sha256

pytestmark = pytest.mark.integration

MAX_BYTES = 64 * 1024
URL_SECONDS = 60


@pytest.fixture
def media_config(ccrm_config, s3_config):
    return dict(ccrm_config, MINIO=s3_config,
                MEDIA={"max_bytes": MAX_BYTES, "signed_url_seconds": URL_SECONDS})


@pytest.fixture
def media(container_factory, media_config, clean_database):
    container = container_factory(MediaService, media_config)
    container.start()
    with ServiceRpcProxy("media", media_config, timeout=20) as proxy:
        yield proxy


@pytest.fixture
def bucket(s3_config):
    client = Minio(s3_config["endpoint"], access_key=s3_config["access_key"],
                   secret_key=s3_config["secret_key"], secure=False, region=s3_config["region"])
    return client, s3_config["bucket"]


def b64(content):
    return base64.b64encode(content).decode()


def error_of(caught):
    error = from_remote(caught.value.exc_type, caught.value.value)
    assert error is not None, caught.value
    return error


def objects_in(bucket):
    client, name = bucket
    return [o.object_name for o in client.list_objects(name, recursive=True)]


def row_count(database):
    with database.connection() as conn:
        return conn.execute("SELECT count(*) AS n FROM media.objects").fetchone()["n"]


def sigv4_presign_valid(url, access_key, secret_key, region):
    """Recompute an S3 presigned URL's SigV4 signature (AWS's algorithm,
    independent of the minio library): a match proves the URL's expiry is
    signed, so a real S3 / MinIO refuses the URL once it has passed."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    signature = params.pop("X-Amz-Signature")
    credential_date = params["X-Amz-Credential"].split("/")[1]
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
    canonical_request = "\n".join([
        "GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"])
    scope = f"{credential_date}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope,
                         hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (credential_date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return params["X-Amz-Credential"].startswith(access_key + "/") and hmac.compare_digest(
        expected, signature)


def read_link(media, url, config):
    """The bytes behind a file link, read as the gateway reads them."""
    assert url.startswith("/files/")
    link = media.open_link(url.removeprefix("/files/"))
    return link, b"".join(open_source(link["source"], config).chunks)


def test_upload_then_read_back_through_the_signed_link(media, media_config, bucket,
                                                       clean_database):
    uploaded = media.upload(b64(samples.PNG), "现场照片.png", "photo", stage="before",
                            complaint_id="C-GZ-2026-000123", uploaded_by="P-0007", step="visit")
    assert uploaded["id"].startswith("M-GZ-")
    assert {k: uploaded[k] for k in ("kind", "stage", "content_type", "size", "sha256",
                                     "complaint_id", "step", "uploaded_by")} == {
        "kind": "photo", "stage": "before", "content_type": "image/png",
        "size": len(samples.PNG), "sha256": hashlib.sha256(samples.PNG).hexdigest(),
        "complaint_id": "C-GZ-2026-000123", "step": "visit", "uploaded_by": "P-0007"}
    assert datetime.fromisoformat(uploaded["created_at"]).utcoffset() == timedelta(hours=8)

    got = media.get(uploaded["id"])
    assert got["filename"] == "现场照片.png"
    # a link on the gateway, never the store's own address
    assert media_config["MINIO"]["endpoint"] not in got["url"]
    link, content = read_link(media, got["url"], media_config)
    assert content == samples.PNG
    assert (link["content_type"], link["size"]) == ("image/png", len(samples.PNG))
    # The key is ours: region, month, id; never the client's file name.
    year_month = datetime.now(UTC).strftime("%Y/%m")
    assert objects_in(bucket) == [f"GZ/{year_month}/{uploaded['id']}"]


def test_the_link_lives_the_configured_time_and_the_store_url_a_minute(media, s3_config):
    uploaded = media.upload(b64(samples.JPEG), "a.jpg", "material")
    before = datetime.now(UTC).replace(microsecond=0)
    got = media.get(uploaded["id"])
    expires = datetime.fromisoformat(got["url_expires_at"])
    assert before + timedelta(seconds=URL_SECONDS) <= expires \
        <= datetime.now(UTC) + timedelta(seconds=URL_SECONDS)
    link = media.open_link(got["url"].removeprefix("/files/"))
    assert datetime.fromisoformat(link["expires_at"]) == expires
    # moto's server does not check presigned URLs' signatures or expiry (tried:
    # a URL signed for 1 s still answers 200 after 2.5 s), so what is tested is
    # that the gateway's URL carries its one-minute expiry inside a valid SigV4
    # signature, which MinIO and S3 enforce.
    url = link["source"]["url"]
    assert dict(parse_qsl(urlsplit(url).query))["X-Amz-Expires"] == "60"
    assert sigv4_presign_valid(url, s3_config["access_key"], s3_config["secret_key"],
                               s3_config["region"])
    longer = url.replace("X-Amz-Expires=60", "X-Amz-Expires=604800")
    assert not sigv4_presign_valid(longer, s3_config["access_key"], s3_config["secret_key"],
                                   s3_config["region"])


def test_an_altered_link_is_403(media):
    uploaded = media.upload(b64(samples.JPEG), "a.jpg", "material")
    token = media.get(uploaded["id"])["url"].removeprefix("/files/")
    media_id, expires, signature = token.split(".")
    with pytest.raises(RemoteError) as caught:
        media.open_link(f"{media_id}.{int(expires) + 600}.{signature}")
    error = error_of(caught)
    assert (error.status, error.code) == (403, "forbidden")


def test_files_in_the_local_directory_survive_a_restart_of_media(container_factory, ccrm_config,
                                                                tmp_path, clean_database):
    # make run's default: no MINIO endpoint, a directory.
    config = dict(ccrm_config, MINIO={"endpoint": None},
                  MEDIA={"local_dir": str(tmp_path / "media"), "signed_url_seconds": 60})
    first = container_factory(MediaService, config)
    first.start()
    with ServiceRpcProxy("media", config, timeout=20) as media:
        signature = media.upload(b64(samples.PNG), "签名.png", "signature")
        assert media.health()["storage"] == "ok"
    first.stop()

    again = container_factory(MediaService, config)
    again.start()
    with ServiceRpcProxy("media", config, timeout=20) as media:
        link, content = read_link(media, media.get(signature["id"])["url"], config)
    assert content == samples.PNG and link["source"]["kind"] == "file"
    assert hashlib.sha256(content).hexdigest() == signature["sha256"]


def test_disguised_exe_is_refused_and_nothing_remains(media, bucket, clean_database):
    with pytest.raises(RemoteError) as caught:
        media.upload(b64(samples.EXE), "holiday.jpg", "photo", stage="after")
    error = error_of(caught)
    assert error.status == 415
    assert "JPEG" in error.message and "PDF" in error.message
    assert row_count(clean_database) == 0
    assert objects_in(bucket) == []


def test_empty_file_is_400_with_the_file_field(media, bucket):
    with pytest.raises(RemoteError) as caught:
        media.upload("", "empty.png", "signature")
    error = error_of(caught)
    assert (error.status, error.fields) == (400, {"file": ["文件为空 (empty file)"]})
    assert objects_in(bucket) == []


def test_too_large_is_413(media, bucket, clean_database):
    with pytest.raises(RemoteError) as caught:
        media.upload(b64(samples.jpeg_headed(MAX_BYTES + 1)), "big.jpg", "photo", stage="during")
    assert error_of(caught).status == 413
    assert media.upload(b64(samples.jpeg_headed(MAX_BYTES)), "ok.jpg", "photo",
                        stage="during")["size"] == MAX_BYTES
    assert row_count(clean_database) == 1


def test_bad_kind_and_stage_are_400_field_by_field(media, bucket):
    with pytest.raises(RemoteError) as caught:
        media.upload(b64(samples.PNG), "a.png", "photo")
    assert list(error_of(caught).fields) == ["stage"]
    with pytest.raises(RemoteError) as caught:
        media.upload(b64(samples.PNG), "a.png", "selfie", complaint_id="")
    assert sorted(error_of(caught).fields) == ["complaint_id", "kind"]
    assert objects_in(bucket) == []


def test_a_signature_keeps_how_it_was_made_whatever_its_file_name(media, bucket):
    typed = media.upload(b64(samples.PNG), "IMG_0001.png", "signature", signature_kind="typed")
    drawn = media.upload(b64(samples.PNG), "typed-signature.png", "signature",
                         signature_kind="drawn")
    unsaid = media.upload(b64(samples.PNG), "typed-signature.png", "signature")
    assert [media.get(m["id"])["signature_kind"] for m in (typed, drawn, unsaid)] \
        == ["typed", "drawn", None]
    assert typed["signature_kind"] == "typed"
    with pytest.raises(RemoteError) as caught:       # only a signature, only drawn or typed
        media.upload(b64(samples.PNG), "a.png", "photo", stage="before", signature_kind="typed")
    assert list(error_of(caught).fields) == ["signature_kind"]
    with pytest.raises(RemoteError) as caught:
        media.upload(b64(samples.PNG), "a.png", "signature", signature_kind="stamped")
    assert list(error_of(caught).fields) == ["signature_kind"]
    assert len(objects_in(bucket)) == 3


def test_media_stored_is_published_exactly_once(media, subscriber_factory):
    subscriber = subscriber_factory("media.events")
    uploaded = media.upload(b64(samples.WEBP), "a.webp", "photo", stage="after",
                            complaint_id="C-GZ-2026-000001", uploaded_by="P-1", step="progress")
    subscriber.wait_for(lambda events: any(e["type"] == "media.stored" for e in events))
    subscriber.drain(timeout=0.5)  # anything duplicated would be here by now
    stored = [e for e in subscriber.received if e["type"] == "media.stored"]
    assert len(stored) == 1
    event = stored[0]
    assert (event["producer"], event["region"], event["complaint_id"]) == (
        "media", "GZ", "C-GZ-2026-000001")
    assert event["data"] == {
        "media_id": uploaded["id"], "kind": "photo", "stage": "after",
        "content_type": "image/webp", "size": len(samples.WEBP), "sha256": uploaded["sha256"],
        "uploaded_by": "P-1", "complaint_id": "C-GZ-2026-000001", "step": "progress"}


def test_bind_and_verify_a_signed_record(media, subscriber_factory):
    subscriber = subscriber_factory("media.events", routing_key="media.signature_bound")
    signature = media.upload(b64(samples.PNG), "sig.png", "signature", step="recording")
    record = {"id": "C-GZ-2026-000123", "room": "3-1-502", "demand": "客厅漏水，请尽快维修",
              "requested_completion_at": datetime(2026, 12, 1, 18, tzinfo=UTC)}
    sha = record_sha256(record)

    bound = media.bind_signature(signature["id"], "complaint", record["id"], sha,
                                 bound_by="P-0001", complaint_id=record["id"])
    assert bound["binding"]["record_sha256"] == sha
    assert bound["complaint_id"] == record["id"]
    again = media.bind_signature(signature["id"], "complaint", record["id"], sha.upper())
    assert again["binding"] == bound["binding"]

    intact = media.verify_signature(signature["id"], sha)
    assert intact == {"media_id": signature["id"], "record_type": "complaint",
                      "record_id": record["id"], "intact": True,
                      "bound_record_sha256": sha, "current_record_sha256": sha}
    tampered = dict(record, demand="客厅漏水")
    assert media.verify_signature(signature["id"], record_sha256(tampered))["intact"] is False
    assert media.get(signature["id"])["binding"]["record_id"] == record["id"]

    subscriber.wait_for(lambda events: len(events) >= 1)
    subscriber.drain(timeout=0.5)
    assert [(e["type"], e["data"]["record_sha256"], e["complaint_id"])
            for e in subscriber.received] == [("media.signature_bound", sha, record["id"])]


def test_bind_conflicts_and_refusals(media):
    signature = media.upload(b64(samples.PNG), "sig.png", "signature")
    photo = media.upload(b64(samples.PNG), "p.png", "photo", stage="before")
    sha = "ab" * 32

    with pytest.raises(RemoteError) as caught:
        media.verify_signature(signature["id"], sha)
    assert error_of(caught).status == 409  # not bound yet

    media.bind_signature(signature["id"], "visit", "V-GZ-1", sha)
    with pytest.raises(RemoteError) as caught:
        media.bind_signature(signature["id"], "visit", "V-GZ-2", sha)
    assert error_of(caught).status == 409
    assert media.verify_signature(signature["id"], sha)["record_id"] == "V-GZ-1"

    with pytest.raises(RemoteError) as caught:
        media.bind_signature(photo["id"], "visit", "V-GZ-1", sha)
    assert list(error_of(caught).fields) == ["media_id"]
    with pytest.raises(RemoteError) as caught:
        media.bind_signature(signature["id"], "visit", "V-GZ-1", "not-a-sha")
    assert list(error_of(caught).fields) == ["record_sha256"]


@pytest.mark.parametrize("media_id", ["M-GZ-" + "0" * 32, "../../etc/passwd", None])
def test_unknown_or_malformed_media_is_404(media, media_id):
    with pytest.raises(RemoteError) as caught:
        media.get(media_id)
    assert error_of(caught).status == 404


def test_orphan_sweep_removes_only_old_objects_without_a_row(media, bucket, media_config):
    config = media_config
    client, name = bucket
    kept = media.upload(b64(samples.PDF), "minutes.pdf", "minutes")
    # An upload that crashed between storing the object and committing its row.
    orphan = f"GZ/2026/11/M-GZ-{uuid.uuid4().hex}"
    client.put_object(name, orphan, io.BytesIO(samples.JPEG), len(samples.JPEG),
                      content_type="image/jpeg")

    assert media.sweep_orphans() == 0  # too young: it may still be committing
    assert media.sweep_orphans(older_than_seconds=0) == 1
    remaining = objects_in(bucket)
    assert orphan not in remaining
    assert [key.rsplit("/", 1)[1] for key in remaining] == [kept["id"]]
    assert read_link(media, media.get(kept["id"])["url"], config)[1] == samples.PDF


def test_health(media):
    assert media.health() == {"status": "ok", "database": "ok", "storage": "ok",
                              "outbox_backlog": 0}
