"""The media service's RPC methods as a typed client: `MediaClient(proxy)`.

Each method has the service's name and parameters (the contract test holds
them together); what it takes is files/forms, what it answers is views.
"""

from __future__ import annotations

from shared.contracts.base import ServiceClient, raises
from shared.contracts.media.files import MAX_COMPLAINT_FILES
from shared.contracts.types import Json
from shared.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
    UnsupportedMediaType,
)


class MediaClient(ServiceClient):
    service = "media"

    @raises(InvalidInput, TooLarge, UnsupportedMediaType)
    def upload(
        self,
        content_b64: str,
        filename: str | None,
        kind: str,
        stage: str | None = None,
        complaint_id: str | None = None,
        uploaded_by: str | None = None,
        step: str | None = None,
        signature_kind: str | None = None,
    ) -> Json:
        """Store a file sent over RPC (`files.content_b64(bytes)`; form:
        UploadRequest); answers its MediaView. Unavailable when the object store
        is down. For small files of services (penalty's monthly report); the
        gateway writes uploads to the store itself (reserve_uploads)."""
        return self._call(
            "upload",
            content_b64,
            filename,
            kind,
            stage=stage,
            complaint_id=complaint_id,
            uploaded_by=uploaded_by,
            step=step,
            signature_kind=signature_kind,
        )

    @raises(InvalidInput)
    def reserve_uploads(self, count: int = 8) -> Json:
        """[UploadTargetView]: `count` (1-32) places to write new files to
        (writing.write_to_target), each valid until its `expires_at`; then
        confirm_upload. Those never confirmed are swept after
        MEDIA.unconfirmed_seconds."""
        return self._call("reserve_uploads", count)

    @raises(InvalidInput, NotFound, TooLarge, UnsupportedMediaType)
    def confirm_upload(
        self,
        upload_id: str,
        sha256: str,
        size: int,
        filename: str | None,
        kind: str,
        stage: str | None = None,
        complaint_id: str | None = None,
        uploaded_by: str | None = None,
        step: str | None = None,
        signature_kind: str | None = None,
        md5: str | None = None,
    ) -> Json:
        """Check the object written at a reserved place (size and SHA-256 as
        written, type by its bytes; with `md5`, the hex MD5 sent as the PUT's
        Content-MD5, only its first bytes are read if the store's ETag is that
        MD5; form: ConfirmRequest) and record it: its MediaView. A refused one
        is deleted; NotFound for an unknown (or swept) upload; confirming
        again answers the same MediaView."""
        return self._call(
            "confirm_upload",
            upload_id,
            sha256,
            size,
            filename,
            kind,
            stage=stage,
            complaint_id=complaint_id,
            uploaded_by=uploaded_by,
            step=step,
            signature_kind=signature_kind,
            # Sent only when there is one (a URL target): a call without it is
            # the one an older media takes, and reads the object back whole.
            **({"md5": md5} if md5 is not None else {}),
        )

    @raises(NotFound)
    def get(self, media_id: str) -> Json:
        """The file's MediaView with a short-lived signed link (`url`:
        `/files/<token>`, a path on the gateway); NotFound for an unknown or
        malformed id."""
        return self._call("get", media_id)

    @raises(InvalidInput)
    def get_many(self, media_ids: list[str]) -> Json:
        """[MediaView | None]: `get` of each id in its order, one call (a
        complaint page's files); None where the id names nothing. InvalidInput
        unless a list of at most 100 ids."""
        return self._call("get_many", media_ids)

    @raises(InvalidInput)
    def files_of_complaint(self, complaint_id: str, limit: int = MAX_COMPLAINT_FILES) -> Json:
        """[MediaView]: the complaint's newest `limit` (1-200) files, newest
        first, each as `get` answers it (signed link, `url_expires_at`); one
        call, asked by a complaint page beside its other parts. Only files
        that carry the complaint's id (uploaded for it, or a signature bound
        with it); an unknown complaint has none. InvalidInput unless a
        complaint id and a limit of 1-200."""
        return self._call("files_of_complaint", complaint_id, limit)

    @raises(Forbidden, NotFound)
    def open_link(self, token: str) -> Json:
        """The file a link's token names (FileLinkView): type, size, hash and
        its `source` (reading.open_source). Forbidden when the token was
        altered or has expired, NotFound when the file is gone."""
        return self._call("open_link", token)

    @raises(NotFound, InvalidInput, Conflict)
    def bind_signature(
        self,
        media_id: str,
        record_type: str,
        record_id: str,
        record_sha256: str,
        bound_by: str | None = None,
        complaint_id: str | None = None,
    ) -> Json:
        """Bind a signature to the record it confirms (form: BindRequest);
        answers its MediaView. Binding again to the same record and hash
        changes nothing; InvalidInput if it is not a signature, Conflict if
        it is bound elsewhere or belongs to another complaint."""
        return self._call(
            "bind_signature",
            media_id,
            record_type,
            record_id,
            record_sha256,
            bound_by=bound_by,
            complaint_id=complaint_id,
        )

    @raises(NotFound, InvalidInput, Conflict)
    def verify_signature(self, media_id: str, current_record_sha256: str) -> Json:
        """Whether the signed record still hashes the same (form: VerifyRequest;
        answer: VerificationView); Conflict if the signature is not bound."""
        return self._call("verify_signature", media_id, current_record_sha256)

    @raises(InvalidInput)
    def sweep_orphans(self, older_than_seconds: float = 3600) -> int:
        """Remove stored objects no row names; how many were removed."""
        count: int = self._call("sweep_orphans", older_than_seconds=older_than_seconds)
        return count

    def health(self) -> Json:
        """HealthView: status, database, storage, outbox_backlog."""
        return self._call("health")
