"""What intake's RPC methods take and return (marshmallow 4).

Input is never trusted, even from the gateway: unknown fields are refused,
text is bounded and free of control characters, and every message is
field-by-field in zh-CN with an English gloss (SPEC §2, §10). Text is kept
verbatim: SQL or markup in a demand is stored and shown as text.
"""
import re
from datetime import datetime

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from shared.organisation import DEPARTMENTS
from services.intake import closure, domain
from shared.validation import load_input

REQUIRED = "必填 (required)"
NULL = "不能为空 (may not be null)"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def _messages(**extra):
    return {"required": REQUIRED, "null": NULL, **extra}


class Input(Schema):
    """Base of every request: zh-CN messages for unknown fields and bad types."""
    error_messages = {"unknown": "不允许的字段 (unknown field)",
                      "type": "须为 JSON 对象 (must be a JSON object)"}


class Text(fields.String):
    """Bounded text. One-line text is trimmed; multi-line text is kept verbatim."""

    def __init__(self, max_length, multiline=False, **kwargs):
        kwargs.setdefault("error_messages", _messages(invalid="须为文本 (must be text)"))
        super().__init__(**kwargs)
        self.max_length = max_length
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not self.multiline:
            value = value.strip()
        if not value.strip():
            raise ValidationError("不能为空白 (may not be blank)")
        if len(value) > self.max_length:
            raise ValidationError(f"最多 {self.max_length} 个字符 (at most {self.max_length} characters)")
        if (_CONTROL if self.multiline else _CONTROL_SINGLE_LINE).search(value):
            raise ValidationError("含有不允许的控制字符 (control characters are not allowed)")
        return value


class Phone(fields.String):
    def __init__(self, **kwargs):
        super().__init__(error_messages=_messages(invalid="须为文本 (must be text)"), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        phone = domain.normalise_phone(value[:40])
        if phone is None:
            raise ValidationError("电话号码格式不正确：手机号如 13812345678，座机如 020-12345678 "
                                  "(a CN mobile 1[3-9]xxxxxxxxx or a landline 0xx-xxxxxxxx)")
        return phone


def _time(**kwargs):
    return fields.AwareDateTime(error_messages=_messages(
        invalid="须为 ISO 8601 时间，例如 2026-11-27T10:42:00+08:00 (ISO 8601 time)",
        invalid_awareness="时间须带时区，例如 +08:00 (time needs an offset)",
        format="时间格式不正确 (bad time)"), **kwargs)


def _choice(choices, label, **kwargs):
    return fields.String(
        validate=validate.OneOf(choices, error=f"{label}须为 {', '.join(choices)} 之一 "
                                               f"(one of {', '.join(choices)})"),
        error_messages=_messages(invalid="须为文本 (must be text)"), **kwargs)


def _media_id(**kwargs):
    return fields.String(validate=validate.Length(max=100, error="最多 100 个字符 (too long)"),
                         error_messages=_messages(invalid="须为文本 (must be text)"), **kwargs)


def _bool(**kwargs):
    return fields.Boolean(error_messages=_messages(invalid="须为 true 或 false (boolean)"),
                          **kwargs)


# -- requests -------------------------------------------------------------------------

class RecordForm(Input):
    """A complaint as the specialist records it (SPEC §2)."""

    def __init__(self, *, now=None, **kwargs):
        super().__init__(**kwargs)
        self.now = now   # given by the intake service; the gateway checks shape only

    project_id = Text(50, required=True, metadata={"description": "项目 (project id)"})
    room = Text(40, required=True, metadata={"description": "房号 (room number)"})
    customer_name = Text(50, required=True, metadata={"description": "客户姓名"})
    customer_phone = Phone(required=True, metadata={
        "description": "客户电话: CN mobile 1[3-9]xxxxxxxxx or landline 0xx-xxxxxxxx"})
    channel = _choice(domain.CHANNELS, "渠道", required=True)
    demand = Text(2000, multiline=True, required=True, metadata={"description": "客户诉求"})
    category = _choice(tuple(domain.CATEGORIES), "类别", required=True,
                       metadata={"description": "SPEC §3 category code"})
    requested_completion_at = _time(required=True, metadata={
        "description": "要求完成时间 (in the future)"})
    contact_ended_at = _time(required=True, metadata={
        "description": "接待结束时间: call ended / visitor left (not in the future)"})
    customer_signature_media_id = _media_id(allow_none=True, load_default=None, metadata={
        "description": "客户签名 media id: required for visit and mobile, absent for phone and "
                       "letter (the customer signs through a link)"})
    resolved_on_spot = _bool(load_default=False, metadata={
        "description": "当场解决 (Art. 15): stored as closed, no order"})

    @validates_schema(skip_on_field_errors=False)
    def signature_by_channel(self, data, **kwargs):
        channel, media_id = data.get("channel"), data.get("customer_signature_media_id")
        if channel in domain.SIGNED_AT_DESK and not media_id:
            raise ValidationError({"customer_signature_media_id": [
                "来访和移动端登记须附客户签名 (visit and mobile need the customer's signature)"]})
        if channel in ("phone", "letter") and media_id:
            raise ValidationError({"customer_signature_media_id": [
                "电话和信函投诉由客户通过短信链接签名 (phone and letter: the customer signs "
                "through the link)"]})

    @validates_schema(skip_on_field_errors=False)
    def times(self, data, **kwargs):
        if self.now is None:
            return
        errors = domain.recording_time_errors(data.get("requested_completion_at"),
                                              data.get("contact_ended_at"), self.now)
        if errors:
            raise ValidationError(errors)


class Reason(Input):
    reason = Text(500, multiline=True, allow_none=True, load_default=None)


class DecisionForm(Input):
    """Review or sign: approve, or reject back one step with a reason."""
    decision = _choice(domain.DECISIONS, "决定", required=True)
    reason = Text(500, multiline=True, allow_none=True, load_default=None,
                  metadata={"description": "理由: required when rejecting"})

    @validates_schema(skip_on_field_errors=False)
    def reason_for_rejection(self, data, **kwargs):
        if data.get("decision") == "reject" and not data.get("reason"):
            raise ValidationError({"reason": ["退回须填写理由 (a rejection needs a reason)"]})


class SignForm(DecisionForm):
    department = _choice(DEPARTMENTS, "部门", allow_none=True, load_default=None, metadata={
        "description": "override the routed first responsible department"})
    department_reason = Text(500, multiline=True, allow_none=True, load_default=None,
                             metadata={"description": "why the department was overridden"})

    @validates_schema(skip_on_field_errors=False)
    def override_has_reason(self, data, **kwargs):
        if data.get("department") and not data.get("department_reason"):
            raise ValidationError({"department_reason": [
                "调整部门须说明理由 (an override needs a reason)"]})
        if data.get("department_reason") and not data.get("department"):
            raise ValidationError({"department": ["请指定调整后的部门 (name the department)"]})
        if data.get("decision") == "reject" and data.get("department"):
            raise ValidationError({"department": [
                "退回时不能调整部门 (no department change on a rejection)"]})


class RatingForm(Input):
    score = fields.Integer(required=True, strict=True,
                           validate=validate.Range(1, 5, error="评分须为 1 到 5 (score 1-5)"),
                           error_messages=_messages(invalid="评分须为整数 (an integer 1-5)"))
    comment = Text(500, multiline=True, allow_none=True, load_default=None)


class ReopenForm(Input):
    reason = Text(500, multiline=True, required=True,
                  metadata={"description": "客户再次投诉的内容或理由"})


class EscalateForm(Input):
    level = _choice(tuple(domain.ESCALATION_LEVELS), "级别", required=True,
                    metadata={"description": "major 重大 / group 群体性 / common_issue 共性问题"})
    reason = Text(500, multiline=True, required=True)


class CallbackForm(Input):
    """售后服务中心回访 after a blocked visit (Art. 23)."""
    callback_at = _time(allow_none=True, load_default=None, metadata={
        "description": "when the customer was called (default: now); not in the future"})
    outcome = _choice(tuple(closure.CALLBACK_OUTCOMES), "回访结果", required=True, metadata={
        "description": "reached 已回访 / unreachable 未能联系上 / declined 客户拒绝"})
    note = Text(2000, multiline=True, allow_none=True, load_default=None,
                metadata={"description": "回访记录: what the customer said"})


class VerifyForm(Input):
    """结案核查 (Art. 29): the callback and satisfaction survey, then approve
    (to the deputy GM) or reject (the work goes back to the department)."""
    satisfaction = fields.Integer(
        strict=True, allow_none=True, load_default=None,
        validate=validate.Range(1, 5, error="满意度须为 1 到 5 (satisfaction 1-5)"),
        error_messages=_messages(invalid="满意度须为整数 (an integer 1-5)"),
        metadata={"description": "客户满意度 1-5: required to approve"})
    comment = Text(2000, multiline=True, allow_none=True, load_default=None,
                   metadata={"description": "回访记录: the customer's words"})
    decision = _choice(domain.DECISIONS, "决定", load_default="approve", metadata={
        "description": "approve (default) or reject back to the department"})
    reason = Text(500, multiline=True, allow_none=True, load_default=None,
                  metadata={"description": "理由: required when rejecting"})

    @validates_schema(skip_on_field_errors=True)
    def by_decision(self, data, **kwargs):
        if data["decision"] == "approve" and data.get("satisfaction") is None:
            raise ValidationError({"satisfaction": [
                "核查通过须录入客户满意度 1-5 (satisfaction 1-5 is required to approve)"]})
        if data["decision"] == "reject" and not data.get("reason"):
            raise ValidationError({"reason": ["退回须填写理由 (a rejection needs a reason)"]})


class LinkSignForm(Input):
    signature_media_id = _media_id(required=True)


class ListFilters(Input):
    state = _choice(domain.STATES, "状态", load_default=None)
    project_id = Text(50, load_default=None)
    category = _choice(tuple(domain.CATEGORIES), "类别", load_default=None)
    assigned_to_me = _bool(load_default=False, metadata={
        "description": "only what waits on me: the order I hold, the department's work I "
                       "handle, the closure step that is mine, callbacks owed (centre staff)"})
    callback_due = _bool(load_default=None, metadata={
        "description": "true: a blocked visit awaits the centre's callback (Art. 23)"})
    page = fields.Integer(load_default=1, validate=validate.Range(
        1, 100000, error="页码须为正整数 (page >= 1)"),
        error_messages=_messages(invalid="须为整数 (integer)"))
    page_size = fields.Integer(load_default=20, validate=validate.Range(
        1, 100, error="每页 1 到 100 条 (page_size 1-100)"),
        error_messages=_messages(invalid="须为整数 (integer)"))


# -- reading dispatch's events (tolerant: fields intake does not use are ignored) ------------

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


# Input is loaded by the shared helper (field-by-field InvalidInput).
load = load_input


# -- responses --------------------------------------------------------------------------

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
    media_id = fields.String(allow_none=True)
    bound_at = fields.AwareDateTime(allow_none=True)


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


class CallbackView(Schema):
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
    timeline = fields.List(fields.Nested(TimelineView))


class ComplaintPage(Schema):
    items = fields.List(fields.Nested(ComplaintSummary))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


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


_DECISION_ACTIONS = {"order_reviewed": ("review", "approve"),
                     "order_review_rejected": ("review", "reject"),
                     "order_signed": ("sign", "approve"),
                     "order_sign_rejected": ("sign", "reject")}


def _localise(value, zone):
    """Datetimes (also inside dicts and lists) in the group's zone."""
    if isinstance(value, datetime):
        return value.astimezone(zone)
    if isinstance(value, dict):
        return {k: _localise(v, zone) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_localise(v, zone) for v in value]
    return value


def _holder(h):
    return {"person_id": h.person_id, "role": h.role, "held_from": h.held_from,
            "held_to": h.held_to}


def complaint_dict(c):
    return {
        "id": c.id, "region": c.region, "project_id": c.project_id, "room": c.room,
        "customer_name": c.customer_name, "customer_phone": c.customer_phone,
        "channel": c.channel, "demand": c.demand, "category": c.category,
        "category_label": domain.CATEGORIES.get(c.category, c.category),
        "state": c.state, "state_label": domain.STATE_LABELS.get(c.state, c.state),
        "signature_status": c.signature_status, "recorded_by": c.recorded_by,
        "recorded_at": c.recorded_at, "requested_completion_at": c.requested_completion_at,
        "contact_ended_at": c.contact_ended_at, "resolved_on_spot": c.resolved_on_spot,
        "region_company_id": c.region_company_id, "property_company_id": c.property_company_id,
        "closed_at": c.closed_at, "escalation_level": c.escalation_level,
        "reopen_count": c.reopen_count,
        "holder": _holder(c.holder) if c.holder else None,
        "handler_id": c.handler_id, "callback_due": c.callback_due_since is not None,
    }


# Dump schemas are built once: building one costs more than using it.
_SUMMARY, _VIEW, _LINK = ComplaintSummary(), ComplaintView(), LinkView()


def dump_summary(complaint, zone):
    return _SUMMARY.dump(_localise(complaint_dict(complaint), zone))


_CLOSURE_LABELS = {closure.APPLIED: "待核查", closure.VERIFIED: "待审核",
                   closure.REVIEWED: "待审批", closure.APPROVED: "已批准结案",
                   closure.REJECTED: "已退回责任部门", closure.SUPERSEDED: "已被新申请取代"}


def _closure(x):
    return dict(vars(x), status_label=_CLOSURE_LABELS[x.status])


def _responsibility(c):
    if c.responsibility is None:
        return None
    return dict(c.responsibility, routed_at=c.routed_at)


def dump_complaint(complaint, timeline, rating, binding, zone, closures=(), callbacks=()):
    c = complaint
    data = complaint_dict(c)
    decisions = [{"step": _DECISION_ACTIONS[e.action][0], "decision": _DECISION_ACTIONS[e.action][1],
                  "by": e.actor_id, "at": e.at, "reason": e.note, "order_round": e.order_round}
                 for e in timeline if e.action in _DECISION_ACTIONS]
    has_order = c.order_round > 1 or not c.resolved_on_spot
    data["order"] = {
        "order_round": c.order_round, "round_started_at": c.round_started_at,
        "holder": data["holder"], "holders": [_holder(h) for h in c.holders],
        "submitted_at": c.submitted_at, "submitted_by": c.submitted_by,
        "first_submitted_at": c.first_submitted_at, "reviewed_at": c.reviewed_at,
        "reviewed_by": c.reviewed_by, "signed_at": c.signed_at, "signed_by": c.signed_by,
        "department": c.department, "department_reason": c.department_reason,
        "decisions": decisions,
    } if has_order else None
    data["signature"] = {"status": c.signature_status, "media_id": c.signature_media_id,
                         "bound_at": binding.bound_at if binding else None}
    data["rating"] = ({"score": rating.score, "comment": rating.comment, "via": rating.via,
                       "rated_at": rating.rated_at, "order_round": rating.order_round}
                      if rating else None)
    data["escalation"] = ({"level": c.escalation_level,
                           "level_label": domain.ESCALATION_LEVELS[c.escalation_level],
                           "reason": c.escalation_reason, "at": c.escalated_at,
                           "by": c.escalated_by} if c.escalation_level else None)
    data["responsibility"] = _responsibility(c)
    data["callback"] = {"due": c.callback_due_since is not None,
                        "due_since": c.callback_due_since, "visit_ids": list(c.callback_visit_ids)}
    data["callbacks"] = [dict(vars(k), outcome_label=closure.CALLBACK_OUTCOMES[k.outcome])
                         for k in callbacks]
    data["closures"] = [_closure(x) for x in closures]
    data["closure"] = next((_closure(x) for x in closures
                            if x.application_id == c.closure_application_id), None)
    data["timeline"] = [{"at": e.at, "actor_id": e.actor_id, "actor_role": e.actor_role,
                         "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
                         "note": e.note, "order_round": e.order_round, "details": e.details}
                        for e in timeline]
    return _VIEW.dump(_localise(data, zone))


def dump_link(view, zone):
    return _LINK.dump(_localise(view, zone))
