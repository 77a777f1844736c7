"""What penalty's RPC methods answer: the views callers read.

Penalty dumps ledger lines, appeals and cases with these schemas; the other
answers are built as plain JSON and described here field by field. Every
field of a view is in every answer (None where nothing applies), so a view
loads its answer back: the contract tests do, and a missing, unknown or
mistyped field fails.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from shared.contracts.penalty.analysis_views import (  # noqa: F401  (re-exported)
    AnalysisCriteria,
    AnalysisHead,
    AnalysisReason,
    AnalysisView,
    CategoryProjectCount,
    IssuedAnalysisView,
    MeasuresStatus,
    MeasuresView,
    NamedDepartment,
    RepeatRoom,
)
from shared.contracts.penalty.view_base import View
from shared.contracts.penalty.view_base import decimal as _decimal
from shared.contracts.penalty.view_base import text as _text

# -- the ledger, appeals and sanction cases ------------------------------------------------

class LineView(View):
    id = fields.String()
    person_id = _text()
    person_name = _text()
    unit_name = _text()
    amount = _decimal(allow_none=True, metadata={"description": "CNY, exact decimal string"})
    bonus_percent = _decimal(allow_none=True)
    bonus = _decimal(allow_none=True)
    rule = fields.String()
    article = fields.String()
    complaint_id = _text()
    month = fields.String()
    charged_at = fields.AwareDateTime()
    evidence = fields.Dict()
    rule_version = fields.String()
    source_key = fields.String()
    reverses = _text()
    reversed_by = _text()
    flags = fields.List(fields.String())
    created_at = fields.AwareDateTime()


class LinePage(View):
    items = fields.List(fields.Nested(LineView))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class AppealView(View):
    id = fields.String()
    deduction_id = fields.String()
    person_id = fields.String()
    reason = fields.String()
    filed_at = fields.AwareDateTime()
    status = fields.String()
    decided_by = _text()
    decided_at = fields.AwareDateTime(allow_none=True)
    decision_reason = _text()
    reversal_id = _text()


class CaseView(View):
    id = fields.String()
    kind = fields.String()
    article = fields.String()
    person_id = _text()
    role = fields.String()
    complaint_id = _text()
    evidence = fields.Dict()
    allowed = fields.Dict(metadata={"description": "measure -> bounds the regulation allows"})
    rule_version = fields.String()
    month = fields.String()
    opened_at = fields.AwareDateTime()
    opened_by = _text()
    status = fields.String()
    decision = fields.Dict(allow_none=True)
    decided_by = _text()
    decided_role = _text()
    decided_at = fields.AwareDateTime(allow_none=True)
    deduction_id = _text()


# -- the monthly report ----------------------------------------------------------------------

class ReportRuleRow(View):
    rule = fields.String()
    rule_zh = fields.String()
    article = fields.String()
    lines = fields.Integer()
    amount = _decimal()
    bonus_percent_pending = _decimal()
    flags = fields.List(fields.String())


class ReportPerson(View):
    person_id = _text()
    name = _text()
    unit_name = _text()
    lines = fields.Integer()
    amount = _decimal()
    bonus_percent_pending = _decimal()
    flags = fields.List(fields.String())
    rules = fields.List(fields.Nested(ReportRuleRow))


class ReviewedPerson(View):
    """A person whose month is above the threshold, and where it stands."""
    person_id = fields.String()
    name = _text()
    amount = _decimal()
    status = fields.String(metadata={"description": "pending, confirmed or referred"})
    status_zh = fields.String()
    case_id = _text()
    case_status = _text()
    decided_by = _text()
    decided_at = fields.String(allow_none=True)
    confirmed_amount = _decimal(allow_none=True)


class ReportReview(View):
    threshold = _decimal(metadata={"description": "CNY: a month above it needs the GM"})
    people = fields.List(fields.Nested(ReviewedPerson))
    final = fields.Boolean(metadata={"description": "true: nobody waits for the GM or a case; "
                                                    "HR takes the report as final"})


class ReportView(View):
    month = fields.String()
    revision = fields.Integer()
    issued_at = fields.AwareDateTime()
    issued_by = _text()
    trigger = fields.String()
    totals = fields.Dict()
    line_count = fields.Integer()
    people = fields.List(fields.Nested(ReportPerson))
    csv_media_id = fields.String()
    xlsx_media_id = fields.String()
    sha256s = fields.Dict(keys=fields.String(), values=fields.String())
    changes = fields.Dict(allow_none=True, metadata={"description":
                          "revision > 1: what changed since the previous revision, with "
                          "`added_lines` (the ledger lines it adds)"})
    changed = fields.Boolean(metadata={"description": "false: the issue found nothing new"})
    review = fields.Nested(ReportReview, metadata={"description":
                           "people above the threshold (需总经理确认) and their standing"})


class ReportRevision(View):
    """One revision of a month's report (the list of revisions)."""
    month = fields.String()
    revision = fields.Integer()
    issued_at = fields.AwareDateTime()
    issued_by = _text()
    trigger = fields.String()
    totals = fields.Dict()
    line_count = fields.Integer()
    lines_added = fields.Integer()
    summary = _text()


class ReportFile(View):
    """`monthly_report` with format csv or xlsx: the file, rebuilt from the
    issued revision."""
    filename = fields.String()
    content_type = fields.String()
    sha256 = fields.String()
    content_b64 = fields.String()


# -- rankings and assessments (SPEC §5) ---------------------------------------------------------

class _Performance(View):
    id = fields.String()
    name = _text()
    due = fields.Integer()
    on_time = fields.Integer()
    on_time_rate = _text()
    completed = fields.Integer()
    efficiency_median_hours = _text()
    surveys = fields.Integer()
    satisfaction_mean = _text()
    reopened = fields.Integer()
    ranks = fields.Dict(keys=fields.String(), values=fields.Integer())
    score = fields.Integer()
    rank = fields.Integer()


class ProjectRanking(_Performance):
    """A project within its company (Art. 38)."""


class CompanyRanking(_Performance):
    """A regional or property company (Art. 38), with its projects."""
    projects = fields.List(fields.Nested(ProjectRanking))


class SpecialistEntry(View):
    person_id = fields.String()
    name = _text()
    ratings = fields.Integer()
    mean = fields.String()
    rank = fields.Integer()
    bottom_ten = fields.Boolean()
    bottom_ten_months = fields.List(fields.String())


class SpecialistRanking(View):
    """By reception rating (Art. 16); the bottom ten named only past `size` rated."""
    ranked = fields.Integer()
    entries = fields.List(fields.Nested(SpecialistEntry))
    bottom_ten = fields.List(fields.String())


class DeskAssessment(View):
    """A project's service desk (Art. 39)."""
    project_id = fields.String()
    name = _text()
    received = fields.Integer()
    resolved_on_spot = fields.Integer()
    due = fields.Integer()
    completed = fields.Integer()
    deadlines = fields.Integer()
    deadlines_met = fields.Integer()
    on_spot_rate = _text()
    completion_rate = _text()
    deadlines_met_rate = _text()


class RankingsView(View):
    month = fields.String()
    complete = fields.Boolean(metadata={"description": "false: the month is still running"})
    companies = fields.Dict(
        keys=fields.String(), values=fields.List(fields.Nested(CompanyRanking)),
        metadata={"description": "region_company and property_company rankings, each with "
                                 "its projects"})
    specialists = fields.Nested(SpecialistRanking)
    desks = fields.List(fields.Nested(DeskAssessment))
    frozen = fields.Boolean(metadata={"description": "true: the closed month's published "
                                                     "snapshot (Art. 38), never changed"})
    published_at = fields.String(allow_none=True)


class RuleVersion(View):
    version = fields.String()
    effective_from = fields.String()


class HealthView(Schema):
    """Not a View: `down` answers carry only service, status and error."""
    service = fields.String(required=True)
    status = fields.String(required=True)
    error = fields.String()
    outbox_backlog = fields.Integer()
    directory_version = fields.Integer(allow_none=True)
    rule_versions = fields.List(fields.Nested(RuleVersion))


# What each method answers (a list method: a list of the view), for the
# contract tests and the gateway's OpenAPI.
ANSWERS: dict[str, tuple[type[Schema], ...]] = {
    "list_deductions": (LinePage,),
    "get_deduction": (LineView,),
    "appeal_deduction": (AppealView,),
    "decide_appeal": (AppealView,),
    "list_appeals": (AppealView,),
    "list_sanction_cases": (CaseView,),
    "open_sanction_case": (CaseView,),
    "decide_sanction_case": (CaseView,),
    "issue_monthly_report": (ReportView,),
    "monthly_report": (ReportView, ReportFile),
    "list_report_revisions": (ReportRevision,),
    "confirm_person_month": (ReportView,),
    "refer_person_month": (ReportView,),
    "rankings": (RankingsView,),
    "issue_analysis": (IssuedAnalysisView,),
    "get_analysis": (AnalysisView,),
    "file_measures": (MeasuresView,),
    "health": (HealthView,),
}
LIST_ANSWERS = frozenset({"list_appeals", "list_sanction_cases", "list_report_revisions"})


def answer_errors(method: str, answer: Any) -> dict[str, Any]:
    """The fields of `answer` that do not match `method`'s view ({} when it
    does): a missing, unknown or mistyped field, or a None where none may be."""
    views = ANSWERS[method]
    if method == "monthly_report":
        views = (ReportFile,) if isinstance(answer, dict) and "content_b64" in answer \
            else (ReportView,)
    many = method in LIST_ANSWERS
    if many and not isinstance(answer, list):
        return {"_answer": ["a list is expected"]}
    errors: dict[str, Any] = views[0](many=many).validate(answer)
    return errors
