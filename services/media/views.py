"""What media says: its answers (the contract's views, times in the group's
zone, SPEC §10) and its events."""
from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from services.media.domain import Media
from shared.contracts.media import FileLinkView, MediaView, UploadTargetView

_MEDIA = MediaView()
_LINK = FileLinkView()
_TARGET = UploadTargetView()


def media_view(media: Media, zone: tzinfo, url: str | None = None,
               url_expires_at: datetime | None = None) -> dict[str, Any]:
    """The media's metadata; `get` adds the signed URL and its expiry."""
    binding = None
    if media.bound:
        binding = {"record_type": media.bound_record_type, "record_id": media.bound_record_id,
                   "record_sha256": media.bound_record_sha256,
                   "bound_at": media.bound_at.astimezone(zone) if media.bound_at else None,
                   "bound_by": media.bound_by}
    view: dict[str, Any] = {
        "id": media.id, "kind": media.kind, "stage": media.stage,
        "content_type": media.content_type, "size": media.size, "sha256": media.sha256,
        "complaint_id": media.complaint_id, "step": media.step,
        "uploaded_by": media.uploaded_by, "created_at": media.created_at.astimezone(zone),
        "filename": media.original_filename, "signature_kind": media.signature_kind,
        "binding": binding}
    if url is not None:
        view.update(url=url, url_expires_at=url_expires_at.astimezone(zone)
                    if url_expires_at else None)
    dumped: dict[str, Any] = _MEDIA.dump(view)
    return dumped


def link_view(media: Media, expires_at: datetime, source: dict[str, Any],
              zone: tzinfo) -> dict[str, Any]:
    """`open_link`'s answer: what the gateway serves and where it reads it."""
    dumped: dict[str, Any] = _LINK.dump({
        "media_id": media.id, "kind": media.kind, "content_type": media.content_type,
        "size": media.size, "sha256": media.sha256, "filename": media.original_filename,
        "expires_at": expires_at.astimezone(zone), "source": source})
    return dumped


def upload_target_view(upload_id: str, target: dict[str, Any], expires_at: datetime,
                       zone: tzinfo) -> dict[str, Any]:
    """One of `reserve_uploads`' answers: where the gateway writes a file."""
    dumped: dict[str, Any] = _TARGET.dump({
        "upload_id": upload_id, "target": target, "expires_at": expires_at.astimezone(zone)})
    return dumped


def stored_event(media: Media) -> dict[str, Any]:
    return {"media_id": media.id, "kind": media.kind, "stage": media.stage,
            "content_type": media.content_type, "size": media.size, "sha256": media.sha256,
            "uploaded_by": media.uploaded_by, "complaint_id": media.complaint_id,
            "step": media.step}


def signature_bound_event(media: Media) -> dict[str, Any]:
    return {"media_id": media.id, "record_type": media.bound_record_type,
            "record_id": media.bound_record_id, "record_sha256": media.bound_record_sha256,
            "bound_by": media.bound_by}
