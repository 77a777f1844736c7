"""The sla service's RPC contract: its methods as a typed client, the filters
its callers send, the views it answers with, and the overdue tiers of SPEC §4
that callers show next to sla's overdue days.

Callers use `SlaClient(proxy)`; the service implements each method under the
same name and signature, loads the filters with `NotificationFilters` and
dumps its answers with the views below (services/sla/tests/test_contract_rpc.py
holds them together).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from marshmallow import fields, validate

from shared.contracts.base import ServiceClient, raises
from shared.contracts.types import Actor, Form, Json
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from shared.validation import Form as FormSchema
from shared.validation import Text, choice, messages

# -- the overdue tiers (SPEC §4, Art. 36) ----------------------------------------------


class TierLimits(Protocol):
    """What the tier of an overdue day depends on: the last day of tiers 1 and 2
    (sla's Settings has them, read from the config's `SLA:` section)."""

    @property
    def overdue_tier1_last_day(self) -> int: ...

    @property
    def overdue_tier2_last_day(self) -> int: ...


@dataclass(frozen=True)
class OverdueTiers:
    """Days 1-7 are tier 1, 8-15 tier 2, 16 on tier 3 (SPEC §4 defaults)."""

    overdue_tier1_last_day: int = 7
    overdue_tier2_last_day: int = 15

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> OverdueTiers:
        """The limits as sla reads them from the same config (its `SLA:` section),
        so a caller's tiers match sla's on a deployment that changed them."""
        section = (config or {}).get("SLA") or {}
        defaults = cls()
        return cls(
            int(section.get("overdue_tier1_last_day", defaults.overdue_tier1_last_day)),
            int(section.get("overdue_tier2_last_day", defaults.overdue_tier2_last_day)))


SPEC_TIERS = OverdueTiers()


def overdue_tier(day: int, limits: TierLimits = SPEC_TIERS) -> int:
    """Day 1..7 -> 1, 8..15 -> 2, 16 on -> 3 (SPEC §4, Art. 36)."""
    if day <= limits.overdue_tier1_last_day:
        return 1
    if day <= limits.overdue_tier2_last_day:
        return 2
    return 3


# -- requests -----------------------------------------------------------------------------

NOTIFICATION_STATUSES = ("pending", "sent", "failed")
DELIVERY_STATUSES = ("delivered", "undelivered")     # a provider's receipt of a sent one
SMS_RECEIPT_PROVIDERS = ("aliyun", "tencent", "http")
# sla's own SMS templates (docs/sla.md); penalty's requests bring their own codes.
SLA_TEMPLATES = ("order_dispatched", "visit_overdue_reminder", "escalation", "deadline_warning",
                 "deadline_missed", "routing_failed", "signing_link", "daily_reminder",
                 "daily_overdue_summary", "daily_major_list", "daily_slow_summary",
                 "weekly_carryover", "monthly_major_list", "rotation_due")


class FilterText(Text):
    """Optional one-line filter text; a blank value (`?template=`) means no filter,
    as it always has."""

    def __init__(self, max_length: int = 100, **kwargs: Any) -> None:
        super().__init__(max_length, allow_none=True, load_default=None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return super()._deserialize(value, attr, data, **kwargs)


def _page_number(default: int, maximum: int | None = None) -> fields.Integer:
    return fields.Integer(load_default=default, validate=validate.Range(min=1, max=maximum),
                          error_messages=messages(invalid="须为整数 (must be an integer)"))


class NotificationFilters(FormSchema):
    """`list_notifications` filters (the gateway's query string as it is)."""

    status = choice(NOTIFICATION_STATUSES, "状态", load_default=None, allow_none=True)
    template = FilterText(metadata={
        "description": "template code, e.g. deadline_warning (before a deadline), "
                       "deadline_missed (a miss told to the superior, a running fine hourly), "
                       "routing_failed; all: " + ", ".join(SLA_TEMPLATES)})
    complaint_id = FilterText()
    person_id = FilterText(metadata={
        "description": "recipient (admin only; others always see their own)"})
    page = _page_number(1)
    page_size = _page_number(50, 200)


OVERDUE_MAX_IDS = 5000
OVERDUE_MAX_LIMIT = 1000


class OverdueQuery(FormSchema):
    """`list_overdue`: all complaints past their completion deadline, or only
    those of `complaint_ids` (e.g. the ones a caller may see); a page of them."""

    complaint_ids = fields.List(Text(64), allow_none=True, load_default=None,
                                validate=validate.Length(max=OVERDUE_MAX_IDS))
    limit = fields.Integer(load_default=100,
                           validate=validate.Range(min=1, max=OVERDUE_MAX_LIMIT),
                           error_messages=messages(invalid="须为整数 (must be an integer)"))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0),
                            error_messages=messages(invalid="须为整数 (must be an integer)"))


# -- answers ------------------------------------------------------------------------------


class NotificationView(FormSchema):
    id = fields.String()
    created_at = fields.AwareDateTime()
    recipient_person_id = fields.String(allow_none=True)
    recipient_name = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    template = fields.String()
    text = fields.String()
    complaint_id = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(NOTIFICATION_STATUSES))
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    provider = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    delivery_status = fields.String(allow_none=True, validate=validate.OneOf(DELIVERY_STATUSES),
                                    metadata={"description": "the provider's receipt: "
                                              "delivered or undelivered; null: none yet"})
    delivered_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "the provider's time of the receipt (the phone's, when delivered)"})
    delivery_error = fields.String(allow_none=True)
    delivery_reported_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "when the receipt reached us"})


class ReceiptsRecorded(FormSchema):
    """`record_sms_receipts`: what one push did, with the acknowledgement the
    provider expects (Alibaba Cloud `code`/`msg`, Tencent Cloud `result`/`errmsg`)."""

    provider = fields.String()
    received = fields.Integer()
    recorded = fields.Integer(metadata={"description": "receipts that set a status"})
    duplicates = fields.Integer(metadata={"description": "already known: nothing changed"})
    unmatched = fields.List(fields.String(), metadata={
        "description": "provider ids of no message of ours (at most 100)"})
    code = fields.Integer(metadata={"description": "aliyun: 0"})
    msg = fields.String(metadata={"description": "aliyun: 成功"})
    result = fields.Integer(metadata={"description": "tencent: 0"})
    errmsg = fields.String(metadata={"description": "tencent: OK"})


class NotificationPage(FormSchema):
    items = fields.List(fields.Nested(NotificationView))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


TIMER_STATES = ("armed", "met", "missed", "cancelled")


class ChargeView(FormSchema):
    person_id = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    late_seconds = fields.Integer()


class TimerView(FormSchema):
    timer_id = fields.String()
    rule = fields.String()
    label = fields.String(metadata={"description": "the rule in zh-CN"})
    article = fields.String()
    person_id = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    due_at = fields.AwareDateTime()
    state = fields.String(validate=validate.OneOf(TIMER_STATES),
                          metadata={"description": "armed, met, missed, cancelled"})
    done_at = fields.AwareDateTime(allow_none=True)
    late_seconds = fields.Integer(allow_none=True)
    final = fields.Boolean(metadata={"description": "nothing more will change for it"})
    summary = fields.String(metadata={"description": "e.g. 超时12分钟 (late by 12 min)"})
    charges = fields.List(fields.Nested(ChargeView), metadata={
        "description": "order_sign: each holder's own minutes past the deadline"})
    day = fields.Raw(allow_none=True, metadata={"description": "progress date or overdue day"})


class DeadlinesView(FormSchema):
    """`list_timers`: the complaint's deadlines (the overdue board reads the
    missed `overdue` timers' `day`)."""

    complaint_id = fields.String()
    timers = fields.List(fields.Nested(TimerView))


class OverdueComplaintView(FormSchema):
    """One complaint in work past its completion deadline (SPEC §4, Art. 36)."""

    complaint_id = fields.String()
    project_id = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    completion_due_at = fields.AwareDateTime(metadata={
        "description": "min(requested, agreed) (Art. 25)"})
    days_overdue = fields.Integer(metadata={
        "description": "started 24 h periods past the completion deadline (1 s past it is "
                       "day 1), as the 08:30 summary counts them"})
    tier = fields.Integer(metadata={"description": "1: days 1-7, 2: days 8-15, 3: day 16 on"})
    handler_person_id = fields.String(allow_none=True)
    leader_person_ids = fields.List(fields.String())
    chairman_person_id = fields.String(allow_none=True)


class OverduePage(FormSchema):
    """`list_overdue`: most days overdue first (then by complaint id)."""

    as_of = fields.AwareDateTime(metadata={"description": "the clock the days count to"})
    total = fields.Integer(metadata={"description": "overdue complaints matching, all pages"})
    limit = fields.Integer()
    offset = fields.Integer()
    items = fields.List(fields.Nested(OverdueComplaintView))


class ErrorView(FormSchema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    kind = fields.String()
    state = fields.String(metadata={"description": "parked (waiting), applied (later), recorded"})
    event_id = fields.String(allow_none=True)
    event_type = fields.String(allow_none=True)
    complaint_id = fields.String(allow_none=True)
    waiting_for = fields.String(allow_none=True)
    message = fields.String()
    resolved_at = fields.AwareDateTime(allow_none=True)


# -- the client ---------------------------------------------------------------------------


class SlaClient(ServiceClient):
    service = "sla"

    def health(self) -> Json:
        return self._call("health")

    @raises(NotFound, InvalidInput)
    def list_errors(self, state: str | None = None, limit: int = 200) -> Json:
        """Events sla could not apply (yet): a list of `ErrorView`."""
        return self._call("list_errors", state=state, limit=limit)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def list_notifications(self, actor: Actor, filters: Form | None = None) -> Json:
        """A `NotificationPage`; `filters` as `NotificationFilters` loads them.
        Forbidden for an unknown caller, or a non-admin asking for another person's."""
        return self._call("list_notifications", actor, filters=filters)

    @raises(InvalidInput)
    def list_overdue(self, complaint_ids: list[str] | None = None, limit: int = 100,
                     offset: int = 0) -> Json:
        """An `OverduePage`: the complaints in work past their completion
        deadline (only those of `complaint_ids` if given), days and tier each,
        in one call (the overdue board, `GET /api/complaints?overdue=true`)."""
        return self._call("list_overdue", complaint_ids=complaint_ids, limit=limit,
                          offset=offset)

    @raises(NotFound, InvalidInput, Unauthenticated, Forbidden)
    def record_sms_receipts(self, provider: str, body: str, token: str | None = None,
                            signature: str | None = None) -> Json:
        """Delivery receipts an SMS provider pushed (the raw body as text; the
        URL's `token` or the `X-Signature` header): `ReceiptsRecorded`. 404 for
        an unknown provider or when no receipt matches a message of ours, 403
        when the provider's receipts are not configured, 401 for a wrong
        token or signature, 400 for a malformed body."""
        return self._call("record_sms_receipts", provider, body, token=token,
                          signature=signature)

    @raises(InvalidInput)
    def send_sign_in_code(self, mobile: str, code: str, person_id: str | None = None,
                          name: str | None = None, valid_minutes: int = 5) -> Json:
        """Send a sign-in code by SMS now (template `sign_in_code`): the provider
        gets the code, sla's record shows it masked. `{"notification_id",
        "status": "sent" | "failed", "error"}`; never queued nor retried."""
        return self._call("send_sign_in_code", mobile, code, person_id=person_id, name=name,
                          valid_minutes=valid_minutes)

    @raises(NotFound, InvalidInput)
    def list_timers(self, complaint_id: str) -> Json:
        """The complaint's `DeadlinesView`."""
        return self._call("list_timers", complaint_id)
