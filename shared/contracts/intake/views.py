"""What intake's RPC methods answer: the response views (marshmallow 4).

Intake dumps its answers with these; callers (the gateway's OpenAPI, the
complaint page) read them. A field here is a promise: a caller may rely on
it, so renaming or dropping one is a change of the contract.
"""
from __future__ import annotations

from marshmallow import Schema, fields


class HolderView(Schema):
    person_id = fields.String(allow_none=True)
    role = fields.String()
    held_from = fields.AwareDateTime(data_key="from")
    held_to = fields.AwareDateTime(data_key="to", allow_none=True)


class TimelineView(Schema):
    at = fields.AwareDateTime()
    actor_id = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    order_round = fields.Integer()
    details = fields.Dict()


class DecisionView(Schema):
    step = fields.String(metadata={"description": "review or sign"})
    decision = fields.String()
    by = fields.String(allow_none=True)
    at = fields.AwareDateTime()
    reason = fields.String(allow_none=True)
    order_round = fields.Integer()


class OrderView(Schema):
    order_round = fields.Integer()
    round_started_at = fields.AwareDateTime()
    holder = fields.Nested(HolderView, allow_none=True)
    holders = fields.List(fields.Nested(HolderView))
    submitted_at = fields.AwareDateTime(allow_none=True)
    submitted_by = fields.String(allow_none=True)
    first_submitted_at = fields.AwareDateTime(allow_none=True)
    reviewed_at = fields.AwareDateTime(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    signed_at = fields.AwareDateTime(allow_none=True)
    signed_by = fields.String(allow_none=True)
    department = fields.String(allow_none=True, metadata={
        "description": "the GM's override of the routed department, if any"})
    department_reason = fields.String(allow_none=True)
    decisions = fields.List(fields.Nested(DecisionView))


class SignatureView(Schema):
    status = fields.String(metadata={"description": "pending, binding, signed or refused"})
    status_label = fields.String(metadata={"description": "客户未签名 while pending"})
    media_id = fields.String(allow_none=True)
    bound_at = fields.AwareDateTime(allow_none=True)
    by_link = fields.Boolean(metadata={
        "description": "phone or letter: the customer signs through a one-time link (Art. 13)"})
    links_sent = fields.Integer(metadata={"description": "signing links sent so far"})
    link_sent_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "when the latest signing link was sent"})
    link_expires_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "when the latest signing link expires"})
    may_resend = fields.Boolean(metadata={
        "description": "the signature is pending through a link: a new link may be sent "
                       "(POST /api/complaints/{id}/signing-link)"})


class RatingView(Schema):
    score = fields.Integer()
    comment = fields.String(allow_none=True)
    via = fields.String()
    rated_at = fields.AwareDateTime()
    order_round = fields.Integer()


class EscalationView(Schema):
    level = fields.String()
    level_label = fields.String()
    reason = fields.String(allow_none=True)
    at = fields.AwareDateTime()
    by = fields.String(allow_none=True)


class ContactView(Schema):
    person_id = fields.String()
    name = fields.String()
    mobile = fields.String()
    role = fields.String(allow_none=True)


class CooperatingView(Schema):
    department = fields.String()
    department_name = fields.String(allow_none=True)
    unit_id = fields.String()
    unit_name = fields.String(allow_none=True)


class ResponsibilityView(Schema):
    """Who answers for this round, as dispatch routed it (Art. 20, 21)."""
    routing_id = fields.String()
    reason = fields.String(allow_none=True, metadata={
        "description": "order_signed, escalated or retry"})
    routed_at = fields.AwareDateTime()
    department = fields.String()
    department_name = fields.String(allow_none=True)
    department_overridden = fields.Boolean()
    override_reason = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    company_id = fields.String(allow_none=True)
    major = fields.Boolean()
    escalation_level = fields.String(allow_none=True)
    handler = fields.Nested(ContactView)
    leaders = fields.List(fields.Nested(ContactView))
    chairman = fields.Nested(ContactView, allow_none=True)
    department_head = fields.Nested(ContactView, allow_none=True)
    supervising_leader = fields.Nested(ContactView, allow_none=True)
    cooperating_departments = fields.List(fields.Nested(CooperatingView))


class ClosureView(Schema):
    """A closure application as the centre handles it (Art. 28, 29)."""
    application_id = fields.String()
    order_round = fields.Integer()
    status = fields.String(metadata={
        "description": "applied, verified, reviewed, approved, rejected, superseded"})
    status_label = fields.String()
    applied_at = fields.AwareDateTime()
    applied_by = fields.String()
    received_at = fields.AwareDateTime()
    material_media_ids = fields.List(fields.String())
    signature_media_id = fields.String(allow_none=True)
    holder_id = fields.String(allow_none=True, metadata={"description": "whose step it is"})
    holder_role = fields.String(allow_none=True)
    verified_at = fields.AwareDateTime(allow_none=True)
    verified_by = fields.String(allow_none=True)
    satisfaction = fields.Integer(allow_none=True)
    comment = fields.String(allow_none=True)
    reviewed_at = fields.AwareDateTime(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)
    rejected_at = fields.AwareDateTime(allow_none=True)
    rejected_by = fields.String(allow_none=True)
    rejected_stage = fields.String(allow_none=True)
    rejection_reason = fields.String(allow_none=True)


class CallbackDueView(Schema):
    due = fields.Boolean(metadata={"description": "a blocked visit awaits the callback"})
    due_since = fields.AwareDateTime(allow_none=True)
    visit_ids = fields.List(fields.String())


class TimeAcceptanceView(Schema):
    """An act's stated time the deputy GM accepted (SPEC §4 fairness): what
    the accept-time route answers, for a callback (intake) or a visit (dispatch)."""
    act_id = fields.String(metadata={"description": "the callback's or the visit's id"})
    act_kind = fields.String(metadata={"description": "callback, visit or blocked_visit"})
    complaint_id = fields.String()
    stated_at = fields.AwareDateTime(metadata={"description": "the time the person stated"})
    received_at = fields.AwareDateTime(metadata={"description": "when the record was received"})
    accepted_by = fields.String()
    accepted_at = fields.AwareDateTime()
    reason = fields.String()


class CallbackView(Schema):
    callback_id = fields.String(allow_none=True, metadata={
        "description": "`<complaint>-CB<n>`: the act id of accept-time"})
    order_round = fields.Integer()
    callback_at = fields.AwareDateTime()
    recorded_at = fields.AwareDateTime()
    called_by = fields.String()
    called_role = fields.String()
    outcome = fields.String()
    outcome_label = fields.String()
    note = fields.String(allow_none=True)
    visit_ids = fields.List(fields.String())
    due_since = fields.AwareDateTime()
    time_acceptable = fields.Boolean(metadata={
        "description": "callback_at precedes recorded_at by more than the grace and is not "
                       "accepted yet: the deputy GM may accept it (accept-time)"})
    time_accepted = fields.Nested(TimeAcceptanceView, allow_none=True)


class VoidView(Schema):
    """Why and by whom a complaint recorded by mistake was voided."""
    by = fields.String()
    at = fields.AwareDateTime()
    reason = fields.String()


class ComplaintSummary(Schema):
    id = fields.String()
    project_id = fields.String()
    room = fields.String()
    customer_name = fields.String()
    channel = fields.String()
    category = fields.String()
    category_label = fields.String()
    state = fields.String()
    state_label = fields.String()
    signature_status = fields.String()
    recorded_by = fields.String()
    recorded_at = fields.AwareDateTime()
    requested_completion_at = fields.AwareDateTime()
    holder = fields.Nested(HolderView, allow_none=True)
    escalation_level = fields.String(allow_none=True)
    reopen_count = fields.Integer()
    handler_id = fields.String(allow_none=True, metadata={
        "description": "the handler dispatch routed this round to"})
    callback_due = fields.Boolean()


class ComplaintView(ComplaintSummary):
    region = fields.String()
    customer_phone = fields.String()
    demand = fields.String()
    contact_ended_at = fields.AwareDateTime()
    resolved_on_spot = fields.Boolean()
    region_company_id = fields.String(allow_none=True)
    property_company_id = fields.String(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    order = fields.Nested(OrderView, allow_none=True)
    signature = fields.Nested(SignatureView)
    rating = fields.Nested(RatingView, allow_none=True)
    escalation = fields.Nested(EscalationView, allow_none=True)
    responsibility = fields.Nested(ResponsibilityView, allow_none=True, metadata={
        "description": "who answers for this round (null until dispatch routed it)"})
    callback = fields.Nested(CallbackDueView)
    callbacks = fields.List(fields.Nested(CallbackView))
    closure = fields.Nested(ClosureView, allow_none=True, metadata={
        "description": "the closure application under way (or approved)"})
    closures = fields.List(fields.Nested(ClosureView), metadata={
        "description": "every application received, oldest first"})
    void = fields.Nested(VoidView, allow_none=True, metadata={
        "description": "set when the complaint was voided (state voided, 已作废)"})
    timeline = fields.List(fields.Nested(TimelineView))


class ComplaintListItem(ComplaintSummary):
    """A row of the complaint list: the ids with the names people read."""
    customer_phone = fields.String()
    channel_label = fields.String(metadata={"description": "来访 / 来电 / 来函 / 移动端"})
    project_name = fields.String(allow_none=True, metadata={
        "description": "the directory's name of the project (null if it did not answer)"})
    recorded_by_name = fields.String(allow_none=True)
    holder_name = fields.String(allow_none=True, metadata={
        "description": "who holds the order now (its approval chain)"})
    department = fields.String(allow_none=True, metadata={
        "description": "the first responsible department dispatch routed the order to"})
    department_label = fields.String(allow_none=True, metadata={"description": "e.g. 物业公司"})
    handler_name = fields.String(allow_none=True)
    updated_at = fields.AwareDateTime()


class ComplaintPage(Schema):
    """The list (SPEC §10): `page` and `page_size` only when asked by page (deprecated)."""
    items = fields.List(fields.Nested(ComplaintListItem))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class ComplaintExportRow(ComplaintListItem):
    """A row of the export: the list's row, the demand and when it closed."""
    demand = fields.String()
    closed_at = fields.AwareDateTime(allow_none=True)
    unit_name = fields.String(allow_none=True, metadata={
        "description": "the responsible company or unit dispatch routed to"})


class ComplaintExport(Schema):
    """What export_complaints answers: every matching row, at most `max_rows`."""
    items = fields.List(fields.Nested(ComplaintExportRow))
    total = fields.Integer()
    max_rows = fields.Integer()


class LinkView(Schema):
    complaint_id = fields.String()
    project_id = fields.String()
    project_name = fields.String()
    room = fields.String()
    demand = fields.String()
    category = fields.String()
    category_label = fields.String()
    recorded_at = fields.AwareDateTime()
    step = fields.String(metadata={"description": "record_signature or rating"})
    expires_at = fields.AwareDateTime()


class LinkSigned(Schema):
    complaint_id = fields.String()
    signature_status = fields.String()
    rating_link_path = fields.String(metadata={"description": "where the customer rates next"})


class Verification(Schema):
    complaint_id = fields.String()
    media_id = fields.String()
    intact = fields.Boolean()
    record_sha256 = fields.String()
    bound_record_sha256 = fields.String()


class LinkRated(Schema):
    """What rate_by_link answers."""
    complaint_id = fields.String()
    score = fields.Integer()


class LinkChecked(Schema):
    """What check_link answers: the link's complaint and step."""
    complaint_id = fields.String()
    step = fields.String()


class AccessGranted(Schema):
    """What check_access answers when the actor may see the complaint."""
    complaint_id = fields.String()
