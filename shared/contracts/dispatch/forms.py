"""What dispatch's RPC methods take: the request forms (marshmallow 4, on the
shared fields of shared.validation). Dispatch loads every request with these;
the gateway validates the same bodies with them before it forwards them.

Free text (plans, notes, reasons) is multi-line (`Note`): line breaks are
kept, other control characters refused, the ends trimmed. Ids and names are
one line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from shared import organisation as org
from shared.categories import CATEGORIES
from shared.validation import (
    NOT_TEXT,
    REQUIRED,
    Form,
    MediaId,
    MediaIds,
    Money,
    Text,
    Time,
    choice,
    messages,
    one_of,
    optional_time,
)

# The visit's outcomes (Art. 22, 23) and a claim's decisions (Art. 34): words of the wire.
DONE, BLOCKED = "done", "blocked"
APPROVE, REJECT = "approve", "reject"
CENTS = Decimal("0.01")
SIGNATURE_REQUIRED = "须上传客户签名确认 (the customer's signature is required)"
CLOSURE_SIGNATURE_REQUIRED = "须上传客户签名确认的结案材料 (the customer's signature is required)"


class Note(Text):
    """Multi-line free text, trimmed at both ends before it is checked (the
    departments' notes were always stored trimmed)."""

    def __init__(self, max_length: int = 4000, **kwargs: Any) -> None:
        super().__init__(max_length, multiline=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value.strip() if isinstance(value, str) else value,
                                    attr, data, **kwargs)


def optional_note(max_length: int = 4000) -> Note:
    return Note(max_length, allow_none=True, load_default=None)


def optional_media_id() -> MediaId:
    return MediaId(allow_none=True, load_default=None)


# -- a stated time accepted (SPEC §4 fairness) ---------------------------------------------

class ReasonForm(Form):
    """The deputy GM's reason for accepting a visit's stated time."""
    reason = Note(500, required=True)


# -- the department's steps (Art. 22-28) --------------------------------------------------

class VisitForm(Form):
    """上门回访 (Art. 22, 23): `done` with the plan, the agreed completion time
    and the customer's signature; or `blocked` by the customer with the reason."""
    outcome = choice((DONE, BLOCKED), required=True)
    visited_at = optional_time()
    plan = optional_note()
    agreed_completion_at = optional_time()
    customer_signature_media_id = optional_media_id()
    attempted_at = optional_time()
    reason = optional_note(2000)
    photo_media_ids = MediaIds()

    @validates_schema(skip_on_field_errors=True)
    def by_outcome(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["outcome"] == DONE:
            needed: tuple[str, ...] = ("visited_at", "plan", "agreed_completion_at",
                                       "customer_signature_media_id")
        else:
            needed = ("reason",) + (() if data.get("visited_at") else ("attempted_at",))
        missing = {name: [REQUIRED] for name in needed if data.get(name) is None}
        if data["outcome"] == DONE and "customer_signature_media_id" in missing:
            missing["customer_signature_media_id"] = [SIGNATURE_REQUIRED]
        if missing:
            raise ValidationError(missing)

    @post_load
    def attempted(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data["outcome"] == BLOCKED and data["attempted_at"] is None:
            data["attempted_at"] = data["visited_at"]  # the SPEC's body names it visited_at
        return data


class ProgressForm(Form):
    """处理进展 (Art. 26)."""
    note = Note(required=True)
    photo_media_ids = MediaIds()


class ClosureForm(Form):
    """申请结案 (Art. 28): what was done, material the customer signed, and the
    signature. `work_done` is optional on the wire (older callers send none);
    the console asks for it."""
    work_done = optional_note()
    material_media_ids = MediaIds()
    customer_signature_media_id = MediaId(required=True, error_messages=messages(
        invalid=NOT_TEXT, required=CLOSURE_SIGNATURE_REQUIRED, null=CLOSURE_SIGNATURE_REQUIRED))


# -- claims (Art. 34) ---------------------------------------------------------------------

class ClaimForm(Form):
    """索赔 (Art. 34)."""
    amount_claimed = Money(required=True)
    description = Note(required=True)

    @post_load
    def in_cents(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["amount_claimed"] = data["amount_claimed"].quantize(CENTS)
        return data


class ClaimReportForm(Form):
    """一把手书面报告 (Art. 34)."""
    report_text = Note(20000, required=True)
    report_media_id = optional_media_id()


class ClaimDecisionForm(Form):
    decision = choice((APPROVE, REJECT), required=True)
    amount_granted = Money(allow_none=True, load_default=None)
    note = optional_note()

    @post_load
    def in_cents(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data["amount_granted"] is not None:
            data["amount_granted"] = data["amount_granted"].quantize(CENTS)
        return data


# -- major-complaint meetings (Art. 33) ---------------------------------------------------

class MeetingForm(Form):
    """专题会议 (Art. 33): 责任人、解决方案、整改完成时间, and the minutes."""
    held_at = Time(required=True)
    responsible = Text(200, required=True)
    solution = Note(required=True)
    due_at = Time(required=True)
    minutes_media_id = optional_media_id()


class MinutesForm(Form):
    minutes_media_id = MediaId(required=True)


# -- the directory's questions (SPEC §1, §3) ----------------------------------------------

class IdArgument(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=100))


class PeopleQuery(Schema):
    role = fields.String(allow_none=True, load_default=None, validate=one_of(org.ROLES))
    project_id = fields.String(allow_none=True, load_default=None)
    include_inactive = fields.Boolean(load_default=False)


class ResponsibilityQuery(Schema):
    project_id = fields.String(required=True, validate=validate.Length(min=1))
    department = fields.String(required=True, validate=one_of(org.DEPARTMENTS))
    major = fields.Boolean(load_default=False)


class RoutingPreviewForm(Form):
    """预览派单 (issue 16): the facts the GM sees before signing the order; the
    department only when the GM would override the routing table's."""
    project_id = Text(200, required=True)
    category = choice(tuple(CATEGORIES), "投诉类别", required=True)
    department = choice(org.DEPARTMENTS, "责任部门", allow_none=True, load_default=None)
    major = fields.Boolean(load_default=False)


class RoutingErrorQuery(Schema):
    open_only = fields.Boolean(load_default=True)
