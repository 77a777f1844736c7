"""The media service's RPC contract: its methods as a typed client.

Callers use `MediaClient(proxy)`; the service implements each
method under the same name and signature (tests/contracts hold them together).
"""

from __future__ import annotations

from shared.contracts.base import ServiceClient, raises
from shared.contracts.types import Json
from shared.errors import InvalidInput, NotFound


class MediaClient(ServiceClient):
    service = "media"

    @raises(NotFound, InvalidInput)
    def bind_signature(
        self,
        media_id: str,
        record_type: str,
        record_id: str,
        record_sha256: str,
        bound_by: str | None = None,
        complaint_id: str | None = None,
    ) -> Json:
        return self._call(
            "bind_signature",
            media_id,
            record_type,
            record_id,
            record_sha256,
            bound_by=bound_by,
            complaint_id=complaint_id,
        )

    @raises(NotFound, InvalidInput)
    def get(self, media_id: str) -> Json:
        return self._call("get", media_id)

    def health(self) -> Json:
        return self._call("health")

    @raises(NotFound, InvalidInput)
    def sweep_orphans(self, older_than_seconds: int = 3600) -> Json:
        return self._call("sweep_orphans", older_than_seconds=older_than_seconds)

    @raises(NotFound, InvalidInput)
    def upload(
        self,
        content_b64: str,
        filename: str,
        kind: str,
        stage: str | None = None,
        complaint_id: str | None = None,
        uploaded_by: str | None = None,
        step: str | None = None,
    ) -> Json:
        return self._call(
            "upload",
            content_b64,
            filename,
            kind,
            stage=stage,
            complaint_id=complaint_id,
            uploaded_by=uploaded_by,
            step=step,
        )

    @raises(NotFound, InvalidInput)
    def verify_signature(self, media_id: str, current_record_sha256: str) -> Json:
        return self._call("verify_signature", media_id, current_record_sha256)
