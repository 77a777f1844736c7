"""Events published by the intake service (SPEC §2, §4, §7).

Every intake event carries the complaint's facts that sla and penalty compute
from (`ComplaintFacts`): the order's timestamps, who held it when, the
department override, and who acted. Times are ISO 8601 with the group's offset.
"""
from marshmallow import Schema, fields, validate

from shared.events.registry import event


def _time(description: str, required: bool = True) -> fields.AwareDateTime:
    return fields.AwareDateTime(required=required, allow_none=not required,
                                metadata={"description": description})


def _text(description: str, required: bool = True, allow_none: bool = True) -> fields.String:
    return fields.String(required=required, allow_none=allow_none,
                         metadata={"description": description})


class OrderHolder(Schema):
    person_id = fields.String(required=True, allow_none=True)
    role = fields.String(required=True)
    held_from = fields.AwareDateTime(required=True, data_key="from")
    held_to = fields.AwareDateTime(required=True, allow_none=True, data_key="to")


class ComplaintFacts(Schema):
    """Fields common to every intake event."""
    complaint_id = fields.String(required=True)
    project_id = fields.String(required=True)
    region_company_id = _text("the project's regional company")
    property_company_id = _text("the project's property company")
    category = fields.String(required=True, metadata={"description": "SPEC §3 category code"})
    channel = fields.String(required=True, metadata={"description": "visit, phone, letter, mobile"})
    room = fields.String(required=True)
    state = fields.String(required=True, metadata={
        "description": "the complaint's state after the change"})
    order_round = fields.Integer(required=True, metadata={
        "description": "1, then +1 each time the complaint is reopened"})
    specialist_id = fields.String(required=True, metadata={
        "description": "the specialist responsible for this round's order (order_submit)"})
    recorded_by = fields.String(required=True)
    recorded_at = _time("when the complaint was recorded")
    contact_ended_at = _time("when the call ended / the visitor left (SPEC §2)")
    round_started_at = _time("start of this order round: contact_ended_at, or the reopen time; "
                             "the order_submit deadline runs from it")
    requested_completion_at = _time("the customer's requested completion time")
    submitted_at = _time("latest submission of the order", required=False)
    first_submitted_at = _time("first submission: the order_sign deadline runs from it",
                               required=False)
    reviewed_at = _time("the deputy GM's review (cleared when the GM sends it back)",
                        required=False)
    signed_at = _time("the GM's signature (dispatch)", required=False)
    department = _text("the GM's override of the routed department, if any")
    department_reason = _text("why the department was overridden")
    escalation_level = _text("major, group or common_issue, if flagged")
    reopen_count = fields.Integer(required=True)
    signature_status = fields.String(required=True, metadata={
        "description": "the customer's signature on the record: pending, binding, signed, refused"})
    holders = fields.List(fields.Nested(OrderHolder), required=True, metadata={
        "description": "who held this round's order from when to when (to = null: holds it now)"})
    actor_id = _text("the person who acted (null: the customer through a link)")
    actor_role = _text("the role the actor acted in")


@event("complaint.received", "intake", "a specialist recorded a complaint (Art. 13)")
class ComplaintReceived(ComplaintFacts):
    resolved_on_spot = fields.Boolean(required=True)
    signature_media_id = _text("the customer's signature given at the desk (visit, mobile)")


@event("complaint.resolved_on_spot", "intake",
       "a complaint was resolved on the spot and closed without an order (Art. 15)")
class ComplaintResolvedOnSpot(ComplaintFacts):
    closed_at = _time("when it was closed")


@event("complaint.signature_requested", "intake",
       "a phone or letter complaint awaits the customer's signature through a one-time link")
class SignatureRequested(ComplaintFacts):
    step = fields.String(required=True)
    link_path = fields.String(required=True, metadata={
        "description": "the one-time link's path (/sign/<token>) for the SMS to the customer"})
    expires_at = _time("when the link expires")
    customer_phone = fields.String(required=True)
    customer_name = fields.String(required=True)
    resent = fields.Boolean(required=False, metadata={
        "description": "true: a specialist or the centre sent a new link; every earlier link "
                       "of the complaint stopped working (Art. 13)"})


@event("complaint.signed", "intake", "the customer signed the record through the link")
class ComplaintSigned(ComplaintFacts):
    signature_media_id = fields.String(required=True)
    via = fields.String(required=True)
    record_sha256 = fields.String(required=True, metadata={
        "description": "SHA-256 of the record's canonical form, bound to the signature"})
    rating_link_path = _text("the one-time link where the customer rates the reception")
    customer_phone = fields.String(required=True)


@event("complaint.reception_rated", "intake",
       "the customer rated the specialist's reception 1-5 (Art. 16)")
class ReceptionRated(ComplaintFacts):
    score = fields.Integer(required=True)
    comment = _text("the customer's comment")
    via = fields.String(required=True, metadata={"description": "terminal or link"})
    rated_specialist_id = fields.String(required=True)


@event("order.submitted", "intake", "the specialist submitted the supervision order (Art. 14)")
class OrderSubmitted(ComplaintFacts):
    resubmitted = fields.Boolean(required=True, metadata={
        "description": "true after a rejection sent it back"})


@event("order.reviewed", "intake", "the deputy GM approved the order")
class OrderReviewed(ComplaintFacts):
    reason = _text("the deputy GM's remark", required=False)


@event("order.rejected", "intake",
       "the deputy GM (step review) or the GM (step sign) sent the order back one step")
class OrderRejected(ComplaintFacts):
    step = fields.String(required=True, metadata={"description": "review or sign"})
    reason = fields.String(required=True)
    returned_to_role = fields.String(required=True)
    returned_to_person_id = _text("who holds the order now")


@event("order.signed", "intake", "the GM signed the order: it is dispatched (Art. 14, 19)")
class OrderSigned(ComplaintFacts):
    reason = _text("the GM's remark", required=False)
    department_overridden = fields.Boolean(required=True)


@event("complaint.reopened", "intake",
       "a closed complaint was raised again (再次投诉): a new order round starts")
class ComplaintReopened(ComplaintFacts):
    reason = fields.String(required=True)
    previous_closed_at = _time("when it had been closed", required=False)


@event("complaint.escalated", "intake",
       "the GM flagged the complaint major / group / common issue (Art. 5, 21, 33)")
class ComplaintEscalated(ComplaintFacts):
    level = fields.String(required=True)
    previous_level = _text("the previous flag, if any")
    reason = fields.String(required=True)


# -- after the order is signed: the centre's callback and the closure loop (Art. 23, 28, 29) ---

@event("callback.recorded", "intake",
       "the centre called the customer back after a blocked visit (Art. 23)")
class CallbackRecorded(ComplaintFacts):
    callback_id = fields.String(required=False, metadata={
        "description": "the callback's id (`<complaint>-CB<n>`): the act a stated time is "
                       "accepted for (callback.time_accepted)"})
    callback_at = _time("when the customer was called back, as the caller stated it")
    recorded_at = _time("when intake received and stored the callback (the receipt); a "
                        "callback_at earlier than this by more than SLA."
                        "stated_time_grace_minutes counts from recorded_at unless the deputy "
                        "GM accepts it (callback.time_accepted)")
    by = fields.String(required=True, metadata={"description": "who called"})
    by_role = fields.String(required=True, metadata={
        "description": "centre_staff, centre_deputy_gm, centre_gm, or specialist (the desk)"})
    outcome = fields.String(required=True, metadata={
        "description": "reached, unreachable or declined"})
    note = _text("what the customer said")
    visit_ids = fields.List(fields.String(), required=True, metadata={
        "description": "the blocked visits (dispatch's visit ids) this callback answers"})
    due_since = _time("the first unanswered blocked-visit record: the blocked_callback "
                      "deadline runs from it")


@event("callback.time_accepted", "intake",
       "the deputy GM accepted a callback's stated time (callback_at) that precedes its receipt "
       "by more than SLA.stated_time_grace_minutes, with a reason: the blocked_callback deadline "
       "is judged by the stated time")
class CallbackTimeAccepted(ComplaintFacts):
    callback_id = fields.String(required=True)
    visit_ids = fields.List(fields.String(), required=True, metadata={
        "description": "the blocked visits the callback answered"})
    stated_at = _time("the time the caller stated (callback_at)")
    received_at = _time("when intake received the callback (its recorded_at)")
    accepted_by = fields.String(required=True)
    accepted_at = _time("when the deputy GM accepted it")
    reason = fields.String(required=True)


@event("complaint.voided", "intake",
       "the deputy GM voided a complaint recorded by mistake (a duplicate, the wrong customer) "
       "before its order was signed: its clocks stop, it costs nobody anything, no step acts "
       "on it again; its page and timeline stay for the audit")
class ComplaintVoided(ComplaintFacts):
    voided_by = fields.String(required=True)
    voided_at = _time("when it was voided")
    reason = fields.String(required=True)
    previous_state = fields.String(required=True, metadata={
        "description": "the state it was voided in"})


@event("closure.verified", "intake",
       "the specialist checked the closure material, called the customer back and recorded "
       "the satisfaction survey (Art. 29); the deputy GM reviews next")
class ClosureVerified(ComplaintFacts):
    application_id = fields.String(required=True, metadata={
        "description": "dispatch's closure application"})
    verified_at = _time("when it was verified")
    by = fields.String(required=True)
    satisfaction = fields.Integer(required=True, validate=validate.Range(1, 5), metadata={
        "description": "the customer's satisfaction 1-5 (rankings, Art. 38)"})
    comment = _text("the customer's words or the specialist's remark")


@event("closure.reviewed", "intake",
       "the deputy GM approved the verified closure; the GM approves next (Art. 29)")
class ClosureReviewed(ComplaintFacts):
    application_id = fields.String(required=True)
    reviewed_at = _time("when it was reviewed")
    by = fields.String(required=True)
    reason = _text("the deputy GM's remark", required=False)


@event("closure.rejected", "intake",
       "a closure step sent the application back one step with a reason: at `verify` the "
       "application is rejected and the work goes back to the department (overdue runs again "
       "as if never applied); at `review` it goes back to the specialist's verification, at "
       "`approve` back to the deputy GM's review, and the department is not involved")
class ClosureRejected(ComplaintFacts):
    application_id = fields.String(required=True)
    stage = fields.String(required=True, metadata={"description": "verify, review or approve"})
    rejected_at = _time("when it was rejected")
    by = fields.String(required=True)
    reason = fields.String(required=True)
    returned_to = fields.String(required=True, metadata={
        "description": "department (stage verify), verify (stage review) or review "
                       "(stage approve)"})
    application_rejected = fields.Boolean(required=True, metadata={
        "description": "true only at stage verify: the application is off the table and the "
                       "department works again"})
    returned_to_person_id = _text("who holds the application now (review, approve)",
                                  required=False)
    satisfaction = fields.Integer(required=False, allow_none=True, validate=validate.Range(1, 5),
                                  metadata={"description": "the survey, if taken (verify)"})


@event("complaint.closed", "intake",
       "the GM approved the closure: the complaint is closed (Art. 29)")
class ComplaintClosed(ComplaintFacts):
    closed_at = _time("when it was closed")
    application_id = fields.String(required=True)
    by = fields.String(required=True)
    satisfaction = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the survey recorded at verification"})
    reason = _text("the GM's remark", required=False)
