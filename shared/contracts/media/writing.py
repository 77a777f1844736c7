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

Either way the file comes from the request's (spooled) upload and its
SHA-256 goes to media's `confirm_upload`. To a URL it is hashed first (SHA-256
and MD5 in one pass) and sent with `Content-MD5`: S3 and MinIO refuse a body
that does not match it (BadDigest: Unavailable here), and media compares the
store's ETag, the MD5 of the bytes it holds, with the MD5 given to it, so it
checks the object from its first bytes instead of reading it back whole (moto,
the test server, does not check Content-MD5, but its ETag is the stored
bytes' MD5 too). To a file it is hashed on the way and media reads it back.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import urllib3

from shared.contracts.media.reading import CHUNK_BYTES, local_dir, safe_path
from shared.errors import Unavailable

INCOMING = ".incoming"

_http = urllib3.PoolManager(
    timeout=urllib3.Timeout(connect=5.0, read=60.0), maxsize=10,
    retries=urllib3.Retry(total=0, redirect=0))


@dataclass(frozen=True)
class Written:
    """What `write_to_target` wrote, for `confirm_upload`: the SHA-256 (hex)
    and, to a URL, the MD5 (hex) the store checked the body against."""
    sha256: str
    md5: str | None = None


class HashingReader:
    """A file read through once, counting and hashing what passes (SHA-256,
    and MD5 when asked)."""

    def __init__(self, source: IO[bytes], md5: bool = False) -> None:
        self.source = source
        self.hash = hashlib.sha256()
        self.md5 = hashlib.md5() if md5 else None
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        block = self.source.read(n)
        self.hash.update(block)
        if self.md5 is not None:
            self.md5.update(block)
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
            http: urllib3.PoolManager | None = None, md5: bytes | None = None) -> None:
    """PUT `size` bytes of `source` to a presigned URL; with `md5` (the
    body's digest) as `Content-MD5`, which the store checks (a presigned
    SigV4 URL accepts this unsigned standard header)."""
    headers = {"Content-Length": str(size), "Content-Type": "application/octet-stream"}
    if md5 is not None:
        headers["Content-MD5"] = base64.b64encode(md5).decode("ascii")
    try:
        response = (http or _http).request("PUT", url, body=source, headers=headers,
                                           preload_content=True)
    except urllib3.exceptions.HTTPError as exc:
        raise Unavailable(f"文件存储暂不可用 (object store unreachable: {exc})") from exc
    if response.status != 200:
        # 400 BadDigest: the body the store received is not the one hashed.
        raise Unavailable(f"文件存储暂不可用 (object store answered {response.status} to a PUT)")


def _hashed(source: IO[bytes]) -> HashingReader:
    """`source` read through (SHA-256 and MD5), then put back where it was."""
    start = source.tell()
    reader = HashingReader(source, md5=True)
    while reader.read(CHUNK_BYTES):
        pass
    source.seek(start)
    return reader


def write_to_target(target: Mapping[str, Any], source: IO[bytes], size: int,
                    config: Mapping[str, Any], http: urllib3.PoolManager | None = None
                    ) -> Written:
    """Write `size` bytes of `source` to a `reserve_uploads` target; their
    hashes, for `confirm_upload`. To a URL the (spooled) source is read twice:
    hashed, then sent with its Content-MD5; one that cannot seek is read
    into memory first. Unavailable when the store refuses."""
    kind = target.get("kind")
    if kind == "url":
        if not (hasattr(source, "seekable") and source.seekable()):
            source = io.BytesIO(source.read(size + 1))
        hashed = _hashed(source)
        if hashed.size != size:
            raise Unavailable(f"上传未完整写入 (read {hashed.size} of {size} bytes)")
        md5 = hashed.md5.digest()  # type: ignore[union-attr]
        put_url(str(target["url"]), source, size, http, md5=md5)
        return Written(hashed.hexdigest(), md5.hex())
    reader = HashingReader(source)
    if kind == "file":
        try:
            write_file(local_dir(config), str(target.get("key")), reader)  # type: ignore[arg-type]
        except OSError as exc:
            raise Unavailable(
                f"文件存储暂不可用 (local media directory unwritable: {exc})") from exc
    else:
        raise ValueError(f"cannot write to a {kind!r} target")
    if reader.size != size:
        raise Unavailable(f"上传未完整写入 (wrote {reader.size} of {size} bytes)")
    return Written(reader.hexdigest())
