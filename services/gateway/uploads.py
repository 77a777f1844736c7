"""Files sent to the gateway (multipart `file`) and stored by media (SPEC §6).

A mixin of GatewayService: the one place that reads an upload with its limit
and hands it to media, for staff uploads and the customer's signature alike.
"""
from __future__ import annotations

from typing import Any

from services.gateway import bodies
from services.gateway.clients import Clients
from shared.contracts.media import DEFAULT_MAX_BYTES, MediaClient, content_b64
from shared.contracts.types import Json
from shared.errors import InvalidInput

# Room for the multipart framing and the form fields beside the file.
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_FILENAME = 200


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
        """An uploaded_file() stored by media as `kind`: its MediaView.
        413 over the limit, before media is asked."""
        limit = self.max_file_bytes()
        content = upload.stream.read(limit + 1)
        if len(content) > limit:
            raise bodies.upload_too_large(limit)
        return self.client(MediaClient).upload(
            content_b64(content), (upload.filename or "")[:MAX_FILENAME], kind, stage=stage,
            complaint_id=complaint_id, uploaded_by=uploaded_by, step=step,
            signature_kind=signature_kind)
