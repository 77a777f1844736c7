"""What penalty answers about the quarterly systemic-issue analysis (Art. 42):
the departments it names, why, and their improvement measures."""

from __future__ import annotations

from marshmallow import fields

from shared.contracts.penalty.view_base import View
from shared.contracts.penalty.view_base import text as _text

# -- the quarterly systemic-issue analysis (Art. 42) -----------------------------------------------

class CategoryProjectCount(View):
    category = _text()
    project_id = fields.String()
    count = fields.Integer()


class RepeatRoom(View):
    project_id = fields.String()
    room = _text()
    count = fields.Integer()
    complaint_ids = fields.List(fields.String())


class AnalysisCriteria(View):
    category_min = fields.Integer(metadata={"description": "a department is named with at "
                                                           "least this many complaints of one "
                                                           "category in the quarter"})
    repeat_room_above = fields.Integer(metadata={"description": "or a room of its complaints "
                                                                "complained about more often"})


class AnalysisHead(View):
    person_id = fields.String()
    name = _text()


class AnalysisReason(View):
    kind = fields.String(metadata={"description": "category or repeat_room"})
    category = _text()
    category_name = _text()
    project_id = _text()
    project_name = _text()
    room = _text()
    count = fields.Integer()
    complaint_ids = fields.List(fields.String())


class MeasuresView(View):
    """A department's improvement measures as filed (Art. 42); `text` and
    `media_ids` are null for a reader outside the centre and the department."""
    quarter = fields.String()
    unit_id = fields.String()
    department = fields.String()
    company_id = _text()
    analysis_revision = fields.Integer()
    filed_by = fields.String()
    filed_by_name = _text()
    filed_at = fields.AwareDateTime()
    late = fields.Boolean(metadata={"description": "filed after its 15 days"})
    text = _text()
    media_ids = fields.List(fields.String(), allow_none=True)


class MeasuresStatus(View):
    status = fields.String(metadata={"description": "filed, pending or overdue"})
    status_zh = fields.String()
    due_at = fields.AwareDateTime(metadata={"description": "15 days after it was first named"})
    late = fields.Boolean()
    filed = fields.Nested(MeasuresView, allow_none=True)


class NamedDepartment(View):
    company_id = _text()
    company_name = _text()
    department = fields.String()
    department_name = fields.String()
    unit_id = fields.String()
    unit_name = fields.String()
    head_person_ids = fields.List(fields.String())
    heads = fields.List(fields.Nested(AnalysisHead))
    complaint_count = fields.Integer()
    categories = fields.List(fields.String())
    reasons = fields.List(fields.Nested(AnalysisReason), metadata={
        "description": "why it is named: each criterion it meets"})
    why = fields.String(metadata={"description": "the reasons in words (zh-CN)"})
    named_at = fields.AwareDateTime(metadata={"description": "the revision that first named it"})
    measures_due_at = fields.AwareDateTime()
    mine = fields.Boolean(metadata={"description": "the reader heads this department"})
    measures = fields.Nested(MeasuresStatus)


class AnalysisView(View):
    quarter = fields.String()
    revision = fields.Integer()
    issued_at = fields.AwareDateTime()
    complaint_count = fields.Integer()
    criteria = fields.Nested(AnalysisCriteria)
    by_category_project = fields.List(fields.Nested(CategoryProjectCount))
    repeat_rooms = fields.List(fields.Nested(RepeatRoom))
    departments = fields.List(fields.Nested(NamedDepartment), metadata={
        "description": "only the departments with a systemic problem (`criteria`)"})
    may_file = fields.List(fields.String(), metadata={
        "description": "unit ids of the named departments whose measures the reader may "
                       "still file"})


class IssuedAnalysisView(AnalysisView):
    changed = fields.Boolean(metadata={"description": "false: the issue found nothing new"})


# -- health ---------------------------------------------------------------------------------------
