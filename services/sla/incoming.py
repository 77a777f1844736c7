"""What sla reads of other services' events (consumer views: unknown fields
ignored, so a producer may add fields freely). Its RPC filters and answers
are sla's contract: shared/contracts/sla.py."""
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate


class In(Schema):
    class Meta:
        unknown = EXCLUDE


def time_required() -> fields.AwareDateTime:
    return fields.AwareDateTime(required=True)


def time_optional() -> fields.AwareDateTime:
    return fields.AwareDateTime(allow_none=True, load_default=None)


def text_optional() -> fields.String:
    return fields.String(allow_none=True, load_default=None)


HolderIn = Schema.from_dict({
    "person_id": fields.String(allow_none=True, load_default=None),
    "role": fields.String(allow_none=True, load_default=None),
    "from": fields.AwareDateTime(required=True),
    "to": fields.AwareDateTime(allow_none=True, load_default=None),
}, name="HolderIn")


class FactsIn(In):
    """What sla reads of the complaint facts every intake event carries."""
    complaint_id = fields.String(required=True)
    project_id = fields.String(required=True)
    room = text_optional()
    category = text_optional()
    state = fields.String(required=True)
    order_round = fields.Integer(required=True, validate=validate.Range(min=1))
    specialist_id = text_optional()
    contact_ended_at = time_optional()
    round_started_at = time_optional()
    requested_completion_at = time_optional()
    first_submitted_at = time_optional()
    signed_at = time_optional()
    escalation_level = text_optional()
    holders = fields.List(fields.Nested(HolderIn(unknown=EXCLUDE)), load_default=list)
    resolved_on_spot = fields.Boolean()
    closed_at = time_optional()
    signature_status = text_optional()


class SignatureRequestedIn(FactsIn):
    """A phone/letter/online complaint's signing link (Art. 13), or a re-sent one."""
    link_path = fields.String(required=True)
    expires_at = time_optional()
    customer_phone = text_optional()
    customer_name = text_optional()
    resent = fields.Boolean(load_default=False)


class ComplaintEscalatedIn(FactsIn):
    level = text_optional()
    previous_level = text_optional()
    reason = text_optional()


class ComplaintVoidedIn(FactsIn):
    voided_at = time_optional()
    voided_by = text_optional()
    reason = text_optional()


class ComplaintClosedIn(FactsIn):
    closed_at = time_required()
    application_id = text_optional()
    by = text_optional()


class CallbackIn(FactsIn):
    callback_id = text_optional()
    callback_at = time_required()
    recorded_at = time_optional()
    by = text_optional()
    outcome = text_optional()
    visit_ids = fields.List(fields.String(), load_default=list)


class ClosureVerifiedIn(FactsIn):
    application_id = fields.String(required=True)
    verified_at = time_required()
    by = text_optional()


class ClosureReviewedIn(FactsIn):
    application_id = fields.String(required=True)
    reviewed_at = time_required()
    by = text_optional()


class ClosureRejectedIn(FactsIn):
    application_id = fields.String(required=True)
    stage = fields.String(required=True)
    rejected_at = time_required()
    by = text_optional()
    reason = text_optional()
    returned_to = text_optional()
    returned_to_person_id = text_optional()
    application_rejected = fields.Boolean(allow_none=True, load_default=None)


class DispatchIn(In):
    """Every dispatch event about a complaint names its order round."""
    order_round = fields.Integer(allow_none=True, load_default=None)


class PersonRefIn(In):
    person_id = fields.String(allow_none=True, load_default=None)
    name = text_optional()
    mobile = text_optional()
    role = text_optional()


class RoutedIn(DispatchIn):
    project_id = text_optional()
    department = text_optional()
    handler = fields.Nested(PersonRefIn, required=True)
    leaders = fields.List(fields.Nested(PersonRefIn), load_default=list)
    chairman = fields.Nested(PersonRefIn, allow_none=True, load_default=None)
    major = fields.Boolean(load_default=False)
    reason = text_optional()
    signed_at = time_optional()
    requested_completion_at = time_optional()
    completion_due_at = time_optional()
    routed_at = time_optional()


class VisitRecordedIn(DispatchIn):
    visit_id = fields.String(required=True)
    visited_at = time_required()
    recorded_at = time_required()
    plan = text_optional()
    agreed_completion_at = time_optional()
    completion_due_at = time_optional()


class VisitBlockedIn(DispatchIn):
    visit_id = fields.String(required=True)
    attempted_at = time_required()
    recorded_at = time_required()
    reason = text_optional()


class RoutingFailedIn(DispatchIn):
    """A signed order dispatch could not route (the admin and the GM are told)."""
    trigger = text_optional()
    role = text_optional()
    message = text_optional()
    failed_at = time_optional()


class TimeAcceptedIn(In):
    """The deputy GM accepted a stated time (issue 13; read leniently: only
    what sla needs is required)."""
    order_round = fields.Integer(allow_none=True, load_default=None)
    stated_at = time_required()
    received_at = time_optional()
    accepted_by = text_optional()
    accepted_at = time_optional()
    reason = text_optional()


class VisitTimeAcceptedIn(TimeAcceptedIn):
    visit_id = fields.String(required=True)
    outcome = text_optional()


class CallbackTimeAcceptedIn(TimeAcceptedIn):
    callback_id = text_optional()
    visit_ids = fields.List(fields.String(), load_default=list)


class ProgressIn(DispatchIn):
    progress_id = fields.String(required=True)
    recorded_at = time_required()
    by_handler_department = fields.Boolean(load_default=True)


class ClosureAppliedIn(DispatchIn):
    application_id = fields.String(required=True)
    applied_at = time_required()


class ClaimRaisedIn(DispatchIn):
    claim_id = fields.String(required=True)
    raised_at = time_required()
    head_person_id = text_optional()
    major = fields.Boolean(load_default=False)


class ClaimReportedIn(DispatchIn):
    claim_id = fields.String(required=True)
    reported_at = time_required()
    by = text_optional()


class ClaimDecidedIn(DispatchIn):
    claim_id = fields.String(required=True)
    decided_at = time_required()
    decision = text_optional()
    head_person_id = text_optional()


class ClaimFiledIn(DispatchIn):
    claim_id = fields.String(required=True)
    filed_at = time_required()
    by = text_optional()


class MeetingHeldIn(DispatchIn):
    meeting_id = fields.String(required=True)
    held_at = time_required()
    chairman_person_id = text_optional()


class MinutesFiledIn(DispatchIn):
    meeting_id = fields.String(required=True)
    filed_at = time_required()
    by = text_optional()


class DirectoryPersonIn(In):
    id = fields.String(required=True)
    name = fields.String(required=True)
    mobile = text_optional()
    roles = fields.List(fields.String(), load_default=list)
    active = fields.Boolean(load_default=True)
    unit = text_optional()


class DirectoryProjectIn(In):
    id = fields.String(required=True)
    name = fields.String(required=True)
    region_company = text_optional()
    property_company = text_optional()


class DeskAssignmentIn(In):
    project_id = fields.String(required=True)
    person_id = fields.String(required=True)
    assigned_on = fields.Date(required=True)
    rotation_due_on = fields.Date(required=True)
    active = fields.Boolean(load_default=True)


class DirectoryLoadedIn(In):
    version = fields.Integer(required=True)
    loaded_at = time_optional()
    people = fields.List(fields.Nested(DirectoryPersonIn), load_default=list)
    projects = fields.List(fields.Nested(DirectoryProjectIn), load_default=list)
    desk_assignments = fields.List(fields.Nested(DeskAssignmentIn), allow_none=True,
                                   load_default=None)


class AnalysisDepartmentIn(In):
    department = text_optional()
    unit_id = text_optional()
    head_person_ids = fields.List(fields.String(), load_default=list)


class AnalysisIssuedIn(In):
    """Penalty's quarterly systemic-issue analysis (Art. 42)."""
    quarter = fields.String(required=True)
    revision = fields.Integer(load_default=1)
    issued_at = time_required()
    departments = fields.List(fields.Nested(AnalysisDepartmentIn), load_default=list)


class MeasuresFiledIn(In):
    """A named department's head filed its improvement measures (Art. 42):
    meets the department heads' `systemic_measures` deadlines."""
    quarter = fields.String(required=True)
    unit_id = fields.String(required=True)
    department = text_optional()
    head_person_id = text_optional()
    head_person_ids = fields.List(fields.String(), load_default=list)
    filed_at = time_required()
    late = fields.Boolean(allow_none=True, load_default=None)


class RecipientIn(In):
    person_id = fields.String(required=True)
    name = text_optional()
    mobile = text_optional()


class NotificationRequestedIn(In):
    """Penalty asks sla to send a message (monthly report, analysis)."""
    key = fields.String(required=True)
    source = fields.String(required=True)
    template = fields.String(required=True)
    recipients = fields.List(fields.Nested(RecipientIn), required=True)
    params = fields.Dict(load_default=dict)
    text = fields.String(required=True)


INTAKE_FACTS = ("complaint.received", "complaint.resolved_on_spot",
                "complaint.signature_requested", "complaint.signed", "complaint.reception_rated",
                "order.submitted", "order.reviewed", "order.rejected", "order.signed",
                "complaint.reopened", "complaint.escalated")

INCOMING: dict[str, type[Schema]] = {name: FactsIn for name in INTAKE_FACTS}
INCOMING.update({
    "complaint.signature_requested": SignatureRequestedIn,
    "complaint.escalated": ComplaintEscalatedIn,
    "complaint.voided": ComplaintVoidedIn,
    "complaint.closed": ComplaintClosedIn,
    "callback.recorded": CallbackIn,
    "closure.verified": ClosureVerifiedIn,
    "closure.reviewed": ClosureReviewedIn,
    "closure.rejected": ClosureRejectedIn,
    "complaint.routed": RoutedIn,
    "visit.recorded": VisitRecordedIn,
    "visit.blocked": VisitBlockedIn,
    "progress.recorded": ProgressIn,
    "routing.failed": RoutingFailedIn,
    "visit.time_accepted": VisitTimeAcceptedIn,
    "callback.time_accepted": CallbackTimeAcceptedIn,
    "closure.applied": ClosureAppliedIn,
    "claim.raised": ClaimRaisedIn,
    "claim.reported": ClaimReportedIn,
    "claim.decided": ClaimDecidedIn,
    "claim.filed": ClaimFiledIn,
    "meeting.held": MeetingHeldIn,
    "meeting.minutes_filed": MinutesFiledIn,
    "directory.loaded": DirectoryLoadedIn,
    "analysis.issued": AnalysisIssuedIn,
    "measures.filed": MeasuresFiledIn,
    "notification.requested": NotificationRequestedIn,
})

# Events not about one complaint.
ORGANISATION_EVENTS = frozenset({"directory.loaded", "analysis.issued", "measures.filed",
                                 "notification.requested"})


# One schema instance per type, made once: building one deep-copies its
# declared fields (a third of loading an event, measured under the recording
# load). A marshmallow schema keeps no state between loads, so it is shared.
_LOADERS: dict[str, Schema] = {name: schema() for name, schema in INCOMING.items()}


def load_incoming(event_type: str, data: Any) -> Any:
    """The event's data as sla reads it; raises ValidationError."""
    return _LOADERS[event_type].load(data or {})
