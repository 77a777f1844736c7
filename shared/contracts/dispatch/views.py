"""What dispatch's casework RPC methods answer: the complaint's dispatch page
(`get_complaint_view`), the record a step made (a visit, progress, closure
application, claim or meeting), routing errors and a signature's check.
Times are aware ISO 8601 in the group's zone; amounts are decimal strings.
"""

from __future__ import annotations

from marshmallow import Schema, fields


class ContactOut(Schema):
    person_id = fields.String()
    name = fields.String()
    mobile = fields.String()
    role = fields.String(allow_none=True)


class CooperatingOut(Schema):
    department = fields.String()
    department_name = fields.String()
    unit_id = fields.String()
    unit_name = fields.String(allow_none=True)


class RoutingOut(Schema):
    id = fields.String()
    order_round = fields.Integer()
    reason = fields.String()
    routed_at = fields.AwareDateTime()
    category = fields.String()
    department = fields.String()
    department_name = fields.String()
    department_overridden = fields.Boolean()
    override_reason = fields.String(allow_none=True)
    major = fields.Boolean()
    escalation_level = fields.String(allow_none=True)
    company_id = fields.String()
    company_name = fields.String()
    unit_id = fields.String()
    unit_name = fields.String()
    department_unit_id = fields.String()
    department_unit_name = fields.String(allow_none=True)
    handler = fields.Nested(ContactOut)
    leaders = fields.List(fields.Nested(ContactOut))
    chairman = fields.Nested(ContactOut)
    department_head = fields.Nested(ContactOut)
    supervising_leader = fields.Nested(ContactOut, allow_none=True)
    cooperating = fields.List(fields.Nested(CooperatingOut), data_key="cooperating_departments")
    directory_version = fields.Integer(allow_none=True)


class RoutingFailureOut(Schema):
    role = fields.String()
    unit_id = fields.String(allow_none=True)
    message = fields.String()


class RoutingPreviewOut(Schema):
    """The routing an order would get if signed now (`preview_routing`); when
    `routable` is false, `failure` names the missing role as routing.failed would."""
    routable = fields.Boolean()
    category = fields.String()
    department = fields.String(allow_none=True)
    department_name = fields.String(allow_none=True)
    department_overridden = fields.Boolean()
    routing = fields.Nested(RoutingOut(exclude=("id", "reason", "routed_at", "order_round")),
                            allow_none=True)
    failure = fields.Nested(RoutingFailureOut, allow_none=True)


class RoutingErrorOut(Schema):
    id = fields.Integer()
    complaint_id = fields.String()
    order_round = fields.Integer()
    trigger = fields.String()
    department = fields.String(allow_none=True)
    role = fields.String()
    unit_id = fields.String(allow_none=True)
    message = fields.String()
    directory_version = fields.Integer(allow_none=True)
    failed_at = fields.AwareDateTime()
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)


class VisitOut(Schema):
    id = fields.String()
    complaint_id = fields.String()
    order_round = fields.Integer()
    outcome = fields.String()
    happened_at = fields.AwareDateTime(metadata={"description": "visited, or attempted"})
    department = fields.String()
    plan = fields.String(allow_none=True)
    agreed_completion_at = fields.AwareDateTime(allow_none=True)
    completion_due_at = fields.AwareDateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    photo_media_ids = fields.List(fields.String())
    signature_media_id = fields.String(allow_none=True)
    signature_status = fields.String(allow_none=True, metadata={
        "description": "pending, bound or refused: the signature's binding to this record"})
    record_sha256 = fields.String(allow_none=True)
    recorded_by = fields.String()
    recorded_at = fields.AwareDateTime(metadata={
        "description": "the receipt: when dispatch stored the record"})
    time_acceptable = fields.Boolean(metadata={
        "description": "the stated time (happened_at) precedes the receipt by more than the "
                       "grace and is not accepted yet: the deputy GM may accept it"})
    time_accepted = fields.Nested(lambda: TimeAcceptanceOut(), allow_none=True)


class TimeAcceptanceOut(Schema):
    """A visit's stated time the deputy GM accepted (SPEC §4 fairness); the same
    shape as intake's TimeAcceptanceView for a callback."""
    act_id = fields.String(metadata={"description": "the visit's id"})
    act_kind = fields.String(metadata={"description": "visit or blocked_visit"})
    complaint_id = fields.String()
    outcome = fields.String(metadata={"description": "done or blocked"})
    stated_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    accepted_by = fields.String()
    accepted_at = fields.AwareDateTime()
    reason = fields.String()


class ProgressOut(Schema):
    id = fields.String()
    complaint_id = fields.String()
    order_round = fields.Integer()
    note = fields.String()
    department = fields.String()
    unit_id = fields.String()
    by_handler_department = fields.Boolean()
    photo_media_ids = fields.List(fields.String())
    recorded_by = fields.String()
    recorded_at = fields.AwareDateTime()


class ApplicationOut(Schema):
    id = fields.String()
    complaint_id = fields.String()
    order_round = fields.Integer()
    status = fields.String()
    material_media_ids = fields.List(fields.String())
    signature_media_id = fields.String()
    signature_status = fields.String(allow_none=True)
    record_sha256 = fields.String(allow_none=True)
    work_done = fields.String(allow_none=True)
    applied_by = fields.String()
    applied_at = fields.AwareDateTime()
    verified_at = fields.AwareDateTime(allow_none=True)
    verified_by = fields.String(allow_none=True)
    satisfaction = fields.Integer(allow_none=True)
    reviewed_at = fields.AwareDateTime(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    rejected_at = fields.AwareDateTime(allow_none=True)
    rejected_by = fields.String(allow_none=True)
    rejected_stage = fields.String(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)


class ClaimOut(Schema):
    id = fields.String()
    complaint_id = fields.String()
    order_round = fields.Integer()
    status = fields.String()
    status_label = fields.String()
    amount_claimed = fields.Decimal(as_string=True)
    description = fields.String()
    raised_by = fields.String()
    raised_at = fields.AwareDateTime()
    head_person_id = fields.String()
    major = fields.Boolean()
    report_due_at = fields.AwareDateTime()
    reported_at = fields.AwareDateTime(allow_none=True)
    reported_by = fields.String(allow_none=True)
    report_text = fields.String(allow_none=True)
    report_media_id = fields.String(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_as = fields.String(allow_none=True)
    decision = fields.String(allow_none=True)
    amount_granted = fields.Decimal(as_string=True, allow_none=True)
    decision_note = fields.String(allow_none=True)
    file_due_at = fields.AwareDateTime(allow_none=True)
    filed_at = fields.AwareDateTime(allow_none=True)
    filed_by = fields.String(allow_none=True)


class MeetingOut(Schema):
    id = fields.String()
    complaint_id = fields.String()
    order_round = fields.Integer()
    chairman_person_id = fields.String()
    held_at = fields.AwareDateTime()
    responsible = fields.String()
    solution = fields.String()
    due_at = fields.AwareDateTime()
    recorded_by = fields.String()
    recorded_at = fields.AwareDateTime()
    minutes_due_at = fields.AwareDateTime()
    minutes_media_id = fields.String(allow_none=True)
    minutes_filed_at = fields.AwareDateTime(allow_none=True)
    minutes_filed_by = fields.String(allow_none=True)


class CallbackOut(Schema):
    id = fields.String()
    order_round = fields.Integer()
    callback_at = fields.AwareDateTime()
    by = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class HistoryOut(Schema):
    at = fields.AwareDateTime()
    actor_id = fields.String(allow_none=True)
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    order_round = fields.Integer()
    record_id = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    details = fields.Dict()


class DispatchView(Schema):
    """The departments' side of a complaint, for its page."""
    complaint_id = fields.String()
    project_id = fields.String()
    category = fields.String()
    order_round = fields.Integer()
    state = fields.String()
    state_label = fields.String()
    intake_state = fields.String()
    escalation_level = fields.String(allow_none=True)
    major = fields.Boolean()
    requested_completion_at = fields.AwareDateTime()
    signed_at = fields.AwareDateTime(allow_none=True)
    completion_due_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "min(requested, agreed at the visit) (Art. 25); the requested time "
                       "until a visit is done"})
    routing = fields.Nested(RoutingOut, allow_none=True)
    routings = fields.List(fields.Nested(RoutingOut))
    routing_errors = fields.List(fields.Nested(RoutingErrorOut))
    visits = fields.List(fields.Nested(VisitOut))
    time_acceptances = fields.List(fields.Nested(TimeAcceptanceOut), metadata={
        "description": "stated times of visits the deputy GM accepted"})
    callbacks = fields.List(fields.Nested(CallbackOut))
    progress = fields.List(fields.Nested(ProgressOut))
    applications = fields.List(fields.Nested(ApplicationOut))
    claims = fields.List(fields.Nested(ClaimOut))
    meetings = fields.List(fields.Nested(MeetingOut))
    history = fields.List(fields.Nested(HistoryOut))


class RoutingOverview(Schema):
    """`routing_overview`: one complaint's latest routing (who answers for it)
    and its completion deadline, for lists of many complaints (the board)."""
    complaint_id = fields.String(required=True)
    completion_due_at = fields.AwareDateTime(allow_none=True)
    routing = fields.Nested(RoutingOut, allow_none=True)


class SignatureCheckOut(Schema):
    """`verify_record_signature`: is the signed visit or application still what
    the customer signed (SPEC §6)?"""
    record_id = fields.String()
    media_id = fields.String()
    intact = fields.Boolean()
    record_sha256 = fields.String()
    bound_record_sha256 = fields.String(allow_none=True)


VIEW = DispatchView()
VISIT_OUT, PROGRESS_OUT, APPLICATION_OUT = VisitOut(), ProgressOut(), ApplicationOut()
CLAIM_OUT, MEETING_OUT, ROUTING_ERROR_OUT = ClaimOut(), MeetingOut(), RoutingErrorOut()
TIME_ACCEPTANCE_OUT = TimeAcceptanceOut()
ROUTING_OVERVIEW = RoutingOverview()
