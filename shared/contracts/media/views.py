"""media's answers. The service dumps with these schemas; a caller (or a
contract test) may check an answer with `View().validate(answer)`: unknown
fields are refused, times carry their offset (the group's zone, SPEC §10)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from shared.contracts.media.files import KINDS, SIGNATURE_KINDS, STAGES, is_media_id
from shared.contracts.media.forms import sha256_field


def _check_media_id(value: str) -> None:
    if not is_media_id(value):
        raise ValidationError("须为文件编号 M-<地区>-<32 位十六进制> (must be a media id)")


def media_id_field(**kwargs: Any) -> fields.String:
    return fields.String(validate=_check_media_id,
                         metadata={"pattern": "^M-[A-Z0-9]{1,12}-[0-9a-f]{32}$"}, **kwargs)


class BindingView(Schema):
    """The record a signature was bound to (`bind_signature`)."""

    record_type = fields.String(required=True)
    record_id = fields.String(required=True)
    record_sha256 = sha256_field(required=True)
    bound_at = fields.AwareDateTime(required=True)
    bound_by = fields.String(required=True, allow_none=True)


class MediaView(Schema):
    """A stored file: `upload` and `bind_signature` answer it, `get` adds
    a short-lived signed URL (`url`, `url_expires_at`)."""

    id = media_id_field(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    stage = fields.String(required=True, allow_none=True, validate=validate.OneOf(STAGES))
    content_type = fields.String(required=True)
    size = fields.Integer(required=True, strict=True)
    sha256 = sha256_field(required=True)
    complaint_id = fields.String(required=True, allow_none=True)
    step = fields.String(required=True, allow_none=True)
    uploaded_by = fields.String(required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    filename = fields.String(required=True, allow_none=True)
    signature_kind = fields.String(
        allow_none=True, validate=validate.OneOf(SIGNATURE_KINDS), metadata={
            "description": "a signature's making: `drawn` on the pad or `typed` (a name "
                           "typed and written into the image); null when not said"})
    binding = fields.Nested(BindingView, required=True, allow_none=True)
    url = fields.String(metadata={
        "description": "short-lived signed link to the bytes, served by the gateway "
                       "(`/files/<token>`; the gateway answers it as an absolute URL on the "
                       "host the request came to), never the object store's own address"})
    url_expires_at = fields.AwareDateTime()


SOURCE_KINDS = ("file", "url", "redirect")


class FileSourceView(Schema):
    """Where the gateway reads a linked file (shared.contracts.media.reading):
    `file` (a key of the local directory), `url` (a presigned URL of the
    store's internal endpoint, read by the gateway) or `redirect` (a URL
    presigned for the store's public endpoint, for the browser)."""

    kind = fields.String(required=True, validate=validate.OneOf(SOURCE_KINDS))
    key = fields.String()
    url = fields.String()


TARGET_KINDS = ("file", "url")


class UploadTargetSpec(Schema):
    """Where the gateway writes a new file (shared.contracts.media.writing):
    `url` (a presigned PUT of the store's internal endpoint) or `file` (a key
    of the local directory)."""

    kind = fields.String(required=True, validate=validate.OneOf(TARGET_KINDS))
    key = fields.String()
    url = fields.String()


class UploadTargetView(Schema):
    """One of `reserve_uploads`: the upload's id (the media id it will have
    once confirmed), where to write it and until when (real time)."""

    upload_id = media_id_field(required=True)
    target = fields.Nested(UploadTargetSpec, required=True)
    expires_at = fields.AwareDateTime(required=True)


class FileLinkView(Schema):
    """`open_link`: the file a signed link names, for the gateway to serve."""

    media_id = media_id_field(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    content_type = fields.String(required=True)
    size = fields.Integer(required=True, strict=True)
    sha256 = sha256_field(required=True)
    filename = fields.String(required=True, allow_none=True)
    expires_at = fields.AwareDateTime(required=True)
    source = fields.Nested(FileSourceView, required=True)


class VerificationView(Schema):
    """`verify_signature`: whether the signed record is unchanged."""

    media_id = media_id_field(required=True)
    record_type = fields.String(required=True)
    record_id = fields.String(required=True)
    intact = fields.Boolean(required=True, truthy={True}, falsy={False})
    bound_record_sha256 = sha256_field(required=True)
    current_record_sha256 = sha256_field(required=True)


class HealthView(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("ok", "degraded")))
    database = fields.String(required=True)
    storage = fields.String(required=True)
    outbox_backlog = fields.Integer(required=True, allow_none=True, strict=True)
