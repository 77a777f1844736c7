"""Events published by the penalty service (SPEC §4, §5, §7): deductions
recorded and reversed, appeals, sanction cases, the monthly report for HR and
Finance, the quarterly systemic-issue analysis, and the notifications it asks
the sla notifier to send. Amounts are CNY decimal strings, never numbers."""
from marshmallow import Schema, fields

from shared.events.registry import event


def _about(description: str) -> dict[str, str]:
    return {"description": description}


def _money(description: str, required: bool = True) -> fields.Decimal:
    return fields.Decimal(as_string=True, required=required, allow_none=True,
                          metadata=_about(description))


def _time(description: str, required: bool = True) -> fields.AwareDateTime:
    return fields.AwareDateTime(required=required, allow_none=not required,
                                metadata=_about(description))


class Line(Schema):
    deduction_id = fields.String(required=True)
    person_id = fields.String(required=True, allow_none=True, metadata=_about(
        "who is charged (null: nobody held the post; flagged no_person)"))
    person_name = fields.String(allow_none=True)
    rule = fields.String(required=True, metadata=_about(
        "SPEC §4 rule (order_submit, order_sign, visit, plan, progress, overdue, "
        "overdue_catchup) or sanction_<kind>"))
    article = fields.String(required=True)
    amount = _money("CNY, exact decimal; null while a bonus percentage has no known bonus")
    bonus_percent = _money("percentage of the monthly bonus (visit: 20), if that is the rule")
    bonus = _money("the monthly bonus the amount was computed from", required=False)
    month = fields.String(required=True, metadata=_about("YYYY-MM of the report it belongs to"))
    complaint_id = fields.String(allow_none=True)
    charged_at = _time("the fact's moment (deadline, segment end, day start, decision)")
    evidence = fields.Dict(required=True, metadata=_about(
        "the timestamps that prove it: due_at, done_at, late_seconds, blocks, day, tier, "
        "holder_intervals..."))
    rule_version = fields.String(required=True)
    source_key = fields.String(required=True, metadata=_about(
        "deterministic identity of what is charged (unique in the ledger)"))
    flags = fields.List(fields.String(), required=True, metadata=_about(
        "person_not_in_directory, person_inactive, no_person, bonus_unknown, adjustment"))


@event("deduction.recorded", "penalty", "a deduction was written to the ledger (SPEC §4)")
class DeductionRecorded(Line):
    pass


@event("deduction.reversed", "penalty",
       "a reversing line was written: an upheld appeal, or a miss sla withdrew")
class DeductionReversed(Line):
    reverses = fields.String(required=True, metadata=_about("the deduction reversed"))
    reason = fields.String(required=True, metadata=_about(
        "appeal_upheld, deadline_withdrawn, deadline_met, overdue_withdrawn"))


@event("appeal.filed", "penalty", "a person appealed one of their deductions")
class AppealFiled(Schema):
    appeal_id = fields.String(required=True)
    deduction_id = fields.String(required=True)
    person_id = fields.String(required=True)
    reason = fields.String(required=True)
    filed_at = _time("when it was filed")


@event("appeal.decided", "penalty", "the centre GM decided an appeal (upheld: a reversing line)")
class AppealDecided(Schema):
    appeal_id = fields.String(required=True)
    deduction_id = fields.String(required=True)
    person_id = fields.String(required=True)
    decision = fields.String(required=True, metadata=_about("upheld or rejected"))
    decided_by = fields.String(required=True)
    decided_at = _time("when it was decided")
    reason = fields.String(allow_none=True)
    reversal_id = fields.String(allow_none=True)


class CaseFacts(Schema):
    case_id = fields.String(required=True)
    kind = fields.String(required=True, metadata=_about(
        "overdue (Art. 36.3), reception_attitude (Art. 11), concealed (Art. 17), "
        "bottom_ten (Art. 16), monthly_review (a month above the threshold the GM referred)"))
    article = fields.String(required=True)
    person_id = fields.String(required=True, allow_none=True)
    role = fields.String(required=True, metadata=_about("handler, leader, specialist, person"))
    complaint_id = fields.String(allow_none=True)


@event("sanction_case.opened", "penalty",
       "a sanction case was opened for a person to decide, with the evidence and the range "
       "the regulation allows")
class SanctionCaseOpened(CaseFacts):
    evidence = fields.Dict(required=True)
    allowed = fields.Dict(required=True, metadata=_about("measure -> bounds"))
    opened_by = fields.String(allow_none=True, metadata=_about("null: opened by the system"))
    opened_at = _time("when it was opened")


@event("sanction_case.decided", "penalty", "the centre GM or HR recorded a case's decision")
class SanctionCaseDecided(CaseFacts):
    decision = fields.Dict(required=True, metadata=_about(
        "measure, bonus_percent, amount, pay_grades, note"))
    decided_by = fields.String(required=True)
    decided_role = fields.String(required=True)
    decided_at = _time("when it was decided")
    deduction_id = fields.String(allow_none=True, metadata=_about(
        "the ledger line of a bonus share or fine"))


@event("sanction_case.withdrawn", "penalty",
       "an undecided case no longer applies (its overdue day was withdrawn)")
class SanctionCaseWithdrawn(CaseFacts):
    reason = fields.String(required=True)


class Sha256s(Schema):
    csv = fields.String(required=True)
    xlsx = fields.String(required=True)


@event("monthly_report.issued", "penalty",
       "the month's deductions report for HR and Finance was issued (Art. 36), once sla had "
       "fired every timer due in the month; each later revision (a line arrived for the "
       "reported month) is this event again with the next `revision` and `changes`")
class MonthlyReportIssued(Schema):
    month = fields.String(required=True)
    revision = fields.Integer(required=True, metadata=_about(
        "1, then +1 for each revision: the latest revision carries every line of the month"))
    issued_at = _time("when it was issued")
    trigger = fields.String(required=True, metadata=_about(
        "monthly_report.due, on_demand, or late_line (a revision issued by itself because a "
        "line arrived for the reported month)"))
    totals = fields.Dict(required=True, metadata=_about(
        "amount (CNY string), lines, people, bonus_percent_pending, by_rule"))
    line_count = fields.Integer(required=True)
    csv_media_id = fields.String(required=True)
    xlsx_media_id = fields.String(required=True)
    sha256s = fields.Nested(Sha256s, required=True)
    changes = fields.Dict(allow_none=True, metadata=_about(
        "revision > 1: lines_added, amount_change, changes per person and rule, summary (zh), "
        "added_lines (the ledger lines this revision adds)"))
    needs_gm_confirmation = fields.List(fields.String(), load_default=list, metadata=_about(
        "people whose month is above the threshold (需总经理确认): HR takes their amounts as "
        "final once the GM confirmed them or their case is decided (monthly_report.reviewed)"))


@event("monthly_report.reviewed", "penalty",
       "the centre GM confirmed a person's month above the threshold, or referred it to a "
       "sanction case (issue 13)")
class MonthlyReportReviewed(Schema):
    month = fields.String(required=True)
    person_id = fields.String(required=True)
    decision = fields.String(required=True, metadata=_about("confirmed or referred"))
    amount = _money("the person's month at the revision decided on")
    revision = fields.Integer(required=True)
    case_id = fields.String(allow_none=True, metadata=_about("referred: the sanction case"))
    note = fields.String(allow_none=True)
    decided_by = fields.String(required=True)
    decided_at = _time("when it was decided")


@event("rankings.published", "penalty",
       "Art. 38: at the month's close its rankings are frozen and published; a frozen month "
       "never changes (GET /api/rankings/{month} answers this snapshot)")
class RankingsPublished(Schema):
    month = fields.String(required=True)
    published_at = _time("when the month was frozen")
    companies = fields.Dict(required=True, metadata=_about(
        "region_company and property_company rankings, each with its projects"))
    specialists = fields.Dict(required=True, metadata=_about("by reception rating (Art. 16)"))
    desks = fields.List(fields.Dict(), required=True, metadata=_about(
        "the service desks' assessment (Art. 39)"))


class Recipient(Schema):
    person_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)


@event("notification.requested", "penalty",
       "penalty asks for a message to people (the sla notifier sends it by SMS)")
class NotificationRequested(Schema):
    key = fields.String(required=True, metadata=_about("idempotency key of the message"))
    source = fields.String(required=True, metadata=_about("monthly_report, analysis"))
    template = fields.String(required=True)
    recipients = fields.List(fields.Nested(Recipient), required=True)
    params = fields.Dict(required=True)
    text = fields.String(required=True, metadata=_about("the message (zh)"))


class CategoryCount(Schema):
    category = fields.String(allow_none=True)
    project_id = fields.String(required=True)
    count = fields.Integer(required=True)


class RepeatRoom(Schema):
    project_id = fields.String(required=True)
    room = fields.String(allow_none=True)
    count = fields.Integer(required=True)
    complaint_ids = fields.List(fields.String(), required=True)


class AnalysisHead(Schema):
    person_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)


class AnalysisReason(Schema):
    kind = fields.String(required=True, metadata=_about(
        "category (at least category_min complaints of one category) or repeat_room (a room "
        "complained about more than repeat_room_above times)"))
    category = fields.String(required=True, allow_none=True)
    category_name = fields.String(required=True, allow_none=True)
    project_id = fields.String(required=True, allow_none=True)
    project_name = fields.String(required=True, allow_none=True)
    room = fields.String(required=True, allow_none=True)
    count = fields.Integer(required=True)
    complaint_ids = fields.List(fields.String(), required=True)


class NamedDepartment(Schema):
    company_id = fields.String(allow_none=True)
    company_name = fields.String(allow_none=True)
    department = fields.String(required=True)
    department_name = fields.String(required=True)
    unit_id = fields.String(required=True, metadata=_about(
        "the department's unit (<company>.<department>; a property company is its own)"))
    unit_name = fields.String(required=True)
    head_person_ids = fields.List(fields.String(), required=True, metadata=_about(
        "its heads (the directory's `head` of the unit): they file the measures"))
    heads = fields.List(fields.Nested(AnalysisHead), required=True)
    complaint_count = fields.Integer(required=True)
    categories = fields.List(fields.String(), required=True)
    reasons = fields.List(fields.Nested(AnalysisReason), required=True, metadata=_about(
        "why it is named: each criterion it meets"))
    why = fields.String(required=True, metadata=_about("the reasons in words (zh-CN)"))
    named_at = _time("when a revision of this quarter first named it")
    measures_due_at = _time("named_at + 15 days (Art. 42)")


class AnalysisCriteria(Schema):
    category_min = fields.Integer(required=True, metadata=_about(
        "PENALTY_ANALYSIS_CATEGORY_MIN: complaints of one category in the quarter"))
    repeat_room_above = fields.Integer(required=True, metadata=_about(
        "PENALTY_ANALYSIS_REPEAT_ROOM_ABOVE: complaints about one room in the quarter"))


@event("analysis.issued", "penalty",
       "the quarterly systemic-issue analysis (Art. 42): the departments it names (only those "
       "meeting `criteria`) file improvement measures within 15 days")
class AnalysisIssued(Schema):
    quarter = fields.String(required=True, metadata=_about("YYYY-Qn"))
    revision = fields.Integer(required=True)
    issued_at = _time("when it was issued")
    complaint_count = fields.Integer(required=True)
    criteria = fields.Nested(AnalysisCriteria, required=True)
    by_category_project = fields.List(fields.Nested(CategoryCount), required=True)
    repeat_rooms = fields.List(fields.Nested(RepeatRoom), required=True)
    departments = fields.List(fields.Nested(NamedDepartment), required=True)


@event("measures.filed", "penalty",
       "the head of a department the quarterly analysis named filed its improvement measures "
       "with the centre (Art. 42), once per quarter and department; meets the "
       "`systemic_measures` deadline of each of `head_person_ids`")
class MeasuresFiled(Schema):
    quarter = fields.String(required=True, metadata=_about("YYYY-Qn"))
    unit_id = fields.String(required=True, metadata=_about("the department's unit"))
    department = fields.String(required=True)
    company_id = fields.String(required=True, allow_none=True)
    analysis_revision = fields.Integer(required=True, metadata=_about(
        "the analysis revision it was filed against"))
    head_person_id = fields.String(required=True, metadata=_about("who filed (a head)"))
    head_person_ids = fields.List(fields.String(), required=True, metadata=_about(
        "the department's heads the analysis named, and the filer: sla's systemic_measures "
        "timers analysis:<quarter>:<person> of each are met"))
    filed_by_name = fields.String(required=True, allow_none=True)
    filed_at = _time("when the centre received them")
    due_at = _time("named_at + 15 days")
    late = fields.Boolean(required=True, metadata=_about("filed after due_at"))
    text = fields.String(required=True, metadata=_about("the measures (zh)"))
    media_ids = fields.List(fields.String(), required=True, metadata=_about(
        "attachments in media (kind material or photo)"))
