"""What the departments' RPC methods take and give (marshmallow 4), and how
dispatch reads intake's events (tolerant readers: unknown fields ignored)."""
from dataclasses import fields as dataclass_fields, is_dataclass
from datetime import datetime
from decimal import Decimal

from marshmallow import (EXCLUDE, Schema, ValidationError, fields, post_load, validate,
                         validates_schema)

from services.dispatch import claims, work
from services.dispatch.case import STATE_LABELS, Facts
from shared.validation import load_input

REQUIRED = "必填 (required)"
NOT_NULL = "不能为空 (may not be null)"
MAX_MEDIA = 20


# Input is loaded by the shared helper (field-by-field InvalidInput).
load = load_input


# -- fields ---------------------------------------------------------------------------------

class Text(fields.String):
    """Trimmed text that may not be blank."""
    default_error_messages = {"required": REQUIRED, "null": NOT_NULL,
                              "invalid": "须为文字 (must be text)",
                              "blank": "不能为空 (may not be blank)"}

    def __init__(self, max_length=4000, **kwargs):
        kwargs.setdefault("validate", validate.Length(
            max=max_length, error=f"最多 {max_length} 个字符 (at most {max_length} characters)"))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise self.make_error("blank")
        return text


def optional_text(max_length=4000):
    return Text(max_length, allow_none=True, load_default=None)


class Time(fields.AwareDateTime):
    default_error_messages = {
        "required": REQUIRED, "null": NOT_NULL,
        "invalid": "须为 ISO 8601 时间 (must be an ISO 8601 time)",
        "invalid_awareness": "须带时区，如 +08:00 (needs an offset, e.g. +08:00)"}


def optional_time():
    return Time(allow_none=True, load_default=None)


class MediaIds(fields.List):
    default_error_messages = {"invalid": "须为列表 (must be a list)", "null": NOT_NULL}

    def __init__(self, **kwargs):
        super().__init__(Text(100), load_default=list, validate=self._check, **kwargs)

    @staticmethod
    def _check(values):
        if len(values) > MAX_MEDIA:
            raise ValidationError(f"最多 {MAX_MEDIA} 个文件 (at most {MAX_MEDIA} files)")
        if len(set(values)) != len(values):
            raise ValidationError("有重复的文件 (repeated media id)")


class Money(fields.Decimal):
    default_error_messages = {"required": REQUIRED, "null": NOT_NULL,
                              "invalid": "须为金额 (must be an amount in CNY)",
                              "special": "须为金额 (must be an amount in CNY)"}

    def __init__(self, **kwargs):
        super().__init__(validate=_money, **kwargs)


def _money(value):
    if value <= 0:
        raise ValidationError("须大于 0 (must be more than 0)")
    if value != value.quantize(Decimal("0.01")) or value >= Decimal("1e10"):
        raise ValidationError("最多两位小数、十位整数 (at most 10 digits and 2 decimals)")


def one_of(choices):
    return validate.OneOf(choices, error="须为 {choices} 之一 (must be one of {choices})")


class Form(Schema):
    """Base of every request: a field we do not know is refused (a typo would
    otherwise be silently dropped)."""
    error_messages = {"unknown": "不允许的字段 (unknown field)",
                      "type": "须为 JSON 对象 (must be a JSON object)"}


class EventData(Schema):
    """Base of what dispatch reads from intake's events: other fields ignored."""

    class Meta:
        unknown = EXCLUDE


# -- input ----------------------------------------------------------------------------------

class VisitForm(Form):
    """上门回访 (Art. 22, 23): `done` with the plan, the agreed completion time
    and the customer's signature; or `blocked` by the customer with the reason."""
    outcome = fields.String(required=True, validate=one_of((work.DONE, work.BLOCKED)))
    visited_at = optional_time()
    plan = optional_text()
    agreed_completion_at = optional_time()
    customer_signature_media_id = optional_text(100)
    attempted_at = optional_time()
    reason = optional_text(2000)
    photo_media_ids = MediaIds()

    @validates_schema(skip_on_field_errors=True)
    def by_outcome(self, data, **kwargs):
        if data["outcome"] == work.DONE:
            needed = ("visited_at", "plan", "agreed_completion_at", "customer_signature_media_id")
        else:
            needed = ("reason",) + (() if data.get("visited_at") else ("attempted_at",))
        missing = {name: [REQUIRED] for name in needed if data.get(name) is None}
        if data["outcome"] == work.DONE and "customer_signature_media_id" in missing:
            missing["customer_signature_media_id"] = [
                "须上传客户签名确认 (the customer's signature is required)"]
        if missing:
            raise ValidationError(missing)

    @post_load
    def attempted(self, data, **kwargs):
        if data["outcome"] == work.BLOCKED and data["attempted_at"] is None:
            data["attempted_at"] = data["visited_at"]  # the SPEC's body names it visited_at
        return data


class ProgressForm(Form):
    """处理进展 (Art. 26)."""
    note = Text(required=True)
    photo_media_ids = MediaIds()


class ClosureForm(Form):
    """申请结案 (Art. 28): material the customer signed, and the signature."""
    material_media_ids = MediaIds()
    customer_signature_media_id = Text(100, required=True, error_messages={
        "required": "须上传客户签名确认的结案材料 (the customer's signature is required)",
        "null": "须上传客户签名确认的结案材料 (the customer's signature is required)"})


CENTS = Decimal("0.01")


class ClaimForm(Form):
    """索赔 (Art. 34)."""
    amount_claimed = Money(required=True)
    description = Text(required=True)

    @post_load
    def in_cents(self, data, **kwargs):
        data["amount_claimed"] = data["amount_claimed"].quantize(CENTS)
        return data


class ClaimReportForm(Form):
    """一把手书面报告 (Art. 34)."""
    report_text = Text(required=True, max_length=20000)
    report_media_id = optional_text(100)


class ClaimDecisionForm(Form):
    decision = fields.String(required=True, validate=one_of((claims.APPROVE, claims.REJECT)))
    amount_granted = Money(allow_none=True, load_default=None)
    note = optional_text()

    @post_load
    def in_cents(self, data, **kwargs):
        if data["amount_granted"] is not None:
            data["amount_granted"] = data["amount_granted"].quantize(CENTS)
        return data


class MeetingForm(Form):
    """专题会议 (Art. 33): 责任人、解决方案、整改完成时间, and the minutes."""
    held_at = Time(required=True)
    responsible = Text(200, required=True)
    solution = Text(required=True)
    due_at = Time(required=True)
    minutes_media_id = optional_text(100)


class MinutesForm(Form):
    minutes_media_id = Text(100, required=True)


class IdArgument(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=100))


# -- reading intake's events -------------------------------------------------------------------

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


def facts_of(data, occurred_at, complaint_id=None, required=True):
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


# -- output ---------------------------------------------------------------------------------

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
    recorded_at = fields.AwareDateTime()


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
    callbacks = fields.List(fields.Nested(CallbackOut))
    progress = fields.List(fields.Nested(ProgressOut))
    applications = fields.List(fields.Nested(ApplicationOut))
    claims = fields.List(fields.Nested(ClaimOut))
    meetings = fields.List(fields.Nested(MeetingOut))
    history = fields.List(fields.Nested(HistoryOut))


VIEW = DispatchView()
VISIT_OUT, PROGRESS_OUT, APPLICATION_OUT = VisitOut(), ProgressOut(), ApplicationOut()
CLAIM_OUT, MEETING_OUT, ROUTING_ERROR_OUT = ClaimOut(), MeetingOut(), RoutingErrorOut()


# -- turning records into those shapes -------------------------------------------------------

def localise(value, zone):
    """Times in the group's zone (SPEC §10: ISO 8601 with offset), everywhere."""
    if isinstance(value, datetime):
        return value.astimezone(zone)
    if isinstance(value, dict):
        return {key: localise(inner, zone) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [localise(inner, zone) for inner in value]
    return value


def as_dict(record, **extra):
    data = {f.name: getattr(record, f.name) for f in dataclass_fields(record)} \
        if is_dataclass(record) else dict(record)
    data.update(extra)
    return data


def binding_state(bindings, media_id):
    row = bindings.get(media_id) if media_id else None
    return row["state"] if row else None


def visit_view(visit, bindings):
    return as_dict(visit, signature_status=binding_state(bindings, visit.signature_media_id))


def application_view(application, bindings):
    return as_dict(application,
                   signature_status=binding_state(bindings, application.signature_media_id))


def claim_view(claim):
    return as_dict(claim, status_label=claims.STATUS_LABELS[claim.status])


def meeting_view(meeting):
    return as_dict(meeting, minutes_due_at=meeting.minutes_due_at)


def complaint_view(case, *, routings, errors, visits, callbacks, progress, applications,
                   claim_list, meetings, history, bindings):
    return {
        "complaint_id": case.id, "project_id": case.project_id, "category": case.category,
        "order_round": case.order_round, "state": case.state,
        "state_label": STATE_LABELS[case.state], "intake_state": case.intake_state,
        "escalation_level": case.escalation_level, "major": case.major,
        "requested_completion_at": case.requested_completion_at, "signed_at": case.signed_at,
        "completion_due_at": case.completion_due_at or (
            case.requested_completion_at if case.routing else None),
        "routing": case.routing, "routings": routings, "routing_errors": errors,
        "visits": [visit_view(v, bindings) for v in visits], "callbacks": callbacks,
        "progress": progress,
        "applications": [application_view(a, bindings) for a in applications],
        "claims": [claim_view(c) for c in claim_list],
        "meetings": [meeting_view(m) for m in meetings], "history": history,
    }


def record_out(record, bindings=None):
    """(schema, view) of a record a step returns."""
    bindings = bindings or {}
    if isinstance(record, work.Visit):
        return VISIT_OUT, visit_view(record, bindings)
    if isinstance(record, work.Progress):
        return PROGRESS_OUT, as_dict(record)
    if isinstance(record, work.ClosureApplication):
        return APPLICATION_OUT, application_view(record, bindings)
    if isinstance(record, claims.Claim):
        return CLAIM_OUT, claim_view(record)
    return MEETING_OUT, meeting_view(record)


def dump(schema, view, zone):
    return schema.dump(localise(_plain(view), zone))


def _plain(value):
    """Dataclasses as dicts, recursively (marshmallow reads attributes or keys)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclass_fields(value)}
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(inner) for inner in value]
    return value
