"""ObjectStore on a real S3-compatible server, and when the server is gone."""
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from services.media.storage import ObjectStore
from services.media.tests import samples
from shared.errors import Unavailable
from shared.testing.s3server import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def store(s3_config):
    return ObjectStore.from_config(s3_config)


def test_put_exists_list_presign_remove(store):
    store.ensure_bucket()
    store.ensure_bucket()  # idempotent
    before = datetime.now(UTC) - timedelta(seconds=5)
    store.put("GZ/2026/11/M-GZ-a", samples.PNG, "image/png")
    store.put("SZ/2026/11/M-SZ-b", samples.JPEG, "image/jpeg")

    assert store.exists("GZ/2026/11/M-GZ-a")
    assert not store.exists("GZ/2026/11/M-GZ-missing")
    listed = list(store.list("GZ/"))
    assert [key for key, _ in listed] == ["GZ/2026/11/M-GZ-a"]
    assert listed[0][1] >= before.replace(microsecond=0)

    url = store.presigned_get("GZ/2026/11/M-GZ-a", timedelta(seconds=30))
    assert "X-Amz-Expires=30" in url
    assert requests.get(url, timeout=10).content == samples.PNG

    store.remove("GZ/2026/11/M-GZ-a")
    assert not store.exists("GZ/2026/11/M-GZ-a")
    assert store.ping()


def test_put_creates_a_missing_bucket(store):
    store.put("GZ/x", samples.PDF, "application/pdf")
    assert store.exists("GZ/x")


def test_public_endpoint_signs_for_the_host_browsers_reach(s3_config):
    store = ObjectStore.from_config(dict(s3_config, public_endpoint="media.example.cn",
                                         public_secure=True))
    url = store.presigned_get("GZ/2026/11/M-GZ-a", timedelta(seconds=30))
    assert url.startswith(f"https://media.example.cn/{s3_config['bucket']}/GZ/2026/11/M-GZ-a?")


def test_unreachable_store_is_unavailable_quickly(s3_config):
    store = ObjectStore.from_config(dict(s3_config, endpoint=f"127.0.0.1:{free_port()}",
                                         connect_timeout=1))
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        store.put("GZ/x", samples.PNG, "image/png")
    assert caught.value.status == 503
    assert not store.ping()
    with pytest.raises(Unavailable):
        list(store.list("GZ/"))
    assert time.monotonic() - started < 10
