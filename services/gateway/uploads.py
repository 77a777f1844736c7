"""Files sent to the gateway (multipart `file`) and stored (SPEC §6).

A mixin of GatewayService: the one place that reads an upload with its limit
and stores it, for staff uploads and the customer's signature alike. The
bytes go straight from the request to the store (no base64 over the broker):
media hands out places to write to (`reserve_uploads`, a few at a time, kept
per process while they are valid: `targets_for`), the gateway writes the file
to one with its SHA-256 (and to S3 its Content-MD5, which the store checks:
shared.contracts.media.writing), and media checks size, type and hash of the
stored object (`confirm_upload`; on S3 from its ETag and first bytes, not
read back whole): one RPC per upload. A place never confirmed (a failed write, a process that
stopped) is swept by media later (MEDIA.unconfirmed_seconds).
"""
from __future__ import annotations

import io
import os
import threading
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from services.gateway import bodies
from services.gateway.clients import Clients
from shared.contracts.media import DEFAULT_MAX_BYTES, MediaClient
from shared.contracts.media.writing import write_to_target
from shared.contracts.types import Json
from shared.errors import InvalidInput

# Room for the multipart framing and the form fields beside the file.
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_FILENAME = 200
# Places reserved at a time, and how long one must still be valid to be used
# (at most a quarter of its life: MEDIA.upload_url_seconds, as media reads it).
RESERVE_BATCH = 8
VALID_AT_LEAST = timedelta(seconds=60)
DEFAULT_UPLOAD_URL_SECONDS = 300


class UploadTargets:
    """Places media reserved for this process's uploads, used oldest first;
    one about to expire is dropped (media sweeps it)."""

    def __init__(self) -> None:
        self._targets: deque[Json] = deque()
        self._lock = threading.Lock()

    def take(self, media: MediaClient, batch: int = RESERVE_BATCH,
             margin: timedelta = VALID_AT_LEAST) -> Json:
        usable_until = datetime.now(UTC) + margin
        with self._lock:
            while self._targets:
                target = self._targets.popleft()
                if datetime.fromisoformat(target["expires_at"]) > usable_until:
                    return target
        reserved = list(media.reserve_uploads(batch))
        with self._lock:
            self._targets.extend(reserved[1:])
        return reserved[0]

    def clear(self) -> None:
        with self._lock:
            self._targets.clear()


_targets: dict[str, UploadTargets] = {}
_targets_lock = threading.Lock()


def targets_for(config: Any) -> UploadTargets:
    """The places of the media service this config reaches (one per broker
    address: a test process runs many suites, each with its own)."""
    key = str(config.get("AMQP_URI"))
    with _targets_lock:
        return _targets.setdefault(key, UploadTargets())


def sized_stream(stream: IO[bytes], limit: int) -> tuple[IO[bytes], int]:
    """The upload's stream from its start and its size; a stream that cannot
    seek is read into memory (at most limit + 1 bytes)."""
    try:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        return stream, size
    except (AttributeError, OSError, ValueError):
        content = stream.read(limit + 1)
        return io.BytesIO(content), len(content)


class Uploads(Clients):

    def max_file_bytes(self) -> int:
        """The largest file media stores (config MEDIA.max_bytes, as media reads it)."""
        media = self.config.get("MEDIA") or {}
        return int(media.get("max_bytes", DEFAULT_MAX_BYTES))

    def max_upload_bytes(self) -> int:
        """The largest multipart request body (api.route bounds the request with it)."""
        return self.max_file_bytes() + FORM_OVERHEAD_BYTES

    @staticmethod
    def uploaded_file(request: Any) -> Any:
        """The request's multipart `file` (werkzeug's FileStorage): 400 without one."""
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput({"file": ["缺少文件 (missing file)"]})
        return upload

    def store_upload(self, upload: Any, kind: str, *, stage: str | None = None,
                     complaint_id: str | None = None, uploaded_by: str | None = None,
                     step: str | None = None, signature_kind: str | None = None) -> Json:
        """An uploaded_file() stored as `kind`: its MediaView. 413 over the
        limit and 400 when empty, before media is asked."""
        limit = self.max_file_bytes()
        stream, size = sized_stream(upload.stream, limit)
        if size > limit:
            raise bodies.upload_too_large(limit)
        if size == 0:
            raise InvalidInput({"file": ["文件为空 (empty file)"]})
        media = self.client(MediaClient)
        settings = self.config.get("MEDIA") or {}
        lifetime = timedelta(seconds=int(settings.get("upload_url_seconds",
                                                      DEFAULT_UPLOAD_URL_SECONDS)))
        target = targets_for(self.config).take(media, margin=min(VALID_AT_LEAST, lifetime / 4))
        written = write_to_target(target["target"], stream, size, self.config)
        return media.confirm_upload(
            target["upload_id"], written.sha256, size, (upload.filename or "")[:MAX_FILENAME],
            kind, stage=stage, complaint_id=complaint_id, uploaded_by=uploaded_by, step=step,
            signature_kind=signature_kind, md5=written.md5)
