"""What the media RPC methods take and return (marshmallow 4)."""
import re
from dataclasses import replace

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.media import domain
from shared.validation import load_input

_SHA256 = validate.Regexp(re.compile(r"[0-9a-fA-F]{64}\Z"),
                          error="须为 64 位十六进制 SHA-256 (must be a hex SHA-256)")


def _text(max_length, required=False):
    length = validate.Length(min=1, max=max_length,
                             error=f"长度须为 1 到 {max_length} 个字符 (1 to {max_length} characters)")
    if required:
        return fields.String(required=True, validate=length)
    return fields.String(allow_none=True, load_default=None, validate=length)


class UploadRequest(Schema):
    """An upload's description; the bytes are checked by the domain."""
    filename = fields.String(allow_none=True, load_default=None)
    kind = fields.String(required=True)
    stage = fields.String(allow_none=True, load_default=None)
    complaint_id = _text(64)
    uploaded_by = _text(64)
    step = _text(64)

    @validates_schema(skip_on_field_errors=False)  # report every field at once
    def kind_and_stage(self, data, **kwargs):
        errors = domain.kind_stage_errors(data.get("kind"), data.get("stage"))
        if errors:
            raise ValidationError(errors)


class BindRequest(Schema):
    record_type = _text(64, required=True)
    record_id = _text(100, required=True)
    record_sha256 = fields.String(required=True, validate=_SHA256)
    bound_by = _text(64)
    complaint_id = _text(64)


class VerifyRequest(Schema):
    current_record_sha256 = fields.String(required=True, validate=_SHA256)


class BindingSchema(Schema):
    record_type = fields.String(attribute="bound_record_type")
    record_id = fields.String(attribute="bound_record_id")
    record_sha256 = fields.String(attribute="bound_record_sha256")
    bound_at = fields.AwareDateTime()
    bound_by = fields.String(allow_none=True)


class MediaSchema(Schema):
    id = fields.String()
    kind = fields.String()
    stage = fields.String(allow_none=True)
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    complaint_id = fields.String(allow_none=True)
    step = fields.String(allow_none=True)
    uploaded_by = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    filename = fields.String(attribute="original_filename", allow_none=True)
    binding = fields.Method("dump_binding")

    def dump_binding(self, media):
        return BindingSchema().dump(media) if media.bound else None


MEDIA = MediaSchema()


# Input is loaded by the shared helper (field-by-field InvalidInput).
load = load_input


def dump_media(media, zone):
    """The media's metadata with times in the group's zone (SPEC §10)."""
    local = replace(media, created_at=media.created_at.astimezone(zone),
                    bound_at=media.bound_at.astimezone(zone) if media.bound_at else None)
    return MEDIA.dump(local)
