"""What penalty reads from other services' events (only the fields it uses,
unknown ones ignored, so a producer may add fields freely) and what its RPC
methods take and return (marshmallow 4)."""
from marshmallow import EXCLUDE, Schema, fields, validate

from shared.validation import load_input


class Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


def _time(required=True):
    if required:
        return fields.AwareDateTime(required=True)
    return fields.AwareDateTime(allow_none=True, load_default=None)


def _text(required=False):
    if required:
        return fields.String(required=True)
    return fields.String(allow_none=True, load_default=None)


# -- sla.events ---------------------------------------------------------------------------

# "from" is a Python keyword: these schemas are built from dicts.
IntervalIn = Lenient.from_dict({
    "from": fields.AwareDateTime(required=True),
    "to": fields.AwareDateTime(required=True),
    "late_seconds": fields.Integer(required=True),
}, name="IntervalIn")


class DeadlineIn(Lenient):
    timer_id = fields.String(required=True)
    rule = fields.String(required=True)
    article = fields.String(load_default="")
    person_id = _text()
    role = _text()
    due_at = _time()
    done_at = _time(required=False)


class MissedIn(DeadlineIn):
    late_seconds = fields.Integer(required=True, validate=validate.Range(min=0))
    final = fields.Boolean(load_default=True)
    holder_intervals = fields.List(fields.Nested(IntervalIn), allow_none=True, load_default=None)


class CancelledIn(Lenient):
    timer_id = fields.String(required=True)
    rule = fields.String(required=True)
    person_id = _text()
    due_at = _time()
    reason = _text()


class WithdrawnIn(DeadlineIn):
    reason = _text()


class OverdueIn(Lenient):
    complaint_id = fields.String(required=True)
    timer_id = fields.String(required=True)
    day = fields.Integer(required=True, validate=validate.Range(min=1))
    tier = fields.Integer(load_default=None)
    handler_person_id = _text()
    leader_person_ids = fields.List(fields.String(), load_default=list)
    day_started_at = _time()
    completion_due_at = _time(required=False)


class OverdueWithdrawnIn(Lenient):
    complaint_id = fields.String(required=True)
    timer_id = fields.String(required=True)
    day = fields.Integer(required=True)
    reason = _text()


class MonthlyReportDueIn(Lenient):
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))
    due_at = _time(required=False)


# -- intake.events --------------------------------------------------------------------------

HolderIn = Lenient.from_dict({
    "person_id": _text(),
    "role": _text(),
    "from": fields.AwareDateTime(required=True),
    "to": fields.AwareDateTime(allow_none=True, load_default=None),
}, name="HolderIn")


class FactsIn(Lenient):
    complaint_id = fields.String(required=True)
    project_id = fields.String(required=True)
    region_company_id = _text()
    property_company_id = _text()
    category = _text()
    channel = _text()
    room = _text()
    order_round = fields.Integer(load_default=1)
    specialist_id = _text()
    recorded_at = _time(required=False)
    first_submitted_at = _time(required=False)
    signed_at = _time(required=False)
    department = _text()
    escalation_level = _text()
    reopen_count = fields.Integer(load_default=0)
    holders = fields.List(fields.Nested(HolderIn), load_default=list)
    resolved_on_spot = fields.Boolean(load_default=None, allow_none=True)
    closed_at = _time(required=False)
    score = fields.Integer(load_default=None, allow_none=True)
    rated_specialist_id = _text()


class ClosureVerifiedIn(Lenient):
    application_id = fields.String(required=True)
    verified_at = _time()
    satisfaction = fields.Integer(allow_none=True, load_default=None)


class ClosureRejectedIn(Lenient):
    application_id = fields.String(required=True)
    stage = _text()
    rejected_at = _time()
    application_rejected = fields.Boolean(allow_none=True, load_default=None)


class ComplaintClosedIn(Lenient):
    closed_at = _time()
    application_id = _text()


# -- dispatch.events --------------------------------------------------------------------------

class ContactIn(Lenient):
    person_id = _text()


class RoutedIn(Lenient):
    complaint_id = fields.String(required=True)
    project_id = _text()
    department = _text()
    handler = fields.Nested(ContactIn, allow_none=True, load_default=None)
    signed_at = _time(required=False)
    completion_due_at = _time(required=False)
    requested_completion_at = _time(required=False)


class CompletionDueIn(Lenient):
    complaint_id = fields.String(required=True)
    completion_due_at = _time(required=False)


class ClosureAppliedIn(Lenient):
    complaint_id = fields.String(required=True)
    application_id = fields.String(required=True)
    applied_at = _time()
    completion_due_at = _time(required=False)


class PersonIn(Lenient):
    id = fields.String(required=True)
    name = _text()
    mobile = _text()
    roles = fields.List(fields.String(), load_default=list)
    unit = _text()
    unit_id = _text()
    unit_name = _text()
    bonus = fields.Decimal(allow_none=True, load_default=None)
    active = fields.Boolean(load_default=True)
    project_ids = fields.List(fields.String(), load_default=list)


class UnitIn(Lenient):
    id = fields.String(required=True)
    kind = _text()
    name = _text()
    parent = _text()
    department = _text()
    active = fields.Boolean(load_default=True)


class ProjectIn(Lenient):
    id = fields.String(required=True)
    name = _text()
    region_company = _text()
    property_company = _text()
    city_tier = _text()
    active = fields.Boolean(load_default=True)


class DirectoryIn(Lenient):
    version = fields.Integer(required=True)
    loaded_at = _time()
    people = fields.List(fields.Nested(PersonIn), load_default=list)
    units = fields.List(fields.Nested(UnitIn), load_default=list)
    projects = fields.List(fields.Nested(ProjectIn), load_default=list)


def load_event_data(schema_cls, data):
    """Raises ValidationError: a malformed event is a bug to dead-letter."""
    return schema_cls().load(data)


# -- RPC inputs -----------------------------------------------------------------------------------

MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="月份格式须为 YYYY-MM (month must be YYYY-MM)")


class DeductionFilters(Schema):
    month = fields.String(validate=MONTH, load_default=None, allow_none=True)
    person_id = fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(min=1, max=64))
    rule = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class AppealForm(Schema):
    reason = fields.String(required=True, validate=validate.Length(
        min=2, max=2000, error="申诉理由须为 2 到 2000 个字符 (reason: 2 to 2000 characters)"))


class AppealDecisionForm(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(
        ("upheld", "rejected"), error="须为 upheld（支持）或 rejected（驳回）"))
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=2000))


class AppealFilters(Schema):
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(("pending", "upheld", "rejected")))
    person_id = fields.String(load_default=None, allow_none=True)


class CaseForm(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(
        ("reception_attitude", "concealed"),
        error="须为 reception_attitude（Art. 11）或 concealed（Art. 17）"))
    person_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    complaint_id = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Length(max=64))
    note = fields.String(required=True, validate=validate.Length(min=2, max=4000))
    observed_at = fields.AwareDateTime(load_default=None, allow_none=True)


class CaseDecisionForm(Schema):
    measure = fields.String(required=True, validate=validate.OneOf(
        ("bonus", "pay_cut", "demotion", "pay_grade_cut", "dismissal", "fine")))
    bonus_percent = fields.Decimal(load_default=None, allow_none=True)
    amount = fields.Decimal(load_default=None, allow_none=True)
    pay_grades = fields.Integer(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


class CaseFilters(Schema):
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(("open", "decided", "withdrawn")))
    person_id = fields.String(load_default=None, allow_none=True)
    kind = fields.String(load_default=None, allow_none=True)


class ReportQuery(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")))
    revision = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))


# Input is loaded by the shared helper (field-by-field InvalidInput).
load = load_input


# -- RPC outputs --------------------------------------------------------------------------

class LineView(Schema):
    id = fields.String()
    person_id = fields.String(allow_none=True)
    person_name = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    amount = fields.Decimal(as_string=True, allow_none=True,
                            metadata={"description": "CNY, exact decimal string"})
    bonus_percent = fields.Decimal(as_string=True, allow_none=True)
    bonus = fields.Decimal(as_string=True, allow_none=True)
    rule = fields.String()
    article = fields.String()
    complaint_id = fields.String(allow_none=True)
    month = fields.String()
    charged_at = fields.AwareDateTime()
    evidence = fields.Dict()
    rule_version = fields.String()
    source_key = fields.String()
    reverses = fields.String(allow_none=True)
    reversed_by = fields.String(allow_none=True)
    flags = fields.List(fields.String())
    created_at = fields.AwareDateTime()


class LinePage(Schema):
    items = fields.List(fields.Nested(LineView))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class AppealView(Schema):
    id = fields.String()
    deduction_id = fields.String()
    person_id = fields.String()
    reason = fields.String()
    filed_at = fields.AwareDateTime()
    status = fields.String()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    reversal_id = fields.String(allow_none=True)


class CaseView(Schema):
    id = fields.String()
    kind = fields.String()
    article = fields.String()
    person_id = fields.String(allow_none=True)
    role = fields.String()
    complaint_id = fields.String(allow_none=True)
    evidence = fields.Dict()
    allowed = fields.Dict(metadata={"description": "measure -> bounds the regulation allows"})
    rule_version = fields.String()
    month = fields.String()
    opened_at = fields.AwareDateTime()
    opened_by = fields.String(allow_none=True)
    status = fields.String()
    decision = fields.Dict(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_role = fields.String(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    deduction_id = fields.String(allow_none=True)


class ReportView(Schema):
    month = fields.String()
    revision = fields.Integer()
    issued_at = fields.AwareDateTime()
    issued_by = fields.String(allow_none=True)
    trigger = fields.String()
    totals = fields.Dict()
    line_count = fields.Integer()
    people = fields.List(fields.Dict())
    csv_media_id = fields.String()
    xlsx_media_id = fields.String()
    sha256s = fields.Dict()
    changes = fields.Dict(allow_none=True)
    changed = fields.Boolean(metadata={"description": "false: the issue found nothing new"})


LINE_OUT = LineView()
APPEAL_OUT = AppealView()
CASE_OUT = CaseView()
