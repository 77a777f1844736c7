"""What intake's RPC methods take: the request forms (marshmallow 4).

The gateway checks a request's shape with these before it calls intake, and
intake loads the same request with the same class again: input is never
trusted, even from the gateway. Unknown fields are refused, text is bounded
and free of control characters (shared.validation), and every message is
field-by-field in zh-CN with an English gloss (SPEC §2, §10). Text is kept
verbatim: SQL or markup in a demand is stored and shown as text.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from shared.categories import CATEGORIES
from shared.contracts.intake import vocabulary as v
from shared.errors import Coded
from shared.organisation import DEPARTMENTS
from shared.paging import Paging
from shared.validation import (
    Form,
    MediaId,
    Phone,
    Text,
    Time,
    choice,
    load_input,
    messages,
    optional_text,
)

# Loads a form: `load(RecordForm(now=now), data)`, field-by-field InvalidInput.
load = load_input


def flag(**kwargs: Any) -> fields.Boolean:
    """A true/false field with the shared messages."""
    return fields.Boolean(error_messages=messages(invalid="须为 true 或 false (boolean)"),
                          **kwargs)


def recording_time_errors(requested_completion_at: datetime | None,
                          contact_ended_at: datetime | None,
                          now: datetime) -> dict[str, list[str]]:
    """Field errors of the two times a recording gives (SPEC §2)."""
    errors: dict[str, list[str]] = {}
    if contact_ended_at is not None:
        if contact_ended_at > now + v.CONTACT_CLOCK_SKEW:
            errors["contact_ended_at"] = [Coded(
                "接待结束时间不能晚于当前时间 (contact end cannot be in the future)",
                "not_in_future")]
        elif contact_ended_at < now - v.CONTACT_MAX_AGE:
            days = v.CONTACT_MAX_AGE.days
            errors["contact_ended_at"] = [Coded(
                f"接待结束时间不能早于 {days} 天前 (contact end more than {days} days ago)",
                "too_long_ago", days=days)]
    if requested_completion_at is not None:
        if requested_completion_at <= now:
            errors["requested_completion_at"] = [Coded(
                "要求完成时间须晚于当前时间 (must be in the future)", "in_future")]
        elif requested_completion_at > now + v.REQUESTED_MAX_AHEAD:
            days = v.REQUESTED_MAX_AHEAD.days
            errors["requested_completion_at"] = [Coded(
                f"要求完成时间不能晚于 {days} 天后 (at most {days} days ahead)",
                "too_far_ahead", days=days)]
    return errors


class RecordForm(Form):
    """A complaint as the specialist records it (SPEC §2). Loaded with the
    current time (`takes_now`: the gateway passes its clock's too), so one
    400 names every field, the two times included."""

    takes_now = True

    def __init__(self, *, now: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.now = now   # given by the intake service; the gateway checks shape only

    project_id = Text(50, required=True, metadata={"description": "项目 (project id)"})
    room = Text(40, required=True, metadata={"description": "房号 (room number)"})
    customer_name = Text(50, required=True, metadata={"description": "客户姓名"})
    customer_phone = Phone(required=True, metadata={
        "description": "客户电话: CN mobile 1[3-9]xxxxxxxxx or landline 0xx-xxxxxxxx"})
    channel = choice(v.CHANNELS, "渠道", required=True)
    demand = Text(2000, multiline=True, required=True, metadata={"description": "客户诉求"})
    category = choice(tuple(CATEGORIES), "类别", required=True,
                      metadata={"description": "SPEC §3 category code"})
    requested_completion_at = Time(required=True, metadata={
        "description": "要求完成时间 (in the future)"})
    contact_ended_at = Time(required=True, metadata={
        "description": "接待结束时间: call ended / visitor left (not in the future)"})
    customer_signature_media_id = MediaId(allow_none=True, load_default=None, metadata={
        "description": "客户签名 media id: required for visit and mobile, absent for phone and "
                       "letter (the customer signs through a link)"})
    resolved_on_spot = flag(load_default=False, metadata={
        "description": "当场解决 (Art. 15): stored as closed, no order"})

    @validates_schema(skip_on_field_errors=False)
    def signature_by_channel(self, data: dict[str, Any], **kwargs: Any) -> None:
        channel, media_id = data.get("channel"), data.get("customer_signature_media_id")
        if channel in v.SIGNED_AT_DESK and not media_id:
            raise ValidationError({"customer_signature_media_id": [Coded(
                "来访和移动端登记须附客户签名 (visit and mobile need the customer's signature)",
                "signature_needed")]})
        if channel in v.SIGNED_BY_LINK and media_id:
            raise ValidationError({"customer_signature_media_id": [Coded(
                "电话和信函投诉由客户通过短信链接签名 (phone and letter: the customer signs "
                "through the link)", "signature_by_link")]})

    @validates_schema(skip_on_field_errors=False)
    def times(self, data: dict[str, Any], **kwargs: Any) -> None:
        if self.now is None:
            return
        errors = recording_time_errors(data.get("requested_completion_at"),
                                       data.get("contact_ended_at"), self.now)
        if errors:
            raise ValidationError(errors)


class DecisionForm(Form):
    """Review or sign: approve, or reject back one step with a reason."""
    decision = choice(v.DECISIONS, "决定", required=True)
    reason = Text(500, multiline=True, allow_none=True, load_default=None,
                  metadata={"description": "理由: required when rejecting"})

    @validates_schema(skip_on_field_errors=False)
    def reason_for_rejection(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("decision") == "reject" and not data.get("reason"):
            raise ValidationError({"reason": ["退回须填写理由 (a rejection needs a reason)"]})


class SignForm(DecisionForm):
    department = choice(DEPARTMENTS, "部门", allow_none=True, load_default=None, metadata={
        "description": "override the routed first responsible department"})
    department_reason = Text(500, multiline=True, allow_none=True, load_default=None,
                             metadata={"description": "why the department was overridden"})

    @validates_schema(skip_on_field_errors=False)
    def override_has_reason(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("department") and not data.get("department_reason"):
            raise ValidationError({"department_reason": [
                "调整部门须说明理由 (an override needs a reason)"]})
        if data.get("department_reason") and not data.get("department"):
            raise ValidationError({"department": ["请指定调整后的部门 (name the department)"]})
        if data.get("decision") == "reject" and data.get("department"):
            raise ValidationError({"department": [
                "退回时不能调整部门 (no department change on a rejection)"]})


class RatingForm(Form):
    score = fields.Integer(required=True, strict=True,
                           validate=validate.Range(1, 5, error="评分须为 1 到 5 (score 1-5)"),
                           error_messages=messages(invalid="评分须为整数 (an integer 1-5)"))
    comment = optional_text(500, multiline=True)


class ReopenForm(Form):
    reason = Text(500, multiline=True, required=True,
                  metadata={"description": "客户再次投诉的内容或理由"})


class EscalateForm(Form):
    level = choice(tuple(v.ESCALATION_LEVELS), "级别", required=True,
                   metadata={"description": "major 重大 / group 群体性 / common_issue 共性问题"})
    reason = Text(500, multiline=True, required=True)


class ReasonForm(Form):
    """A step that needs only its reason: voiding a complaint recorded by
    mistake, accepting an act's stated time (SPEC §10)."""
    reason = Text(500, multiline=True, required=True, metadata={"description": "理由"})


class CallbackForm(Form):
    """售后服务中心回访 after a blocked visit (Art. 23)."""
    callback_at = Time(allow_none=True, load_default=None, metadata={
        "description": "when the customer was called (default: now); not in the future"})
    outcome = choice(tuple(v.CALLBACK_OUTCOMES), "回访结果", required=True, metadata={
        "description": "reached 已回访 / unreachable 未能联系上 / declined 客户拒绝"})
    note = Text(2000, multiline=True, allow_none=True, load_default=None,
                metadata={"description": "回访记录: what the customer said"})


class VerifyForm(Form):
    """结案核查 (Art. 29): the callback and satisfaction survey, then approve
    (to the deputy GM) or reject (the work goes back to the department)."""
    satisfaction = fields.Integer(
        strict=True, allow_none=True, load_default=None,
        validate=validate.Range(1, 5, error="满意度须为 1 到 5 (satisfaction 1-5)"),
        error_messages=messages(invalid="满意度须为整数 (an integer 1-5)"),
        metadata={"description": "客户满意度 1-5: required to approve"})
    comment = Text(2000, multiline=True, allow_none=True, load_default=None,
                   metadata={"description": "回访记录: the customer's words"})
    decision = choice(v.DECISIONS, "决定", load_default="approve", metadata={
        "description": "approve (default) or reject back to the department"})
    reason = Text(500, multiline=True, allow_none=True, load_default=None,
                  metadata={"description": "理由: required when rejecting"})

    @validates_schema(skip_on_field_errors=True)
    def by_decision(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["decision"] == "approve" and data.get("satisfaction") is None:
            raise ValidationError({"satisfaction": [
                "核查通过须录入客户满意度 1-5 (satisfaction 1-5 is required to approve)"]})
        if data["decision"] == "reject" and not data.get("reason"):
            raise ValidationError({"reason": ["退回须填写理由 (a rejection needs a reason)"]})


class LinkSignForm(Form):
    signature_media_id = MediaId(required=True)


# What the complaint list may be sorted by ("-": newest / latest first).
SORTS = ("-recorded_at", "recorded_at", "id", "-id", "requested_completion_at",
         "-requested_completion_at", "updated_at", "-updated_at")
DUE_DAYS = ("today",)   # `due`: more days (tomorrow, this week) would go here
MAX_IDS = 2000          # `ids`: the gateway's overdue filter hands intake at most this many
MAX_QUERY_TEXT = 100


class Day(fields.Date):
    """An ISO date, YYYY-MM-DD (a day in the group's zone)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(load_default=None, allow_none=True, error_messages=messages(
            invalid="须为日期，例如 2026-11-27 (an ISO date YYYY-MM-DD)",
            format="须为日期，例如 2026-11-27 (an ISO date YYYY-MM-DD)"), **kwargs)


class ListFilters(Paging):
    """The complaint list's filters (SPEC §10), each validated on its own:
    free text `q` over the id, the customer's name and phone and the room
    (case-insensitive, partial), `status` (or its older name `state`),
    project, category, channel, the routed department and handler, the
    recording day range `from` / `to` (inclusive, in the group's zone),
    `due=today` (in work, asked to be complete today) and `sort`;
    `limit` / `offset` (`page` / `page_size`: deprecated aliases)."""

    q = Text(MAX_QUERY_TEXT, load_default=None, metadata={
        "description": "投诉编号、客户姓名、电话或房号中包含的文字 (partial, any case)"})
    status = choice(v.STATES, "状态", load_default=None, metadata={
        "description": "the complaint's state (SPEC §10's name for `state`)"})
    state = choice(v.STATES, "状态", load_default=None, metadata={
        "description": "the same as `status` (its older name)"})
    project_id = Text(50, load_default=None)
    category = choice(tuple(CATEGORIES), "类别", load_default=None)
    channel = choice(v.CHANNELS, "渠道", load_default=None)
    department_id = choice(DEPARTMENTS, "部门", load_default=None, metadata={
        "description": "the first responsible department dispatch routed the order to"})
    handler_id = Text(64, load_default=None, metadata={
        "description": "the handler dispatch routed the order to (person id)"})
    recorded_from = Day(data_key="from", metadata={
        "description": "recorded on or after this day (YYYY-MM-DD, the group's zone)"})
    recorded_to = Day(data_key="to", metadata={
        "description": "recorded on or before this day (YYYY-MM-DD, the group's zone)"})
    sort = choice(SORTS, "排序", load_default="-recorded_at", metadata={
        "description": "recorded_at, id, requested_completion_at or updated_at; "
                       "a leading - for descending (default -recorded_at)"})
    assigned_to_me = flag(load_default=False, metadata={
        "description": "only what waits on me: the order I hold, the department's work I "
                       "handle, the closure step that is mine, callbacks owed (centre staff)"})
    due = choice(DUE_DAYS, "到期", load_default=None, metadata={
        "description": "today: in work (order signed) and asked to be complete today, the "
                       "requested completion time on today's date in the group's zone on the "
                       "shared clock (what the GM's 我的工作 counts as due today)"})
    callback_due = flag(load_default=None, metadata={
        "description": "true: a blocked visit awaits the centre's callback (Art. 23)"})
    ids = fields.List(Text(40), load_default=None, validate=validate.Length(
        max=MAX_IDS, error=f"最多 {MAX_IDS} 个编号 (at most {MAX_IDS} ids)"),
        error_messages=messages(invalid="须为列表 (must be a list)"), metadata={
            "description": "only these complaints (the gateway's overdue filter)"})

    @validates_schema(skip_on_field_errors=True)
    def consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        start, end = data.get("recorded_from"), data.get("recorded_to")
        if start is not None and end is not None and start > end:
            errors["to"] = ["结束日期不能早于开始日期 (to must not be before from)"]
        status, state = data.get("status"), data.get("state")
        if status is not None and state is not None and status != state:
            errors["status"] = ["status 与 state 不一致 (status and state differ)"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def one_state(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["state"] = data.get("status") or data.get("state")
        return data

