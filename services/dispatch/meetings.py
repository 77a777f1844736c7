"""Major-complaint meetings (Art. 33): the chairman of the responsible company
holds a meeting at once, sets who is responsible, the solution and the date,
and files the minutes with the centre within 24 hours of the meeting.

The minutes may come with the record of the meeting or later
(`file_minutes`); `meeting.minutes_filed` carries when, so the sla service
can see whether the 24 hours were kept. Pure.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from services.dispatch.case import CLOSED, STATES, Case, HistoryEntry, Outcome, case_facts
from services.dispatch.checks import (
    Errors,
    Staff,
    check_media,
    not_after_now,
    raise_errors,
    require_state,
)
from shared.errors import Conflict, Forbidden

MINUTES_WITHIN = timedelta(hours=24)
MINUTES_KINDS = ("minutes",)
OPEN_STATES = tuple(s for s in STATES if s != CLOSED)


@dataclass(frozen=True)
class Meeting:
    id: str
    complaint_id: str
    order_round: int
    chairman_person_id: str
    held_at: datetime
    responsible: str  # who answers for the solution (责任人)
    solution: str
    due_at: datetime  # 整改完成时间
    recorded_by: str
    recorded_at: datetime
    minutes_media_id: str | None = None
    minutes_filed_at: datetime | None = None
    minutes_filed_by: str | None = None

    @property
    def minutes_due_at(self) -> datetime:
        return self.held_at + MINUTES_WITHIN


def _require_chairman(case: Case, staff: Staff, action: str) -> None:
    if case.routing is None:
        raise Conflict(f"投诉 {case.id} 尚未派单，不能{action} (the complaint is not routed yet)")
    if not case.major:
        raise Conflict(f"投诉 {case.id} 不是重大、群体性或共性问题投诉，无需召开专题会议 "
                       "(only a major / group / common-issue complaint has these meetings)")
    chairman = case.routing.chairman
    if staff.person_id != chairman.person_id:
        raise Forbidden(f"只有{case.routing.company_name}董事长（{chairman.name}）可以{action} "
                        "(only the responsible company's chairman)")


def _minutes_filed(case: Case, meeting: Meeting, staff: Staff,
                   now: datetime) -> tuple[tuple[str, dict[str, Any]], HistoryEntry]:
    late = now > meeting.minutes_due_at
    data = dict(case_facts(case), meeting_id=meeting.id, filed_at=now, by=staff.person_id,
                minutes_media_id=meeting.minutes_media_id, held_at=meeting.held_at,
                minutes_due_at=meeting.minutes_due_at, late=late)
    return ("meeting.minutes_filed", data), HistoryEntry(
        now, staff.person_id, "meeting_minutes_filed", case.state, case.state,
        meeting.order_round, meeting.id, details={"late": late})


def record_meeting(case: Case, staff: Staff, form: dict[str, Any], now: datetime,
                   meeting_id: str, media: dict[str, Any]) -> Outcome:
    _require_chairman(case, staff, "登记专题会议")
    require_state(case, OPEN_STATES, "登记专题会议")
    errors: Errors = {}
    not_after_now(form["held_at"], now, "held_at", errors)
    if form["due_at"] <= form["held_at"]:
        errors.setdefault("due_at", []).append("须晚于会议时间 (must be after the meeting)")
    minutes_id = form["minutes_media_id"]
    if minutes_id is not None:
        check_media(media.get(minutes_id), minutes_id, MINUTES_KINDS, "minutes_media_id",
                    case.id, errors)
    raise_errors(errors)
    meeting = Meeting(meeting_id, case.id, case.order_round, staff.person_id, form["held_at"],
                      form["responsible"], form["solution"], form["due_at"], staff.person_id,
                      now)
    data = dict(case_facts(case), meeting_id=meeting.id, held_at=meeting.held_at,
                chairman_person_id=staff.person_id, responsible=meeting.responsible,
                solution=meeting.solution, due_at=meeting.due_at, recorded_at=now,
                minutes_due_at=meeting.minutes_due_at)
    outcome = Outcome(case).add(HistoryEntry(
        now, staff.person_id, "meeting_held", case.state, case.state, case.order_round,
        meeting.id, meeting.solution, {"responsible": meeting.responsible}),
        ("meeting.held", data))
    if minutes_id is not None:
        meeting = replace(meeting, minutes_media_id=minutes_id, minutes_filed_at=now,
                          minutes_filed_by=staff.person_id)
        event, entry = _minutes_filed(case, meeting, staff, now)
        outcome.add(entry, event)
    outcome.records.append(meeting)
    outcome.result = meeting
    return outcome


def file_minutes(case: Case, meeting: Meeting, staff: Staff, form: dict[str, Any],
                 now: datetime, media: dict[str, Any]) -> Outcome:
    _require_chairman(case, staff, "上传会议纪要")
    if meeting.minutes_media_id is not None:
        raise Conflict(f"会议 {meeting.id} 的纪要已上传 (minutes already filed)")
    errors: Errors = {}
    minutes_id = form["minutes_media_id"]
    check_media(media.get(minutes_id), minutes_id, MINUTES_KINDS, "minutes_media_id", case.id,
                errors)
    raise_errors(errors)
    changed = replace(meeting, minutes_media_id=minutes_id, minutes_filed_at=now,
                      minutes_filed_by=staff.person_id)
    event, entry = _minutes_filed(case, changed, staff, now)
    outcome = Outcome(case).add(entry, event, changed)
    outcome.result = changed
    return outcome
