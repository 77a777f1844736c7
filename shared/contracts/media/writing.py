"""Writing an upload's bytes where media's `reserve_uploads` says (the
gateway's side of a direct upload; the bytes never cross the broker).

An `UploadTargetView.target` is one of:

- `{"kind": "url", "url"}`: a URL media presigned for a `PUT` of that one
  object at the store's internal endpoint (MinIO/S3), valid for minutes; the
  gateway holds no store credentials;
- `{"kind": "file", "key"}`: the object in the local directory
  (`MEDIA.local_dir`, `make run`'s default), written here with the same
  `safe_path` rule and the same atomic write (temporary file in `.incoming`,
  flushed, renamed into place) media's own store uses. The gateway already
  reads this directory to serve files (reading.py), so writing it needs no
  new access and no HTTP server in media.

Either way the file is streamed from the request's (spooled) upload, hashed
on the way; media's `confirm_upload` then checks size, type and SHA-256 of
what was stored.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import urllib3

from shared.contracts.media.reading import CHUNK_BYTES, local_dir, safe_path
from shared.errors import Unavailable

INCOMING = ".incoming"

_http = urllib3.PoolManager(
    timeout=urllib3.Timeout(connect=5.0, read=60.0), maxsize=10,
    retries=urllib3.Retry(total=0, redirect=0))


class HashingReader:
    """A file read through once, counting and hashing what passes."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        block = self.source.read(n)
        self.hash.update(block)
        self.size += len(block)
        return block

    def hexdigest(self) -> str:
        return self.hash.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_file(root: Path, key: str, source: IO[bytes]) -> None:
    """Write `source` to `key` under `root` whole or not at all (OSError on
    failure, ValueError for a key that is not media's)."""
    path = safe_path(root, key)
    incoming = root / INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    temp = incoming / f"{uuid.uuid4().hex}.part"
    try:
        with open(temp, "xb") as handle:
            while block := source.read(CHUNK_BYTES):
                handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, path)
        _fsync_dir(path.parent)
    finally:
        temp.unlink(missing_ok=True)


def put_url(url: str, source: IO[bytes], size: int,
            http: urllib3.PoolManager | None = None) -> None:
    """PUT `size` bytes of `source` to a presigned URL."""
    try:
        response = (http or _http).request(
            "PUT", url, body=source, headers={"Content-Length": str(size),
                                              "Content-Type": "application/octet-stream"},
            preload_content=True)
    except urllib3.exceptions.HTTPError as exc:
        raise Unavailable(f"文件存储暂不可用 (object store unreachable: {exc})") from exc
    if response.status != 200:
        raise Unavailable(f"文件存储暂不可用 (object store answered {response.status} to a PUT)")


def write_to_target(target: Mapping[str, Any], source: IO[bytes], size: int,
                    config: Mapping[str, Any], http: urllib3.PoolManager | None = None) -> str:
    """Stream `size` bytes of `source` to a `reserve_uploads` target; their
    SHA-256 (hex), for `confirm_upload`. Unavailable when the store refuses."""
    reader = HashingReader(source)
    kind = target.get("kind")
    if kind == "url":
        put_url(str(target["url"]), reader, size, http)  # type: ignore[arg-type]
    elif kind == "file":
        try:
            write_file(local_dir(config), str(target.get("key")), reader)  # type: ignore[arg-type]
        except OSError as exc:
            raise Unavailable(
                f"文件存储暂不可用 (local media directory unwritable: {exc})") from exc
    else:
        raise ValueError(f"cannot write to a {kind!r} target")
    if reader.size != size:
        raise Unavailable(f"上传未完整写入 (wrote {reader.size} of {size} bytes)")
    return reader.hexdigest()
