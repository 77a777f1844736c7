"""What penalty's RPC methods take: the request forms and list filters.

The gateway validates a body or a query string with these (and documents
them in its OpenAPI); penalty loads the same raw mapping again with the same
class (shared.validation.load_input), so both sides refuse the same input
with the same field-by-field messages.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from shared.validation import (
    Form,
    MediaIds,
    Money,
    Text,
    choice,
    messages,
    optional_text,
    optional_time,
)

MONTH_FORMAT = "月份格式须为 YYYY-MM (month must be YYYY-MM)"
MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error=MONTH_FORMAT)
NOT_WHOLE = "须为整数 (must be a whole number)"
NOT_NUMBER = "须为数字 (must be a number)"

APPEAL_DECISIONS = ("upheld", "rejected")
APPEAL_STATUSES = ("pending", "upheld", "rejected")
MANUAL_CASE_KINDS = ("reception_attitude", "concealed")
CASE_STATUSES = ("open", "decided", "withdrawn")
MEASURES = ("bonus", "pay_cut", "demotion", "pay_grade_cut", "dismissal", "fine")
REPORT_FORMATS = ("json", "csv", "xlsx")
PERSON_ID_LENGTH = 64
UNIT_ID_LENGTH = 100
MEASURES_MIN, MEASURES_MAX = 10, 8000


def _whole(**kwargs: Any) -> fields.Integer:
    return fields.Integer(error_messages=messages(invalid=NOT_WHOLE), **kwargs)


def _optional_id(max_length: int = PERSON_ID_LENGTH) -> Text:
    return optional_text(max_length)


class DeductionFilters(Form):
    """month (YYYY-MM), person_id, rule; limit (≤ 1000) and offset."""
    month = Text(20, allow_none=True, load_default=None, validate=MONTH)
    person_id = _optional_id()
    rule = _optional_id()
    limit = _whole(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = _whole(load_default=0, validate=validate.Range(min=0))


class AppealForm(Form):
    """申诉理由 (the reason of the appeal)."""
    reason = Text(2000, multiline=True, required=True, validate=validate.Length(
        min=2, error="申诉理由须为 2 到 2000 个字符 (reason: 2 to 2000 characters)"))


class AppealDecisionForm(Form):
    """upheld: a reversing line is added; rejected: nothing changes."""
    decision = fields.String(required=True, error_messages=messages(), validate=validate.OneOf(
        APPEAL_DECISIONS, error="须为 upheld（支持）或 rejected（驳回）"))
    reason = optional_text(2000, multiline=True)


class AppealFilters(Form):
    """status, person_id."""
    status = choice(APPEAL_STATUSES, load_default=None, allow_none=True)
    person_id = _optional_id()


class CaseForm(Form):
    """Art. 11 (reception_attitude) or Art. 17 (concealed): the GM opens a case."""
    kind = fields.String(required=True, error_messages=messages(), validate=validate.OneOf(
        MANUAL_CASE_KINDS, error="须为 reception_attitude（Art. 11）或 concealed（Art. 17）"))
    person_id = Text(PERSON_ID_LENGTH, required=True)
    complaint_id = _optional_id()
    note = Text(4000, multiline=True, required=True, validate=validate.Length(min=2))
    observed_at = optional_time()


class CaseDecisionForm(Form):
    """measure within the case's `allowed`; bonus_percent, amount or pay_grades as it needs."""
    measure = choice(MEASURES, required=True)
    bonus_percent = fields.Decimal(load_default=None, allow_none=True,
                                   error_messages=messages(invalid=NOT_NUMBER,
                                                           special=NOT_NUMBER))
    amount = Money(positive=True, load_default=None, allow_none=True)
    pay_grades = _whole(load_default=None, allow_none=True)
    note = optional_text(4000, multiline=True)


class CaseFilters(Form):
    """status, person_id, kind."""
    status = choice(CASE_STATUSES, load_default=None, allow_none=True)
    person_id = _optional_id()
    kind = _optional_id()


class ReviewForm(Form):
    """The centre GM's decision on a person's month above the threshold: an
    optional note (kept with the decision)."""
    note = optional_text(2000, multiline=True)


class ReportQuery(Form):
    """format: json (default), csv or xlsx (the file); revision: default the latest."""
    format = choice(REPORT_FORMATS, load_default="json")
    revision = _whole(load_default=None, allow_none=True, validate=validate.Range(min=1))


class MeasuresForm(Form):
    """Art. 42: a named department's improvement measures. unit_id: the
    department as the analysis names it (e.g. rc-gz.engineering; a property
    company is its own unit); text: the measures (10 to 8000 characters);
    media_ids: attachments uploaded first (POST /api/media, kind material or
    photo), at most 20."""
    unit_id = Text(UNIT_ID_LENGTH, required=True)
    text = Text(MEASURES_MAX, multiline=True, required=True, validate=validate.Length(
        min=MEASURES_MIN, error=f"优化措施至少 {MEASURES_MIN} 个字 "
                                f"(the measures: at least {MEASURES_MIN} characters)"))
    media_ids = MediaIds()
