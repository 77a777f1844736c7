"""The stores media keeps objects in, the SAME tests against both: MinIO/S3
(a real S3-compatible server) and the local directory of `make run`; then
what only one of them has (the directory's atomic writes and safe keys, the
S3 store's public endpoint and timeouts)."""
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.media.local_store import INCOMING, STALE_TEMP_SECONDS, LocalDirectoryStore
from services.media.storage import ObjectStore, store_from_config
from services.media.tests import samples
from services.media.tests.conftest import local_config
from shared.contracts.media.reading import open_source
from shared.errors import NotFound, Unavailable
from shared.testing.s3server import free_port

pytestmark = pytest.mark.integration

KEY = "GZ/2026/11/M-GZ-" + "a" * 32
OTHER = "SZ/2026/11/M-SZ-" + "b" * 32


def read_source(store, key, config):
    """The bytes as the gateway reads them (shared.contracts.media.reading)."""
    stream = open_source(store.source(key, datetime.now(UTC).replace(microsecond=0)), config)
    return b"".join(stream.chunks)


# -- the same for both stores -------------------------------------------------------

def test_put_exists_list_read_remove(store, store_config):
    store.ensure_bucket()
    store.ensure_bucket()  # idempotent
    before = datetime.now(UTC) - timedelta(seconds=5)
    store.put(KEY, samples.PNG, "image/png")
    store.put(OTHER, samples.JPEG, "image/jpeg")

    assert store.exists(KEY)
    assert not store.exists("GZ/2026/11/M-GZ-missing")
    listed = list(store.list("GZ/"))
    assert [key for key, _ in listed] == [KEY]
    assert listed[0][1] >= before.replace(microsecond=0)
    assert store.read(KEY) == samples.PNG
    assert read_source(store, KEY, store_config) == samples.PNG

    store.remove(KEY)
    assert not store.exists(KEY)
    assert [key for key, _ in store.list("GZ/")] == []
    with pytest.raises(NotFound):
        store.read(KEY)
    store.remove(KEY)  # removing what is gone is no error
    assert store.ping()


def test_put_creates_a_missing_bucket(store):
    store.put("GZ/x", samples.PDF, "application/pdf")
    assert store.exists("GZ/x") and store.read("GZ/x") == samples.PDF


def test_a_new_store_on_the_same_config_reads_what_the_last_one_wrote(store_config):
    # What a restart of media does: a new store from the same config.
    first = store_from_config(store_config)
    first.put(KEY, samples.WEBP, "image/webp")
    again = store_from_config(store_config)
    assert again.read(KEY) == samples.WEBP
    assert [key for key, _ in again.list("GZ/")] == [KEY]


def test_an_object_is_replaced_whole(store):
    store.put(KEY, samples.PNG, "image/png")
    store.put(KEY, samples.PDF, "application/pdf")
    assert store.read(KEY) == samples.PDF


def test_the_gateway_reads_a_missing_object_as_not_found(store, store_config):
    store.ensure_bucket()
    with pytest.raises(NotFound):
        read_source(store, KEY, store_config)


def test_the_store_says_where_it_keeps_objects(store, store_config):
    described = store.describe()
    if store_config["MINIO"].get("endpoint"):
        assert store_config["MINIO"]["endpoint"] in described
    else:
        assert store_config["MEDIA"]["local_dir"] in described


# -- the local directory ------------------------------------------------------------

@pytest.fixture
def local(tmp_path):
    return LocalDirectoryStore(tmp_path / "media")


def test_make_runs_default_config_is_the_local_directory(tmp_path):
    store = store_from_config(local_config(tmp_path / "m"))
    assert isinstance(store, LocalDirectoryStore)
    assert store_from_config({"MINIO": {"endpoint": ""}}).root == Path("var/media")


def test_objects_are_files_under_their_key(local):
    local.put(KEY, samples.PNG, "image/png")
    assert (local.root / KEY).read_bytes() == samples.PNG
    assert local.source(KEY, datetime.now(UTC)) == {"kind": "file", "key": KEY}


@pytest.mark.parametrize("key", [
    "../outside", "GZ/../../outside", "/etc/passwd", "GZ/./x", ".incoming/x", "GZ\\..\\x",
    "GZ/x\0", "", "GZ//x", "GZ/x/", "~/x", "GZ/.hidden"])
def test_keys_that_could_leave_the_directory_are_refused(local, tmp_path, key):
    with pytest.raises(NotFound):
        local.put(key, samples.PNG, "image/png")
    with pytest.raises(NotFound):
        local.read(key)
    assert not local.exists(key)
    with pytest.raises(NotFound):
        open_source({"kind": "file", "key": key}, local_config(local.root))
    assert not (tmp_path / "outside").exists()


def test_a_link_inside_the_directory_cannot_lead_out(local, tmp_path):
    (tmp_path / "secret").write_bytes(b"not media")
    local.ensure_bucket()
    (local.root / "GZ").symlink_to(tmp_path)
    with pytest.raises(NotFound):
        local.read("GZ/secret")
    with pytest.raises(NotFound):
        open_source({"kind": "file", "key": "GZ/secret"}, local_config(local.root))


def test_a_failed_write_leaves_neither_a_part_nor_a_temporary_file(local, monkeypatch):
    local.put(KEY, samples.PNG, "image/png")

    def disk_gone(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_gone)
    with pytest.raises(Unavailable) as caught:
        local.put(OTHER, samples.JPEG, "image/jpeg")
    assert caught.value.status == 503
    assert not local.exists(OTHER)
    assert list((local.root / INCOMING).iterdir()) == []
    assert local.read(KEY) == samples.PNG      # what was there is untouched


def test_temporary_files_a_crash_left_are_removed_at_start(tmp_path):
    root = tmp_path / "media"
    (root / INCOMING).mkdir(parents=True)
    old = root / INCOMING / "old.part"
    old.write_bytes(b"half a photo")
    fresh = root / INCOMING / "fresh.part"
    fresh.write_bytes(b"being written")
    os.utime(old, (time.time() - STALE_TEMP_SECONDS - 10,) * 2)
    store = LocalDirectoryStore(root)
    store.ensure_bucket()
    assert not old.exists() and fresh.exists()
    assert list(store.list("")) == []          # temporary files are never objects


def test_removing_the_last_object_of_a_month_removes_its_directories(local):
    local.put(KEY, samples.PNG, "image/png")
    local.remove(KEY)
    assert sorted(p.name for p in local.root.iterdir()) == [INCOMING]


def test_an_unwritable_directory_is_unavailable(tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    store = LocalDirectoryStore(blocked / "media")
    assert not store.ping()
    with pytest.raises(Unavailable):
        store.put(KEY, samples.PNG, "image/png")


# -- MinIO / S3 ---------------------------------------------------------------------

def test_the_gateway_reads_an_s3_object_through_an_internal_presigned_url(s3_config):
    store = ObjectStore.from_config(s3_config)
    store.put(KEY, samples.PNG, "image/png")
    source = store.source(KEY, datetime.now(UTC).replace(microsecond=0))
    assert source["kind"] == "url" and "X-Amz-Expires=60" in source["url"]
    assert source["url"].startswith(f"http://{s3_config['endpoint']}/")


def test_public_endpoint_signs_for_the_host_browsers_reach(s3_config):
    store = ObjectStore.from_config(dict(s3_config, public_endpoint="media.example.cn",
                                         public_secure=True))
    url = store.presigned_get(KEY, timedelta(seconds=30))
    assert url.startswith(f"https://media.example.cn/{s3_config['bucket']}/{KEY}?")
    source = store.source(KEY, datetime.now(UTC).replace(microsecond=0))
    assert source["kind"] == "redirect"
    assert source["url"].startswith(f"https://media.example.cn/{s3_config['bucket']}/{KEY}?")


def test_unreachable_store_is_unavailable_quickly(s3_config):
    store = ObjectStore.from_config(dict(s3_config, endpoint=f"127.0.0.1:{free_port()}",
                                         connect_timeout=1))
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        store.put("GZ/x", samples.PNG, "image/png")
    assert caught.value.status == 503
    assert caught.value.message.startswith("文件存储暂不可用，请稍后重试")
    assert "127.0.0.1" not in caught.value.message          # the details are logged only
    assert not store.ping()
    with pytest.raises(Unavailable):
        list(store.list("GZ/"))
    with pytest.raises(Unavailable):
        store.read("GZ/x")
    assert time.monotonic() - started < 10
