"""What a timer that fell due does (pure): the miss announced (not final
while the step can still be done), escalations, reminders, the overdue day
accrued, the next day's deadline armed."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from services.sla import messages
from services.sla.calendar import as_date, progress_due
from services.sla.closure_rules import arm_overdue_day
from services.sla.decision import Work, late_seconds, missed_data, progress_key
from services.sla.escalation import escalate
from services.sla.model import ARMED, MISSED, Complaint, Directory, Outcome, PersonRef, Timer
from services.sla.notices import FIRE_FOLLOWERS, tell_superior
from services.sla.rules import HANDLER, RULES, Settings, ends_with_complaint, overdue_tier


def fire(timer: Timer, complaint: Complaint | None, now: datetime, settings: Settings,
         directory: Directory | None = None, related: Iterable[Timer] = ()) -> Outcome:
    """The Outcome of `timer` falling due at `now` (it is armed and due).
    `related`: the deadline a warning or an hourly notice follows (read only)."""
    work = Work(complaint, [timer, *(t for t in related if t.key != timer.key)], now,
                settings, directory)
    if timer.state != ARMED:
        return work.outcome()
    if complaint is not None and complaint.voided:
        work.void(timer, "voided")       # (voiding cancelled it; a race left it armed)
        return work.outcome()
    if complaint is not None and ends_with_complaint(timer.rule, timer.details) \
            and complaint.closed:
        work.cancel(timer, "closed")
        return work.outcome()
    FIRE.get(timer.rule, fire_step)(work, timer, complaint)
    return work.outcome()


def missed(work: Work, timer: Timer, person_id: str | None = None, role: str | None = None,
           final: bool = False) -> Timer:
    """Mark the timer missed now and announce it."""
    timer = timer.with_(state=MISSED, fired_at=work.now, settled=final,
                        person_id=person_id if person_id is not None else timer.person_id,
                        role=role or timer.role,
                        late_seconds=late_seconds(work.now, timer.due_at))
    work.put(timer)
    if RULES[timer.rule].announce:
        work.emit("deadline.missed", missed_data(timer, timer.person_id, timer.role,
                                                 timer.late_seconds, final=final),
                  timer.complaint_id)
    return timer


def fire_step(work: Work, timer: Timer, complaint: Complaint | None) -> None:
    """A step not done by its deadline: announced now (final once it is done,
    or when the complaint closes); escalated where SPEC §4 says so."""
    person, role = timer.person_id, timer.role
    if timer.rule == "order_sign" and complaint is not None and complaint.current_holder:
        holder = complaint.current_holder     # whoever holds the order now
        person, role = holder.get("person_id"), holder.get("role")
    timer = missed(work, timer, person, role)
    tell_superior(work, timer, complaint)
    if RULES[timer.rule].escalate_to:
        responsible = _responsible(timer, complaint, work.directory)
        escalate(work, timer, complaint, responsible,
                 "请督促处理。" if complaint else "请督促责任人尽快完成。")
    if timer.rule == "visit" and complaint is not None:
        work.send(messages.visit_overdue_reminder(complaint.handler, complaint, timer.due_at,
                                                  work.settings))


def _responsible(timer: Timer, complaint: Complaint | None,
                 directory: Directory | None) -> PersonRef | None:
    if complaint is not None and timer.role == HANDLER:
        return complaint.handler
    person = directory.person(timer.person_id) if directory is not None else None
    if person is not None:
        return person.contact()
    return {"person_id": timer.person_id, "name": None}


def fire_completion(work: Work, timer: Timer, complaint: Complaint | None) -> None:
    """The completion deadline passed (Art. 25, 36): overdue day 1 starts now."""
    missed(work, timer)
    if complaint is not None and complaint.in_work:
        arm_overdue_day(work, complaint, timer.due_at, 1)


def fire_progress(work: Work, timer: Timer, complaint: Complaint | None) -> None:
    """18:00 passed without the day's progress (Art. 26, 35): that day is
    missed for good; the next day's check is armed while the work goes on."""
    if complaint is None or not complaint.in_work:
        work.cancel(timer, "not_in_work")
        return
    timer = missed(work, timer, final=True)
    tell_superior(work, timer, complaint)
    day = _next_day(timer)
    work.arm("progress", progress_key(complaint, day), progress_due(day, work.settings),
             complaint.handler_id, HANDLER, details={"day": day.isoformat()})


def _next_day(timer: Timer) -> date:
    return date.fromisoformat(timer.details["day"]) + timedelta(days=1)


def fire_overdue(work: Work, timer: Timer, complaint: Complaint | None) -> None:
    """One more started 24 h past the completion deadline (Art. 36): the day
    accrues with its tier; day 16 opens the sanction case once."""
    if complaint is None or not complaint.in_work:
        work.cancel(timer, "not_in_work")
        return
    day, settings = timer.details["day"], work.settings
    timer = timer.with_(state=MISSED, fired_at=work.now, settled=True,
                        person_id=complaint.handler_id,
                        late_seconds=late_seconds(work.now, timer.due_at))
    work.put(timer)
    common = {
        "complaint_id": complaint.id, "timer_id": timer.id, "day": day,
        "handler_person_id": complaint.handler_id,
        "leader_person_ids": complaint.leader_ids,
        "leaders": [{"person_id": leader.get("person_id"), "role": leader.get("role")}
                    for leader in complaint.leaders],
        "day_started_at": timer.due_at,
        "completion_due_at": complaint.completion_due_at,
    }
    work.emit("overdue.accrued", dict(common, tier=overdue_tier(day, settings)), complaint.id)
    if day in (1, settings.overdue_tier1_last_day + 1, settings.sanction_day):
        # Each tier's first day: the supervising leader is told (Art. 36).
        tell_superior(work, timer, complaint, day=day)
    if day == settings.sanction_day:
        work.emit("overdue.sanction_due", common, complaint.id)
    due = timer.details.get("completion_due_at")
    completion_due = datetime.fromisoformat(due) if due else complaint.completion_due_at
    assert completion_due is not None, "an overdue day counts from a completion deadline"
    arm_overdue_day(work, complaint, completion_due, day + 1,
                    timer.details.get("generation", 0))


def fire_rotation(work: Work, timer: Timer, complaint: Complaint | None) -> None:
    """Art. 43: tell the centre GM a specialist is due to rotate."""
    timer = timer.with_(state=MISSED, fired_at=work.now, settled=True,
                        late_seconds=late_seconds(work.now, timer.due_at))
    work.put(timer)
    details = timer.details
    directory = work.directory
    person = directory.person(timer.person_id) if directory else None
    specialist = (person.contact() if person is not None
                  else {"person_id": timer.person_id, "name": details.get("name")})
    project_name = directory.project_name(details.get("project_id")) if directory else \
        details.get("project_id")
    gms = directory.contacts("centre_gm") if directory else []
    assigned_on = as_date(details["assigned_on"])
    work.emit("rotation.due", {
        "timer_id": timer.id, "person_id": timer.person_id,
        "project_id": details.get("project_id"), "assigned_on": assigned_on,
        "due_on": as_date(details["due_on"]),
        "to_person_ids": [p["person_id"] for p in gms]})
    if not gms:
        work.problem("missing_data", "轮岗提醒无人可报：中心总经理空缺或组织架构未加载 "
                                     "(no centre GM to tell about a rotation)")
    for gm in gms:
        work.send(messages.rotation_due(gm, specialist, project_name, assigned_on,
                                        work.settings))


FIRE: dict[str, Callable[[Work, Timer, Complaint | None], None]] = {
    **FIRE_FOLLOWERS,
    "completion": fire_completion,
    "progress": fire_progress,
    "overdue": fire_overdue,
    "rotation": fire_rotation,
}
