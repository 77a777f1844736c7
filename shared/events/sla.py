"""Events published by the sla service (SPEC §4, §7): deadlines armed, met,
missed; overdue days; reminders, escalations, daily reports; SMS delivery.

Penalty charges from these. For a rule counted in started 5-minute blocks
(`order_submit`, `order_sign`) charge only a `deadline.missed` with
`final: true`: it carries the whole lateness. `order_sign` is split between
the people who held the order past the deadline: one event per person, each
with their own `late_seconds` and `holder_intervals`.
"""
from marshmallow import Schema, fields

from shared.events.registry import event


def _about(description: str) -> dict[str, str]:
    return {"description": description}


def _time(description: str, required: bool = True) -> fields.AwareDateTime:
    return fields.AwareDateTime(required=required, allow_none=not required,
                                metadata=_about(description))


class Deadline(Schema):
    timer_id = fields.String(required=True)
    rule = fields.String(required=True, metadata=_about("SPEC §4 rule code"))
    article = fields.String(required=True,
                            metadata=_about("the regulation's article(s), e.g. 14, 18"))
    person_id = fields.String(required=True, allow_none=True, metadata=_about(
        "who is responsible (null: a post, e.g. centre staff, or nobody known)"))
    role = fields.String(required=True, allow_none=True, metadata=_about(
        "the responsible role: specialist, centre_deputy_gm, centre_gm, handler, centre_staff, "
        "chairman, head"))
    due_at = _time("the deadline")


@event("deadline.armed", "sla",
       "a deadline of SPEC §4 was armed, or moved (Art. 25 agreed date): the newest due_at counts")
class DeadlineArmed(Deadline):
    pass


@event("deadline.met", "sla", "a step was done by its deadline")
class DeadlineMet(Deadline):
    done_at = _time("when the step was done")


# "from" is a Python keyword: the schema is built from a dict.
HolderInterval = Schema.from_dict({
    "from": fields.AwareDateTime(required=True),
    "to": fields.AwareDateTime(required=True),
    "late_seconds": fields.Integer(required=True),
}, name="HolderInterval")


@event("deadline.missed", "sla",
       "a deadline passed without the step (final false), or the late step was done or can no "
       "longer be done (final true); order_sign: one event per person charged")
class DeadlineMissed(Deadline):
    done_at = _time("when the late step was done; null while not done (or never done)",
                    required=False)
    late_seconds = fields.Integer(required=True, metadata=_about(
        "seconds past the deadline charged to person_id (so far, while final is false)"))
    final = fields.Boolean(required=True, metadata=_about(
        "true once the step was done or can no longer be done: charge block-counted rules "
        "from this event only"))
    holder_intervals = fields.List(fields.Nested(HolderInterval), allow_none=True,
                                   load_default=None, metadata=_about(
                                       "order_sign: the person's holdings past the deadline"))


@event("deadline.cancelled", "sla",
       "an armed deadline no longer applies (complaint closed, reopened, visit blocked, "
       "closure applied...)")
class DeadlineCancelled(Schema):
    timer_id = fields.String(required=True)
    rule = fields.String(required=True)
    person_id = fields.String(required=True, allow_none=True)
    due_at = _time("the deadline that no longer applies")
    reason = fields.String(required=True)


@event("deadline.withdrawn", "sla",
       "a miss announced as final was wrong (the step's event arrived after the deadline fired, "
       "or closure had been applied): reverse what it charged")
class DeadlineWithdrawn(Deadline):
    done_at = _time("when the step was done, if it was", required=False)
    reason = fields.String(required=True)


class Leader(Schema):
    person_id = fields.String(required=True, allow_none=True)
    role = fields.String(required=True, allow_none=True)


class OverdueDay(Schema):
    complaint_id = fields.String(required=True)
    timer_id = fields.String(required=True)
    day = fields.Integer(required=True, metadata=_about("1, 2, ...: the started 24 h period"))
    handler_person_id = fields.String(required=True, allow_none=True)
    leader_person_ids = fields.List(fields.String(), required=True)
    leaders = fields.List(fields.Nested(Leader), required=True, metadata=_about(
        "the leaders with their role (supervising_leader, project_gm, chairman...)"))
    day_started_at = _time("completion deadline + (day - 1) x 24 h")
    completion_due_at = _time("min(requested, agreed) (Art. 25)", required=False)


@event("overdue.accrued", "sla",
       "one more started 24 h past the completion deadline, until closure is applied (Art. 36)")
class OverdueAccrued(OverdueDay):
    tier = fields.Integer(required=True, metadata=_about("1: days 1-7, 2: days 8-15, 3: day 16 on"))


@event("overdue.sanction_due", "sla",
       "day 16 of overdue: a sanction case for HR is due, once per complaint round (Art. 36)")
class OverdueSanctionDue(OverdueDay):
    pass


@event("overdue.withdrawn", "sla",
       "an overdue day accrued after closure had been applied (its event arrived late): reverse it")
class OverdueWithdrawn(Schema):
    complaint_id = fields.String(required=True)
    timer_id = fields.String(required=True)
    day = fields.Integer(required=True)
    day_started_at = _time("when the withdrawn day started")
    reason = fields.String(required=True)


@event("reminder.sent", "sla",
       "the 09:30 reminder (Art. 19) to one recipient, listing their open complaints; a "
       "specialist's, their complaints the customer has not signed (Art. 13)")
class ReminderSent(Schema):
    recipient_person_id = fields.String(required=True)
    slot_at = _time("the reminder's slot (09:30 of the day)")
    complaint_ids = fields.List(fields.String(), required=True)
    unsigned_complaint_ids = fields.List(fields.String(), load_default=list, metadata=_about(
        "the specialist's open complaints still 客户未签名 (signature pending)"))


@event("escalation.raised", "sla",
       "a missed deadline was escalated to the people SPEC §4 names (SMS sent to each)")
class EscalationRaised(Schema):
    rule = fields.String(required=True)
    article = fields.String(required=True)
    timer_id = fields.String(required=True)
    complaint_id = fields.String(required=True, allow_none=True)
    due_at = _time("the deadline missed")
    person_id = fields.String(required=True, allow_none=True, metadata=_about("who missed it"))
    to_person_ids = fields.List(fields.String(), required=True)
    reason = fields.String(required=True)


@event("rotation.due", "sla",
       "a specialist has served a desk six months: the centre GM is told to rotate them (Art. 43)")
class RotationDue(Schema):
    timer_id = fields.String(required=True)
    person_id = fields.String(required=True)
    project_id = fields.String(required=True, allow_none=True)
    assigned_on = fields.Date(required=True)
    due_on = fields.Date(required=True)
    to_person_ids = fields.List(fields.String(), required=True)


class Notification(Schema):
    notification_id = fields.String(required=True)
    recipient_person_id = fields.String(required=True, allow_none=True)
    template = fields.String(required=True)
    complaint_id = fields.String(required=True, allow_none=True)
    provider = fields.String(required=True)
    attempts = fields.Integer(required=True)


@event("notification.sent", "sla", "an SMS was accepted by the provider (or recorded)")
class NotificationSent(Notification):
    provider_id = fields.String(required=True, allow_none=True)
    sent_at = _time("when it was accepted")


@event("notification.failed", "sla", "an SMS attempt failed; it is retried at next_attempt_at")
class NotificationFailed(Notification):
    error = fields.String(required=True)
    next_attempt_at = _time("the next attempt (null: it cannot be sent, e.g. no mobile)",
                            required=False)


class OverdueItem(Schema):
    complaint_id = fields.String(required=True)
    project_id = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    handler_person_id = fields.String(allow_none=True)
    leader_person_ids = fields.List(fields.String(), load_default=list)
    chairman_person_id = fields.String(allow_none=True)
    completion_due_at = fields.AwareDateTime(allow_none=True)
    days_overdue = fields.Integer(required=True)
    tier = fields.Integer(required=True)


@event("report.daily_overdue", "sla",
       "08:30 summary of overdue complaints (Art. 30), to the deputy GM; past 15 days also to "
       "the GM and the chairman")
class DailyOverdueReport(Schema):
    date = fields.Date(required=True)
    slot_at = _time("the job's slot")
    items = fields.List(fields.Nested(OverdueItem), required=True)
    serious_count = fields.Integer(required=True, metadata=_about("items past 15 days"))
    to_person_ids = fields.List(fields.String(), required=True)


class MajorItem(Schema):
    complaint_id = fields.String(required=True)
    project_id = fields.String(allow_none=True)
    room = fields.String(allow_none=True)
    level = fields.String(required=True, metadata=_about("major, group or common_issue"))
    escalated_at = _time("when the GM flagged it (null: flagged before sla kept the time)",
                         required=False)
    days = fields.Integer(required=True, metadata=_about(
        "calendar days since the escalation: 1 on the day it was flagged"))
    chairman_person_id = fields.String(allow_none=True, metadata=_about(
        "the chairman answering for it (Art. 21, 33)"))
    completion_due_at = fields.AwareDateTime(allow_none=True)


@event("report.daily_major", "sla",
       "08:30 list of the open major, group and common-issue complaints to the centre GM, every "
       "day from the escalation on (Art. 33.1)")
class DailyMajorReport(Schema):
    date = fields.Date(required=True)
    slot_at = _time("the job's slot")
    items = fields.List(fields.Nested(MajorItem), required=True)
    to_person_ids = fields.List(fields.String(), required=True)


@event("report.monthly_major", "sla",
       "09:00 on the 1st: the open major, group and common-issue complaints carried over from "
       "last month, to the VP (all) and each chairman (their own), for the monthly meeting "
       "(Art. 32)")
class MonthlyMajorReport(Schema):
    month = fields.String(required=True, metadata=_about("YYYY-MM: the month just ended"))
    date = fields.Date(required=True)
    slot_at = _time("the job's slot")
    items = fields.List(fields.Nested(MajorItem), required=True)
    to_person_ids = fields.List(fields.String(), required=True)


class SlowItem(Schema):
    complaint_id = fields.String(required=True)
    project_id = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    handler_person_id = fields.String(allow_none=True)
    completion_due_at = fields.AwareDateTime(allow_none=True)
    last_progress_at = fields.AwareDateTime(allow_none=True)
    reasons = fields.List(fields.String(), required=True, metadata=_about(
        "no_progress_today, completion_at_risk (due within 24 h)"))


@event("report.daily_slow", "sla",
       "18:30 summary of slow complaints (Art. 26) to the deputy GM")
class DailySlowReport(Schema):
    date = fields.Date(required=True)
    slot_at = _time("the job's slot")
    items = fields.List(fields.Nested(SlowItem), required=True)
    to_person_ids = fields.List(fields.String(), required=True)


class CarryoverDepartment(Schema):
    department = fields.String(allow_none=True)
    count = fields.Integer(required=True)
    complaint_ids = fields.List(fields.String(), required=True)


@event("report.weekly_carryover", "sla",
       "Monday 09:00: last week's unfinished complaints by department, to the GM (Art. 31)")
class WeeklyCarryoverReport(Schema):
    week_start = fields.Date(required=True)
    slot_at = _time("the job's slot")
    departments = fields.List(fields.Nested(CarryoverDepartment), required=True)
    to_person_ids = fields.List(fields.String(), required=True)


@event("monthly_report.due", "sla",
       "00:00 on the 1st: the month's deductions report is due for HR and Finance (Art. 36)")
class MonthlyReportDue(Schema):
    month = fields.String(required=True, metadata=_about("YYYY-MM: the month the report covers"))
    due_at = _time("the slot (00:00 on the 1st, group time zone)")


@event("timers.fired_through", "sla",
       "how far sla has fired: every timer and daily job due at or before `fired_through` has "
       "been fired (penalty cuts a month only behind this mark); published when it moves, "
       "rounded down to a quarter hour, at most every few seconds")
class TimersFiredThrough(Schema):
    fired_through = _time("every timer and daily-job slot due at or before it has fired")
