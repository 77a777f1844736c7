"""Reading a stored file where media's `open_link` says it is: the gateway's
`GET /files/<token>` streams it with this, without importing media.

Where media keeps its objects is the deployment's choice (config.yaml):

- `MINIO.endpoint` set: MinIO or any S3-compatible server (production);
- empty (the default of `make run`): a directory on this machine,
  `MEDIA.local_dir` (var/media), that media and the gateway both reach.

An `open_link` answer's `source` says how to read the bytes:

- `{"kind": "file", "key"}`: the object in the local directory, found here
  under this process's own `MEDIA.local_dir` with `safe_path` (never a path
  taken from the wire);
- `{"kind": "url", "url"}`: a URL media presigned for the store's internal
  endpoint, valid for a minute, that this process reads and passes on;
- `{"kind": "redirect", "url"}`: a URL presigned for the store's public
  endpoint (`MINIO.public_endpoint`), for the browser to load itself.

Keys are media's own (`<region>/<yyyy>/<mm>/<media id>`); `safe_path` is the
one rule that turns a key into a path, for media's writes and these reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3

from shared.errors import NotFound, Unavailable

CHUNK_BYTES = 64 * 1024
DEFAULT_LOCAL_DIR = "var/media"

# Path parts of letters, digits, `-`, `_` and `.`, none starting with a dot:
# no `..`, no hidden files, no absolute paths, no backslashes, no NUL.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,127}){0,7}")

_http = urllib3.PoolManager(
    timeout=urllib3.Timeout(connect=5.0, read=30.0), maxsize=10,
    retries=urllib3.Retry(total=1, redirect=0, status_forcelist=[502, 503, 504]))


def uses_minio(config: Mapping[str, Any]) -> bool:
    """Whether the deployment keeps media in MinIO/S3 (`MINIO.endpoint` set)."""
    endpoint = (config.get("MINIO") or {}).get("endpoint")
    return bool(str(endpoint or "").strip())


def local_dir(config: Mapping[str, Any]) -> Path:
    """The directory of the local store (`MEDIA.local_dir`; relative to the
    process's working directory, the repository for `make run`)."""
    value = (config.get("MEDIA") or {}).get("local_dir") or DEFAULT_LOCAL_DIR
    return Path(str(value)).expanduser()


def is_safe_key(key: object) -> bool:
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


def safe_path(root: Path, key: object) -> Path:
    """The file of `key` under `root`. ValueError for a key that could leave
    the directory (`..`, absolute, hidden parts) or that a link resolves
    outside it."""
    if not is_safe_key(key):
        raise ValueError(f"not a media key: {key!r}")
    base = root.resolve()
    path = (base / str(key)).resolve()
    if path == base or base not in path.parents:
        raise ValueError(f"key {key!r} leaves the media directory")
    return path


@dataclass
class Stream:
    """An opened object: its bytes in chunks, its length if known; `close()`
    releases the file or connection (also done when the chunks run out)."""
    chunks: Iterator[bytes]
    length: int | None
    close: Callable[[], None]


def open_file(root: Path, key: object) -> Stream:
    """An object of the local store. NotFound when it is not there."""
    try:
        path = safe_path(root, key)
        handle = open(path, "rb")  # noqa: SIM115 - closed by the Stream
    except (ValueError, FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise NotFound("文件不存在 (no such file)") from None
    except OSError as exc:
        raise Unavailable(f"文件存储暂不可用 (local media directory unreadable: {exc})") from exc
    length = os.fstat(handle.fileno()).st_size

    def chunks() -> Iterator[bytes]:
        try:
            while block := handle.read(CHUNK_BYTES):
                yield block
        finally:
            handle.close()

    return Stream(chunks(), length, handle.close)


def open_url(url: str, http: urllib3.PoolManager | None = None) -> Stream:
    """An object of the S3 store through a presigned URL of its internal endpoint."""
    try:
        response = (http or _http).request("GET", url, preload_content=False)
    except urllib3.exceptions.HTTPError as exc:
        raise Unavailable(f"文件存储暂不可用 (object store unreachable: {exc})") from exc
    if response.status != 200:
        response.release_conn()
        if response.status == 404:
            raise NotFound("文件不存在 (no such file)")
        raise Unavailable(f"文件存储暂不可用 (object store answered {response.status})")
    length_header = response.headers.get("Content-Length")
    done = []

    def chunks() -> Iterator[bytes]:
        yield from response.stream(CHUNK_BYTES)
        done.append(True)
        response.release_conn()            # read to the end: the connection is reusable

    def close() -> None:
        if not done:                       # not read to the end (HEAD, a client gone)
            response.close()
            response.release_conn()

    return Stream(chunks(), int(length_header) if length_header else None, close)


def open_source(source: Mapping[str, Any], config: Mapping[str, Any],
                http: urllib3.PoolManager | None = None) -> Stream:
    """Open an `open_link` answer's `file` or `url` source (a `redirect` is
    the browser's to follow, not opened here)."""
    kind = source.get("kind")
    if kind == "file":
        return open_file(local_dir(config), source.get("key"))
    if kind == "url":
        return open_url(str(source["url"]), http)
    raise ValueError(f"cannot open a {kind!r} source")
