"""The two stores media can keep its objects in, as one parametrised fixture:
`store_config` is the config (MINIO and MEDIA sections) of MinIO/S3 (a real
S3-compatible server, moto's) or of the local directory (`make run`'s
default); `store` is the store media builds from it. A test that takes
either runs against both."""
import pytest

from services.media.storage import store_from_config

BACKENDS = ("s3", "local")


def local_config(root):
    """The config of `make run`'s default: no MINIO endpoint, a directory."""
    return {"MINIO": {"endpoint": None}, "MEDIA": {"local_dir": str(root)}}


@pytest.fixture(params=BACKENDS)
def store_config(request, tmp_path):
    if request.param == "s3":
        return {"MINIO": request.getfixturevalue("s3_config"), "MEDIA": {}}
    return local_config(tmp_path / "media")


@pytest.fixture
def store(store_config):
    return store_from_config(store_config)
