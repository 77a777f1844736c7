"""Uploads go from the gateway straight to the store (uploads.py,
shared.contracts.media.writing), on both stores (the local directory of
`make run` and a real S3 server), with the real broker and database:

- the multipart API is unchanged (201 and the MediaView), the stored object
  is the file byte for byte, and media's `upload` RPC (base64 over the
  broker) is never called: a media whose `upload` refuses still stores it;
- a file refused by its content (a program named .jpg) answers 415 as
  before and leaves nothing: no object, no row, no pending upload;
- an upload whose confirm never came is swept with its object once
  MEDIA.unconfirmed_seconds have passed on the shared clock (and its PUT URL
  has expired), not before, and its late confirm is refused (404).
"""
import hashlib
import io
from datetime import timedelta

import pytest
import requests
from nameko.standalone.rpc import ServiceRpcProxy

from services.gateway.tests.test_files import (
    NOW,
    World,
    start_world,
    storage_config,  # noqa: F401 - fixture
    world_config,
)
from services.gateway.uploads import RESERVE_BATCH
from services.media.local_store import LocalDirectoryStore
from services.media.service import MediaService
from services.media.storage import ObjectStore, store_from_config
from services.media.tests import samples
from shared.clock import SimulationClock
from shared.contracts.media import MediaClient
from shared.contracts.media.reading import uses_minio
from shared.contracts.media.writing import write_to_target
from shared.errors import NotFound
from shared.rpc import rpc

pytestmark = pytest.mark.integration

DAY = 24 * 3600


class MediaWithoutRpcUploads(MediaService):
    """media as it is, except that a file sent over RPC is refused."""

    @rpc
    def upload(self, content_b64, filename, kind, stage=None, complaint_id=None,
               uploaded_by=None, step=None):
        raise AssertionError("the gateway sent a file over the broker")


class DirectWorld(World):
    def start_media(self):
        self.media = self.container_factory(MediaWithoutRpcUploads, self.config)
        self.media.start()


@pytest.fixture
def world(storage_config, ccrm_config, runner_factory, container_factory,  # noqa: F811
          web_config, clean_database, monkeypatch):
    monkeypatch.setattr("services.gateway.tests.test_files.World", DirectWorld)
    config = world_config(ccrm_config, storage_config)
    config["MEDIA"] = dict(config["MEDIA"], unconfirmed_seconds=DAY)
    world = start_world(config, runner_factory, container_factory, web_config, clean_database)
    world.database = clean_database
    world.store = store_from_config(config)
    return world


def post_file(world, kind, content, name="现场.jpg", **fields):
    return requests.post(world.url("/api/media"), headers=world.headers["spec"],
                         data={"kind": kind, **fields},
                         files={"file": (name, content, "image/jpeg")}, timeout=30)


def count(database, table):
    with database.connection() as conn:
        return conn.execute(f"SELECT count(*) AS n FROM media.{table}").fetchone()["n"]


def stored_keys(world):
    prefix = f"{world.config.get('REGION_CODE', 'GZ')}/"
    return [key for key, _ in world.store.list(prefix)]


def test_a_photo_goes_to_the_store_without_crossing_the_broker(world):
    photo = samples.JPEG + b"\x00" * 200_000       # a 200 KB photo
    answer = post_file(world, "photo", photo, stage="before")
    assert answer.status_code == 201, answer.text
    media = answer.json()
    assert (media["kind"], media["stage"], media["content_type"], media["size"]) == (
        "photo", "before", "image/jpeg", len(photo))
    assert media["filename"] == "现场.jpg" and media["uploaded_by"] == "p01-spec-1"
    [key] = stored_keys(world)
    assert key.endswith(media["id"]) and world.store.read(key) == photo
    assert count(world.database, "objects") == 1
    # The gateway keeps the rest of the places it reserved for the next uploads.
    assert count(world.database, "pending_uploads") == RESERVE_BATCH - 1
    served = requests.get(requests.get(world.url(f"/api/media/{media['id']}"),
                                       headers=world.headers["spec"], timeout=30).json()["url"],
                          timeout=30)
    assert served.status_code == 200 and served.content == photo
    assert served.headers["Content-Type"] == "image/jpeg"


def test_on_s3_media_confirms_without_reading_the_photo_back(world, monkeypatch):
    """The gateway sends the PUT with Content-MD5 and the MD5 to media, which
    reads the object's first bytes, not the whole of it; the local directory
    is read back whole (0.14 ms for 200 KB: local_store.LocalDirectoryStore.peek)."""
    reads = []
    for store_class in (ObjectStore, LocalDirectoryStore):
        for name in ("read", "peek"):
            original = getattr(store_class, name)

            def counted(self, key, *args, _original=original, _name=name):
                reads.append(_name)
                return _original(self, key, *args)
            monkeypatch.setattr(store_class, name, counted)
    photo = samples.JPEG + b"\x00" * 200_000
    answer = post_file(world, "photo", photo, stage="before")
    assert answer.status_code == 201, answer.text
    assert answer.json()["sha256"] == hashlib.sha256(photo).hexdigest()
    s3 = uses_minio(world.config)
    assert reads == (["peek"] if s3 else ["read"])
    monkeypatch.undo()
    [key] = stored_keys(world)
    assert world.store.read(key) == photo


def test_a_file_refused_by_its_content_leaves_nothing(world):
    answer = post_file(world, "photo", samples.EXE, name="holiday.jpg", stage="before")
    assert answer.status_code == 415, answer.text
    error = answer.json()["error"]
    assert "file" in error["fields"] and "JPEG" in error["message"]
    assert stored_keys(world) == []
    assert count(world.database, "objects") == 0
    assert count(world.database, "pending_uploads") == RESERVE_BATCH - 1    # its place went too


def test_an_empty_file_is_refused_before_media_is_asked(world):
    answer = post_file(world, "photo", b"", stage="before")
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["fields"]["file"]
    assert count(world.database, "pending_uploads") == 0          # media was not asked


def test_an_upload_never_confirmed_is_swept_after_a_day_of_the_shared_clock(world):
    clock = SimulationClock(world.database, cache_seconds=0)
    with ServiceRpcProxy("media", world.config, timeout=20) as proxy:
        media = MediaClient(proxy)
        [begun] = media.reserve_uploads(1)
        write_to_target(begun["target"], io.BytesIO(samples.PNG), len(samples.PNG),
                        world.config)
        [key] = stored_keys(world)
        with world.database.transaction() as conn:     # its PUT URL expired (real time)
            conn.execute("UPDATE media.pending_uploads SET expires_at = now() - interval '1 s'")

        # Younger than a day: kept, even by a sweep of every unnamed object.
        clock.set(NOW + timedelta(seconds=DAY - 60))
        assert media.sweep_orphans(older_than_seconds=0) == 0
        assert stored_keys(world) == [key]

        clock.set(NOW + timedelta(seconds=DAY + 60))
        assert media.sweep_orphans(older_than_seconds=DAY) == 1
        assert stored_keys(world) == []
        assert count(world.database, "pending_uploads") == 0
        with pytest.raises(NotFound):
            media.confirm_upload(begun["upload_id"], "0" * 64, len(samples.PNG), "半途.png",
                                 "signature")
        assert count(world.database, "objects") == 0
