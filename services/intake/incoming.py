"""What intake reads of dispatch's events (complaint.routed, visit.blocked,
closure.applied): tolerant readers, since the producer may add fields; the
fields intake does not use are ignored. The events' own contract is
shared/events/ (docs/events.md); these are intake's view of them.
"""
from marshmallow import EXCLUDE, Schema, fields


class EventIn(Schema):
    class Meta:
        unknown = EXCLUDE

    order_round = fields.Integer(required=True)


class ContactIn(Schema):
    class Meta:
        unknown = EXCLUDE

    person_id = fields.String(required=True)
    name = fields.String(allow_none=True, load_default=None)
    mobile = fields.String(allow_none=True, load_default=None)
    role = fields.String(allow_none=True, load_default=None)


class CooperatingIn(Schema):
    class Meta:
        unknown = EXCLUDE

    department = fields.String(required=True)
    department_name = fields.String(allow_none=True, load_default=None)
    unit_id = fields.String(required=True)
    unit_name = fields.String(allow_none=True, load_default=None)


class RoutedIn(EventIn):
    routing_id = fields.String(required=True)
    reason = fields.String(allow_none=True, load_default=None)
    department = fields.String(required=True)
    department_name = fields.String(allow_none=True, load_default=None)
    department_overridden = fields.Boolean(load_default=False)
    override_reason = fields.String(allow_none=True, load_default=None)
    company_id = fields.String(allow_none=True, load_default=None)
    unit_id = fields.String(allow_none=True, load_default=None)
    unit_name = fields.String(allow_none=True, load_default=None)
    department_unit_id = fields.String(allow_none=True, load_default=None)
    major = fields.Boolean(load_default=False)
    escalation_level = fields.String(allow_none=True, load_default=None)
    handler = fields.Nested(ContactIn, required=True)
    leaders = fields.List(fields.Nested(ContactIn), load_default=list)
    chairman = fields.Nested(ContactIn, allow_none=True, load_default=None)
    department_head = fields.Nested(ContactIn, allow_none=True, load_default=None)
    supervising_leader = fields.Nested(ContactIn, allow_none=True, load_default=None)
    cooperating_departments = fields.List(fields.Nested(CooperatingIn), load_default=list)
    routed_at = fields.AwareDateTime(required=True)


class VisitBlockedIn(EventIn):
    visit_id = fields.String(required=True)
    attempted_at = fields.AwareDateTime(allow_none=True, load_default=None)
    recorded_at = fields.AwareDateTime(required=True)
    recorded_by = fields.String(allow_none=True, load_default=None)
    reason = fields.String(allow_none=True, load_default=None)


class ClosureAppliedIn(EventIn):
    application_id = fields.String(required=True)
    applied_at = fields.AwareDateTime(required=True)
    applied_by = fields.String(required=True)
    material_media_ids = fields.List(fields.String(), load_default=list)
    signature_media_id = fields.String(allow_none=True, load_default=None)
