"""How dispatch reads intake's events: tolerant readers (unknown fields
ignored, so intake may add fields without breaking dispatch). The events'
own schemas (shared.events) are what intake validates on write."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from services.dispatch.case import Facts


class EventData(Schema):
    """Base of what dispatch reads from intake's events: other fields ignored."""

    class Meta:
        unknown = EXCLUDE


class FactsIn(EventData):
    """The ComplaintFacts of intake's events that dispatch keeps."""
    complaint_id = fields.String(required=True)
    project_id = fields.String(required=True)
    category = fields.String(required=True)
    state = fields.String(required=True)
    order_round = fields.Integer(required=True)
    requested_completion_at = fields.AwareDateTime(required=True)
    signed_at = fields.AwareDateTime(allow_none=True, load_default=None)
    region_company_id = fields.String(allow_none=True, load_default=None)
    property_company_id = fields.String(allow_none=True, load_default=None)
    department = fields.String(allow_none=True, load_default=None)
    department_reason = fields.String(allow_none=True, load_default=None)
    escalation_level = fields.String(allow_none=True, load_default=None)


def facts_of(data: dict[str, Any], occurred_at: datetime, complaint_id: str | None = None,
             required: bool = True) -> Facts | None:
    """Facts from an intake event's data; None when it carries none and they
    are not required (the closure loop's events refer to an application)."""
    if not required and "order_round" not in data:
        return None
    try:
        loaded = FactsIn().load(dict(data, complaint_id=data.get("complaint_id") or complaint_id))
    except ValidationError as err:
        if not required:
            return None
        raise ValueError(f"intake event without the complaint's facts: {err.messages}") from None
    return Facts(complaint_id=loaded["complaint_id"], project_id=loaded["project_id"],
                 category=loaded["category"], intake_state=loaded["state"],
                 order_round=loaded["order_round"],
                 requested_completion_at=loaded["requested_completion_at"],
                 occurred_at=occurred_at, region_company_id=loaded["region_company_id"],
                 property_company_id=loaded["property_company_id"],
                 signed_at=loaded["signed_at"], department=loaded["department"],
                 department_reason=loaded["department_reason"],
                 escalation_level=loaded["escalation_level"])


class ReopenedIn(EventData):
    reason = fields.String(allow_none=True, load_default=None)
    actor_id = fields.String(allow_none=True, load_default=None)


class CallbackIn(EventData):
    callback_id = fields.String(allow_none=True, load_default=None)
    callback_at = fields.AwareDateTime(required=True)
    by = fields.String(allow_none=True, load_default=None)
    outcome = fields.String(allow_none=True, load_default=None)
    note = fields.String(allow_none=True, load_default=None)
    visit_ids = fields.List(fields.String(), load_default=list)


class ClosureVerifiedIn(EventData):
    application_id = fields.String(required=True)
    verified_at = fields.AwareDateTime(required=True)
    by = fields.String(allow_none=True, load_default=None)
    satisfaction = fields.Integer(allow_none=True, load_default=None)


class ClosureReviewedIn(EventData):
    application_id = fields.String(required=True)
    reviewed_at = fields.AwareDateTime(required=True)
    by = fields.String(allow_none=True, load_default=None)


class ClosureRejectedIn(EventData):
    application_id = fields.String(required=True)
    stage = fields.String(allow_none=True, load_default=None)
    rejected_at = fields.AwareDateTime(required=True)
    by = fields.String(allow_none=True, load_default=None)
    reason = fields.String(allow_none=True, load_default=None)
    returned_to = fields.String(allow_none=True, load_default=None)
    application_rejected = fields.Boolean(allow_none=True, load_default=None)


class ComplaintClosedIn(EventData):
    closed_at = fields.AwareDateTime(required=True)
    application_id = fields.String(allow_none=True, load_default=None)
    by = fields.String(allow_none=True, load_default=None)
