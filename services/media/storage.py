"""Where media keeps its objects, behind one interface (`MediaStore`), and
its nameko dependency.

Two stores: `ObjectStore`, MinIO or any S3-compatible server (production:
`MINIO.endpoint` set), and `LocalDirectoryStore` (local_store.py), a
directory on this machine (`MEDIA.local_dir`, the default of `make run`:
objects survive restarts). `store_from_config` picks one. The bytes are
checked before they reach a store (domain.inspect_content: type by content,
size, SHA-256), whichever it is.

Keys are made by `domain.object_key` only, never from user input. Every call
is bounded (connect 5 s, read 30 s by default) so a stuck store fails an upload
instead of stalling the worker; failures surface as `Unavailable` (503).
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import certifi
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from nameko.extensions import DependencyProvider

from shared.config import as_bool
from shared.contracts.media.reading import local_dir, uses_minio
from shared.errors import NotFound, Unavailable

log = logging.getLogger(__name__)

_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchBucket"}
_FAILURES = (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError)


def _unavailable(action, exc):
    # The client's words (host, port, URL) go to the log, not to a user (the
    # fault test's store outage showed them in every upload's 503).
    log.warning("object store unavailable while %s: %s", action, exc)
    return Unavailable(f"文件存储暂不可用，请稍后重试 (object store unavailable while {action}; "
                       "try again shortly)")


# How long the gateway's read of an S3 object may take to start (`source`).
INTERNAL_URL_SECONDS = 60

_MD5_ETAG = re.compile(r'"?([0-9a-fA-F]{32})"?')
_TOTAL = re.compile(r"bytes \d+-\d+/(\d+)")


@dataclass(frozen=True)
class StoredHead:
    """An object as `peek` sees it: size, first bytes, and the MD5 the store
    computed of the bytes it holds (S3's ETag of a single-part PUT; None for a
    multipart one; an SSE-KMS ETag is no MD5 and differs: read back whole)."""
    size: int
    head: bytes
    md5: str | None


def etag_md5(etag: str | None) -> str | None:
    """An S3 ETag's MD5 hex if it looks like one (not `<hex>-<parts>`)."""
    found = _MD5_ETAG.fullmatch((etag or "").strip())
    return found.group(1).lower() if found else None


class MediaStore(ABC):
    """What media needs of a store. Keys are media's (`domain.object_key`)."""

    @abstractmethod
    def ensure_bucket(self) -> None:
        """Make the bucket (or directory) if it is missing (idempotent)."""

    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store the object whole or not at all."""

    @abstractmethod
    def read(self, key: str) -> bytes:
        """The object's bytes (NotFound when it is not there)."""

    @abstractmethod
    def peek(self, key: str, count: int) -> StoredHead:
        """The object's size, its first `count` bytes and the store's MD5 of
        it if it keeps one, without reading it whole (NotFound when it is not
        there)."""

    @abstractmethod
    def source(self, key: str, signed_at: datetime,
               content_type: str | None = None) -> dict[str, Any]:
        """How the gateway reads the object (shared.contracts.media.reading):
        {"kind": "file", "key"}, {"kind": "url", "url"} or {"kind": "redirect", "url"}
        (a redirect's URL makes the store answer with `content_type`)."""

    @abstractmethod
    def upload_target(self, key: str, expires: timedelta) -> dict[str, Any]:
        """Where the gateway writes a new object itself
        (shared.contracts.media.writing): {"kind": "url", "url"} or {"kind": "file", "key"}."""

    @abstractmethod
    def remove(self, key: str) -> None:
        """Delete the object (no error if it is gone)."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether the object is there."""

    @abstractmethod
    def list(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """(key, last_modified) of every object under `prefix`."""

    @abstractmethod
    def ping(self) -> bool:
        """True when the store can be reached (health)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the objects are, for people (logs, `make run`)."""


class ObjectStore(MediaStore):
    """One bucket of an S3-compatible server, through `minio.Minio`."""

    def __init__(self, client, bucket, region=None, presign_client=None, endpoint=None):
        self.client = client
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
        # Signed URLs may have to name the host browsers reach (a public
        # endpoint) rather than the one the service talks to.
        self.presign_client = presign_client or client
        self.public = presign_client is not None
        self._bucket_ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, minio):
        """Build from the `MINIO` config section: endpoint, access_key,
        secret_key, bucket, secure, region; optional public_endpoint,
        public_secure, connect_timeout, read_timeout."""
        secure = as_bool(minio.get("secure", False))
        region = minio.get("region") or "us-east-1"
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=float(minio.get("connect_timeout", 5)),
                                    read=float(minio.get("read_timeout", 30))),
            maxsize=int(minio.get("pool_size", 10)),
            cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(),
            retries=urllib3.Retry(total=2, backoff_factor=0.2,
                                  status_forcelist=[500, 502, 503, 504]))
        credentials = dict(access_key=str(minio["access_key"]), secret_key=str(minio["secret_key"]))
        client = Minio(str(minio["endpoint"]), secure=secure, region=region, http_client=http,
                       **credentials)
        presign_client = None
        if minio.get("public_endpoint"):
            # With the region given, presigning is pure computation: no request.
            presign_client = Minio(str(minio["public_endpoint"]), region=region,
                                   secure=as_bool(minio.get("public_secure", secure)),
                                   **credentials)
        return cls(client, str(minio["bucket"]), region, presign_client,
                   endpoint=str(minio["endpoint"]))

    def ensure_bucket(self):
        """Create the bucket if it is missing (idempotent)."""
        with self._lock:
            if self._bucket_ready:
                return
            try:
                if not self.client.bucket_exists(self.bucket):
                    try:
                        self.client.make_bucket(self.bucket, location=self.region)
                    except S3Error as exc:
                        # Another instance created it first.
                        if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                            raise
            except _FAILURES as exc:
                raise _unavailable("creating the bucket", exc) from exc
            self._bucket_ready = True

    def put(self, key, data, content_type):
        self.ensure_bucket()
        try:
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data),
                                   content_type=content_type)
        except _FAILURES as exc:
            raise _unavailable("storing the file", exc) from exc

    def read(self, key):
        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise NotFound("文件不存在 (no such file)") from None
            raise _unavailable("reading a file", exc) from exc
        except _FAILURES as exc:
            raise _unavailable("reading a file", exc) from exc
        try:
            return response.read()
        except _FAILURES as exc:
            raise _unavailable("reading a file", exc) from exc
        finally:
            response.close()
            response.release_conn()

    def peek(self, key, count):
        """One ranged GET: the first bytes, the size (`Content-Range`) and the
        ETag of one version of the object (a HEAD then a GET could see two)."""
        try:
            response = self.client.get_object(self.bucket, key, offset=0, length=count)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise NotFound("文件不存在 (no such file)") from None
            if exc.code == "InvalidRange":          # an empty object has no byte 0
                return StoredHead(0, b"", None)
            raise _unavailable("reading a file's first bytes", exc) from exc
        except _FAILURES as exc:
            raise _unavailable("reading a file's first bytes", exc) from exc
        try:
            head = response.read(count)
            total = _TOTAL.fullmatch(response.headers.get("Content-Range") or "")
            # A server that ignores Range answers 200 with the whole object.
            size = int(total.group(1)) if total else int(response.headers["Content-Length"])
            return StoredHead(size, head[:count], etag_md5(response.headers.get("ETag")))
        except (*_FAILURES, KeyError) as exc:
            raise _unavailable("reading a file's first bytes", exc) from exc
        finally:
            response.close()
            response.release_conn()

    def source(self, key, signed_at, content_type=None):
        """With a public endpoint, a URL signed for it (the browser follows the
        gateway's redirect; the object was PUT by the gateway as octet-stream,
        so the URL names the type media found); else a URL of the internal
        endpoint, valid for a minute, that the gateway reads and streams on."""
        expires = timedelta(seconds=INTERNAL_URL_SECONDS)
        if self.public:
            return {"kind": "redirect", "url": self.presigned_get(
                key, expires, signed_at, content_type=content_type)}
        try:
            url = self.client.presigned_get_object(self.bucket, key, expires=expires,
                                                   request_date=signed_at)
        except _FAILURES as exc:
            raise _unavailable("signing a URL", exc) from exc
        return {"kind": "url", "url": url}

    def describe(self):
        where = f" at {self.endpoint}" if self.endpoint else ""
        return f"MinIO/S3{where}, bucket {self.bucket}"

    def presigned_get(self, key, expires, signed_at=None, content_type=None):
        """A URL that reads the object for `expires` (a timedelta) from
        `signed_at` (default: now). Give the real time: the store checks the
        URL against its own clock, never against the simulation clock."""
        headers = {"response-content-type": content_type} if content_type else None
        try:
            return self.presign_client.presigned_get_object(
                self.bucket, key, expires=expires, request_date=signed_at,
                response_headers=headers)
        except _FAILURES as exc:
            raise _unavailable("signing a URL", exc) from exc

    def upload_target(self, key, expires):
        """A URL of the internal endpoint (the gateway's, not browsers') that
        PUTs this one object, signed for `expires` from now (real time)."""
        self.ensure_bucket()
        try:
            url = self.client.presigned_put_object(self.bucket, key, expires=expires)
        except _FAILURES as exc:
            raise _unavailable("signing an upload URL", exc) from exc
        return {"kind": "url", "url": url}

    def remove(self, key):
        try:
            self.client.remove_object(self.bucket, key)
        except _FAILURES as exc:
            raise _unavailable("removing a file", exc) from exc

    def exists(self, key):
        try:
            self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                return False
            raise _unavailable("reading a file's status", exc) from exc
        except _FAILURES as exc:
            raise _unavailable("reading a file's status", exc) from exc
        return True

    def list(self, prefix):
        """Yield (key, last_modified) of every object under `prefix`."""
        try:
            for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
                yield obj.object_name, obj.last_modified
        except _FAILURES as exc:
            raise _unavailable("listing files", exc) from exc

    def ping(self):
        """True when the bucket can be reached (health)."""
        try:
            return self.client.bucket_exists(self.bucket)
        except _FAILURES as exc:
            log.warning("object store unreachable: %s", exc)
            return False


class InMemoryObjectStore(ObjectStore):
    """A fake for unit tests: same interface, objects kept in a dict.

    `now` gives the objects' last-modified times; set `put_error` to an
    exception to make the next puts fail like an unreachable store."""

    def __init__(self, bucket="ccrm-media", now=None):
        self.bucket = bucket
        self.endpoint = None
        self.region = "us-east-1"
        self.objects = {}
        self.put_error = None
        self._now = now or (lambda: datetime.now(UTC))

    def ensure_bucket(self):
        return None

    def put(self, key, data, content_type):
        if self.put_error is not None:
            raise self.put_error
        self.objects[key] = (bytes(data), content_type, self._now())

    def read(self, key):
        if key not in self.objects:
            raise NotFound("文件不存在 (no such file)")
        return self.objects[key][0]

    def peek(self, key, count):
        """As S3 answers a ranged GET: the ETag is the MD5 of the object."""
        if key not in self.objects:
            raise NotFound("文件不存在 (no such file)")
        content = self.objects[key][0]
        return StoredHead(len(content), content[:count], hashlib.md5(content).hexdigest())

    def source(self, key, signed_at, content_type=None):
        return {"kind": "url", "url": f"memory://{self.bucket}/{key}"}

    def upload_target(self, key, expires):
        return {"kind": "url", "url": f"memory://{self.bucket}/{key}?put"}

    def describe(self):
        return f"memory bucket {self.bucket}"

    def presigned_get(self, key, expires, signed_at=None):
        return f"memory://{self.bucket}/{key}?expires={int(expires.total_seconds())}"

    def remove(self, key):
        self.objects.pop(key, None)

    def exists(self, key):
        return key in self.objects

    def list(self, prefix):
        for key, (_, _, modified) in sorted(self.objects.items()):
            if key.startswith(prefix):
                yield key, modified

    def ping(self):
        return True


def store_from_config(config: Mapping[str, Any]) -> MediaStore:
    """MinIO/S3 when `MINIO.endpoint` is set, else the local directory
    `MEDIA.local_dir` (shared.contracts.media.reading says the same to the gateway)."""
    if uses_minio(config):
        return ObjectStore.from_config(config["MINIO"])
    from services.media.local_store import LocalDirectoryStore
    return LocalDirectoryStore(local_dir(config))


class ObjectStoreProvider(DependencyProvider):
    """Gives a worker the service's store (store_from_config).

    The bucket is ensured on start; if the store is not up yet the service
    still starts (health says so) and the first upload tries again."""

    def setup(self):
        self.store = store_from_config(self.container.config)

    def start(self):
        log.info("media objects kept in %s", self.store.describe())
        try:
            self.store.ensure_bucket()
        except Unavailable as exc:
            log.error("media bucket not ready at start, will retry on upload: %s", exc.message)

    def get_dependency(self, worker_ctx):
        return self.store
