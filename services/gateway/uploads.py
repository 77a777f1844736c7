"""Files sent to the gateway (multipart `file`) and stored (SPEC §6).

A mixin of GatewayService: the one place that reads an upload with its limit
and stores it, for staff uploads and the customer's signature alike. The
bytes go straight from the request to the store (no base64 over the broker):
media names a target (`begin_upload`), the gateway streams the file there,
hashing it on the way (shared.contracts.media.writing), and media checks
size, type and SHA-256 of the stored object (`confirm_upload`). An upload
whose write or confirm fails is swept by media later (MEDIA.unconfirmed_seconds).
"""
from __future__ import annotations

import io
import os
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
                     step: str | None = None) -> Json:
        """An uploaded_file() stored as `kind`: its MediaView. 413 over the
        limit and 400 when empty, before media is asked."""
        limit = self.max_file_bytes()
        stream, size = sized_stream(upload.stream, limit)
        if size > limit:
            raise bodies.upload_too_large(limit)
        if size == 0:
            raise InvalidInput({"file": ["文件为空 (empty file)"]})
        media = self.client(MediaClient)
        begun = media.begin_upload(
            (upload.filename or "")[:MAX_FILENAME], kind, size, stage=stage,
            complaint_id=complaint_id, uploaded_by=uploaded_by, step=step)
        sha256 = write_to_target(begun["target"], stream, size, self.config)
        return media.confirm_upload(begun["upload_id"], sha256)
