"""Major, group and common-issue complaints (pure, Art. 32, 33; issue 13).

- Art. 33.2: once the GM flags a complaint (`complaint.escalated`), the
  chairman answering for it holds the major-complaint meeting "at once":
  the `major_meeting` deadline, `escalated_at` + `SLA.major_meeting_hours`
  (24), met by dispatch's `meeting.held`; warned before, escalated to the GM
  when missed. The regulation names no fine for it.
- Art. 33.1: the GM urges the chairmen every day: the `daily_major_list`
  job lists every open flagged complaint to the GM from the first morning
  after the escalation (`major_items`).
- Art. 32: the VP holds a monthly meeting with the companies on last month's
  open flagged complaints: the `monthly_major_list` job on the 1st sends the
  list to the VP and each chairman their own (`major_items`).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from typing import Any

from services.sla.calendar import local_date
from services.sla.decision import Work
from services.sla.model import ARMED, Complaint, Directory, Event, Timer
from services.sla.order_rules import on_intake_facts
from shared import roles

MEETING = "major_meeting"


def meeting_key(complaint_id: str) -> str:
    """One meeting deadline per complaint: flagged again (major -> group) it stays."""
    return f"{complaint_id}:{MEETING}"


def chairman_of(complaint: Complaint, directory: Directory | None) -> str | None:
    """The chairman answering for the complaint (Art. 21, 33.2): the routed
    one, else the directory's (the property company's for property categories)."""
    if complaint.chairman and complaint.chairman.get("person_id"):
        return str(complaint.chairman["person_id"])
    person = directory.chairman(complaint.project_id, complaint.category) \
        if directory is not None else None
    return person.id if person is not None else None


def _meetings_held(work: Work) -> list[Timer]:
    """The minutes deadlines of meetings already held on this complaint (a
    `meeting.held` that reached sla before the escalation did)."""
    return sorted((t for t in work.timers.values() if t.rule == "major_minutes"
                   and t.complaint_id == work.known.id and t.details.get("held_at")),
                  key=lambda t: t.details["held_at"])


def on_complaint_escalated(work: Work, event: Event) -> Work:
    """The GM flagged the complaint: the meeting is due within the setting."""
    on_intake_facts(work, event)
    c = work.known
    if not c.escalated or c.escalated_at is None or work.get(meeting_key(c.id)) is not None:
        return work
    timer = work.arm(MEETING, meeting_key(c.id), c.escalated_at + work.settings.major_meeting,
                     chairman_of(c, work.directory), roles.CHAIRMAN,
                     details={"level": c.escalation_level})
    held = _meetings_held(work)
    if held:
        work.resolve(timer.key, datetime.fromisoformat(held[0].details["held_at"]),
                     held[0].person_id)
    return work


def meeting_held(work: Work, held_at: datetime, chairman_id: str | None) -> None:
    """dispatch's `meeting.held` meets the meeting deadline (a meeting held
    after it fired finalizes the miss with its lateness)."""
    work.resolve(meeting_key(work.known.id), held_at, chairman_id)


def follow_chairman(work: Work) -> None:
    """Re-routed to the chairman (escalation): a pending meeting deadline is his."""
    c = work.known
    timer = work.get(meeting_key(c.id))
    chairman = chairman_of(c, work.directory)
    if timer is not None and timer.state == ARMED and chairman and chairman != timer.person_id:
        work.put(timer.with_(person_id=chairman))


# -- the lists (the daily and monthly jobs) -----------------------------------------------

def major_items(complaints: Iterable[Complaint], directory: Directory | None, today: date,
                zone: tzinfo) -> list[dict[str, Any]]:
    """Every open flagged complaint, oldest escalation first: its level, since
    when (day 1 = the local day of the escalation), the chairman answering for it."""
    items = []
    for c in complaints:
        if not c.escalated:
            continue
        since = local_date(c.escalated_at, zone) if c.escalated_at is not None else today
        items.append({"complaint_id": c.id, "project_id": c.project_id, "room": c.room,
                      "level": c.escalation_level, "escalated_at": c.escalated_at,
                      "days": max(0, (today - since).days) + 1,
                      "chairman_person_id": chairman_of(c, directory),
                      "completion_due_at": c.completion_due_at})
    return sorted(items, key=lambda i: (i["escalated_at"] or datetime.max.replace(tzinfo=zone),
                                        i["complaint_id"]))
