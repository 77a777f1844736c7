"""Events published by the media service."""
from marshmallow import Schema, fields

from shared.events.registry import event


@event("media.stored", "media", "a file (signature, photo, material, minutes, report) was stored")
class MediaStored(Schema):
    media_id = fields.String(required=True)
    kind = fields.String(required=True)
    stage = fields.String(allow_none=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    # None for an upload through a customer's signing link without a person id.
    uploaded_by = fields.String(required=True, allow_none=True)
    complaint_id = fields.String(allow_none=True)
    step = fields.String(allow_none=True)


@event("media.signature_bound", "media",
       "a signature was bound to the record it confirms, with the record's SHA-256")
class SignatureBound(Schema):
    media_id = fields.String(required=True)
    record_type = fields.String(required=True)
    record_id = fields.String(required=True)
    record_sha256 = fields.String(required=True)
    bound_by = fields.String(allow_none=True)
