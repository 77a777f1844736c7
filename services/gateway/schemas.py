"""Request and response schemas of the gateway's own calls (SPEC §10).

The OpenAPI document is generated from these and from the services' schemas.
"""
import re
from datetime import timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.contracts.media import KINDS, STAGES, MediaView
from shared.contracts.media.files import SIGNATURE_KINDS

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$")


class Duration(fields.Field):
    """ISO 8601 duration such as `PT90M` or `P1DT2H` (optionally negative: `-PT1H`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("须为 ISO 8601 时长，例如 PT90M (ISO 8601 duration, e.g. PT90M)")
        sign = -1 if value.startswith("-") else 1
        match = _DURATION.match(value.lstrip("-"))
        if not match or value.lstrip("-") in ("P", "PT") or value.endswith("T"):
            raise ValidationError("须为 ISO 8601 时长，例如 PT90M (ISO 8601 duration, e.g. PT90M)")
        parts = {k: int(v) for k, v in match.groupdict().items() if v}
        return sign * timedelta(**parts)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"PT{int(value.total_seconds())}S"


class FieldError(Schema):
    code = fields.String(required=True, metadata={
        "description": "stable code of the message (required, too_long, phone, choice, ...; "
                       "invalid when the message has none)"})
    params = fields.Dict(metadata={"description": "the values the message names, e.g. max"})
    message = fields.String(required=True)


class ErrorDetail(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    field_errors = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(
        FieldError)), metadata={"description": "the same messages as `fields`, each with its "
                                               "code: a client words them in its language"})
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorBody(Schema):
    error = fields.Nested(ErrorDetail, required=True)


class ClockChange(Schema):
    now = fields.AwareDateTime(metadata={"description": "set the clock to this time"})
    advance = Duration(metadata={"description": "move the clock by this ISO 8601 duration"})

    @validates_schema
    def one_of(self, data, **kwargs):
        if ("now" in data) == ("advance" in data):
            raise ValidationError("须给出 now 或 advance 之一 (give exactly one of now, advance)",
                                  "_schema")


class ClockState(Schema):
    now = fields.AwareDateTime(required=True)
    local_now = fields.String(required=True)
    zone = fields.String(required=True)
    simulated = fields.Boolean(required=True)


class Me(Schema):
    person_id = fields.String(allow_none=True)
    name = fields.String()
    roles = fields.List(fields.String())
    role_labels = fields.List(fields.String())
    project_ids = fields.List(fields.String())
    unit_id = fields.String(allow_none=True)
    kind = fields.String()


class ServiceHealth(Schema):
    status = fields.String(required=True)
    detail = fields.Dict()


class Health(Schema):
    status = fields.String(required=True, metadata={"description": "ok or degraded"})
    services = fields.Dict(keys=fields.String(), values=fields.Nested(ServiceHealth))


class MediaUploadForm(Schema):
    """The form fields beside `file` in `POST /api/media` (multipart)."""
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    stage = fields.String(validate=validate.OneOf(STAGES), load_default=None)
    complaint_id = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9-]{1,40}$"),
                                 load_default=None)
    step = fields.String(validate=validate.Regexp(r"^[a-z_]{1,40}$"), load_default=None)
    signature_kind = fields.String(validate=validate.OneOf(SIGNATURE_KINDS), load_default=None,
                                   metadata={"description": "a signature's making: `drawn` on "
                                             "the pad or `typed` (a typed name)"})


class MediaObject(MediaView):
    """A file as media answers it (shared.contracts.media), passed through."""
