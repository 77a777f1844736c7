"""The event envelope of SPEC §7, and how one is built from a domain change."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from shared.errors import CCRMError


class EnvelopeSchema(Schema):
    event_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Length(min=1, max=100))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True)
    producer = fields.String(required=True)
    region = fields.String(required=True)
    complaint_id = fields.String(allow_none=True, load_default=None)
    correlation_id = fields.UUID(required=True)
    data = fields.Dict(required=True)


ENVELOPE = EnvelopeSchema()


class InvalidEvent(CCRMError):
    code = "invalid_event"


@dataclass(frozen=True)
class Envelope:
    """An event ready to be written to the outbox: `body` is its exact JSON."""
    event_id: str
    type: str
    version: int
    exchange: str
    body: str

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


def build_envelope(event_type: str, data: Any, *, producer: str, region: str,
                   occurred_at: datetime, complaint_id: str | None = None,
                   correlation_id: str | None = None, version: int = 1,
                   zone: tzinfo | None = None) -> Envelope:
    """Validate `data` against the registered schema and wrap it (SPEC §7)."""
    from shared.events.registry import schema_for  # registry imports envelope
    schema = schema_for(event_type, version)
    dumped = schema.dump(data)
    errors = schema.validate(dumped)
    if errors:
        raise InvalidEvent(f"event {event_type} v{version} does not match its schema", errors)
    event_id = str(uuid.uuid4())
    if zone is not None:
        occurred_at = occurred_at.astimezone(zone)
    envelope = ENVELOPE.dump({
        "event_id": event_id, "type": event_type, "version": version,
        "occurred_at": occurred_at, "producer": producer, "region": region,
        "complaint_id": complaint_id,
        "correlation_id": correlation_id or str(uuid.uuid4()), "data": dumped,
    })
    body = json.dumps(envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Envelope(event_id, event_type, version, f"{producer}.events", body)


def load_envelope(payload: bytes | str | Any) -> dict[str, Any]:
    """Check an incoming envelope (consumers); raises ValidationError."""
    if isinstance(payload, (bytes, str)):
        payload = json.loads(payload)
    return ENVELOPE.load(payload)


__all__ = ["Envelope", "EnvelopeSchema", "InvalidEvent", "ValidationError",
           "build_envelope", "load_envelope"]
