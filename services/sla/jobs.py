"""The daily jobs of SPEC §4 (pure): each is run once for its slot with the
open complaints and the directory, and says what to send and announce."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from services.sla import messages
from services.sla.calendar import at_local, local_date, previous_month, week_start
from services.sla.major_rules import major_items
from services.sla.model import Complaint, Directory, Emit, Outcome, PersonRef
from services.sla.rules import Settings, overdue_tier
from shared import roles

Complaints = Sequence[Complaint]


def run_job(job: str, slot_day: date, slot_at: datetime, complaints: Complaints,
            directory: Directory | None, now: datetime, settings: Settings) -> Outcome:
    out = Outcome()
    JOBS[job](out, slot_day, slot_at, complaints, directory, now, settings)
    return out


def _emit(out: Outcome, event_type: str, data: dict[str, Any], now: datetime,
          complaint_id: str | None = None) -> None:
    out.events.append(Emit(event_type, data, now, complaint_id))


def _need(out: Outcome, directory: Directory | None, role: str, what: str) -> list[PersonRef]:
    people = directory.contacts(role) if directory else []
    if not people:
        out.problems.append(("missing_data", f"{what}无人接收：{roles.LABELS_ZH.get(role, role)}"
                                             "空缺或组织架构未加载 (post vacant or no directory)"))
    return people


def daily_reminder(out: Outcome, slot_day: date, slot_at: datetime, complaints: Complaints,
                   directory: Directory | None, now: datetime, settings: Settings) -> None:
    """09:30 (Art. 19): one SMS per recipient (handler, leaders, chairman)
    listing every signed, unfinished complaint they answer for; a specialist's
    lists their complaints still 客户未签名 (Art. 13, issue 13)."""
    by_person: dict[str, tuple[PersonRef, list[Complaint], list[Complaint]]] = {}
    for c in sorted((c for c in complaints if c.in_work), key=lambda c: c.id):
        for person in c.recipients():
            by_person.setdefault(person["person_id"], (person, [], []))[1].append(c)
    for c in sorted((c for c in complaints if c.unsigned and c.specialist_id),
                    key=lambda c: c.id):
        known = directory.person(c.specialist_id) if directory else None
        person = known.contact() if known is not None else {
            "person_id": c.specialist_id, "name": None, "mobile": None}
        by_person.setdefault(person["person_id"], (person, [], []))[2].append(c)
    for person_id, (person, listed, unsigned) in sorted(by_person.items()):
        message = messages.daily_reminder(person, listed, directory, settings, unsigned)
        out.messages.append(message)
        _emit(out, "reminder.sent", {
            "recipient_person_id": person_id, "slot_at": slot_at,
            "complaint_ids": [c.id for c in listed],
            "unsigned_complaint_ids": [c.id for c in unsigned]}, now)


def days_overdue(completion_due_at: datetime | None, now: datetime) -> int:
    """Started 24 h periods since the deadline: 1 s past it is day 1."""
    if completion_due_at is None or now <= completion_due_at:
        return 0
    return math.floor((now - completion_due_at) / timedelta(days=1)) + 1


def overdue_items(complaints: Complaints, now: datetime,
                  settings: Settings) -> list[dict[str, Any]]:
    items = []
    for c in complaints:
        days = days_overdue(c.completion_due_at, now) if c.in_work else 0
        if days:
            items.append({"complaint_id": c.id, "project_id": c.project_id,
                          "department": c.department, "handler_person_id": c.handler_id,
                          "leader_person_ids": c.leader_ids,
                          "chairman_person_id": (c.chairman or {}).get("person_id"),
                          "completion_due_at": c.completion_due_at,
                          "days_overdue": days, "tier": overdue_tier(days, settings)})
    return sorted(items, key=lambda i: (-i["days_overdue"], i["complaint_id"]))


def daily_overdue_summary(out: Outcome, slot_day: date, slot_at: datetime, complaints: Complaints,
                          directory: Directory | None, now: datetime, settings: Settings) -> None:
    """08:30 (Art. 30): overdue complaints to the deputy GM; those past 15
    days also to the GM and to the chairman answering for each."""
    items = overdue_items(complaints, now, settings)
    serious = [i for i in items if i["days_overdue"] > settings.overdue_tier2_last_day]
    sends = {}   # person_id -> (person, items listed, serious only)
    if items:
        for person in _need(out, directory, roles.CENTRE_DEPUTY_GM, "超期汇总"):
            sends[person["person_id"]] = (person, items, False)
    if serious:
        for person in _need(out, directory, roles.CENTRE_GM, "严重超期汇总"):
            sends.setdefault(person["person_id"], (person, serious, True))
        chairmen = {c.id: c.chairman for c in complaints if c.chairman}
        for item in serious:
            chairman = chairmen.get(item["complaint_id"]) or {}
            if chairman.get("person_id") and chairman["person_id"] not in sends:
                own = [i for i in serious if i["chairman_person_id"] == chairman["person_id"]]
                sends[chairman["person_id"]] = (chairman, own, True)
    for _person_id, (person, listed, serious_only) in sorted(sends.items()):
        out.messages.append(messages.overdue_summary(person, slot_day, listed, settings,
                                                     serious_only=serious_only))
    _emit(out, "report.daily_overdue", {
        "date": slot_day, "slot_at": slot_at, "items": items,
        "serious_count": len(serious), "to_person_ids": sorted(sends)}, now)


def daily_slow_summary(out: Outcome, slot_day: date, slot_at: datetime, complaints: Complaints,
                       directory: Directory | None, now: datetime, settings: Settings) -> None:
    """18:30 (Art. 26): complaints with no progress today or projected to
    miss their completion deadline, to the deputy GM."""
    zone = settings.zone
    items = []
    for c in sorted((c for c in complaints if c.in_work), key=lambda c: c.id):
        reasons = []
        started = c.first_routed_at or c.routed_signed_at
        signed_day = local_date(started, zone) if started else slot_day
        progressed = c.last_progress_at is not None and local_date(c.last_progress_at,
                                                                   zone) == slot_day
        if signed_day < slot_day and not progressed:
            reasons.append("no_progress_today")
        if c.completion_due_at is not None and now < c.completion_due_at <= now + timedelta(
                days=1):
            reasons.append("completion_at_risk")
        if reasons:
            items.append({"complaint_id": c.id, "project_id": c.project_id,
                          "department": c.department, "handler_person_id": c.handler_id,
                          "completion_due_at": c.completion_due_at,
                          "last_progress_at": c.last_progress_at, "reasons": reasons})
    recipients = _need(out, directory, roles.CENTRE_DEPUTY_GM, "进展缓慢汇总") if items else []
    for person in recipients:
        out.messages.append(messages.slow_summary(person, slot_day, items, settings))
    _emit(out, "report.daily_slow", {
        "date": slot_day, "slot_at": slot_at, "items": items,
        "to_person_ids": [p["person_id"] for p in recipients]}, now)


def weekly_carryover(out: Outcome, slot_day: date, slot_at: datetime, complaints: Complaints,
                     directory: Directory | None, now: datetime, settings: Settings) -> None:
    """Monday 09:00 (Art. 31): last week's unfinished complaints by
    department, to the GM."""
    start = at_local(week_start(slot_day), datetime.min.time(), settings.zone)
    departments: dict[str | None, list[str]] = {}
    for c in sorted(complaints, key=lambda c: c.id):
        if c.closed or c.routed_signed_at is None or c.routed_signed_at >= start:
            continue
        departments.setdefault(c.department, []).append(c.id)
    listed = [{"department": d, "count": len(ids), "complaint_ids": ids}
              for d, ids in sorted(departments.items(), key=lambda kv: (kv[0] or ""))]
    recipients = _need(out, directory, roles.CENTRE_GM, "每周遗留投诉清单")
    for person in recipients:
        out.messages.append(messages.weekly_carryover(person, week_start(slot_day), listed,
                                                      settings))
    _emit(out, "report.weekly_carryover", {
        "week_start": week_start(slot_day), "slot_at": slot_at, "departments": listed,
        "to_person_ids": [p["person_id"] for p in recipients]}, now)


def monthly_report(out: Outcome, slot_day: date, slot_at: datetime, complaints: Complaints,
                   directory: Directory | None, now: datetime, settings: Settings) -> None:
    """00:00 on the 1st (Art. 36): the previous month's deductions report is due."""
    _emit(out, "monthly_report.due", {"month": previous_month(slot_day), "due_at": slot_at}, now)


def daily_major_list(out: Outcome, slot_day: date, slot_at: datetime, complaints: Complaints,
                     directory: Directory | None, now: datetime, settings: Settings) -> None:
    """08:30 (Art. 33.1): every open major, group or common-issue complaint, to
    the GM, every day from the escalation on (day 1 = the day it was flagged)."""
    items = major_items(complaints, directory, slot_day, settings.zone)
    recipients = _need(out, directory, roles.CENTRE_GM, "重大投诉督办清单") if items else []
    for person in recipients:
        out.messages.append(messages.major_list(person, slot_day, items, settings,
                                                monthly=False))
    _emit(out, "report.daily_major", {
        "date": slot_day, "slot_at": slot_at, "items": items,
        "to_person_ids": [p["person_id"] for p in recipients]}, now)


def monthly_major_list(out: Outcome, slot_day: date, slot_at: datetime,
                       complaints: Complaints, directory: Directory | None, now: datetime,
                       settings: Settings) -> None:
    """09:00 on the 1st (Art. 32): the open major, group and common-issue
    complaints carried over from last month, for the VP's monthly meeting with
    the companies: the whole list to the VP, each chairman their own."""
    items = major_items(complaints, directory, slot_day, settings.zone)
    sends: dict[str, tuple[PersonRef, list[dict[str, Any]], bool]] = {}
    if items:
        for person in _need(out, directory, roles.VP, "重大投诉月度清单"):
            sends[person["person_id"]] = (person, items, False)
    for item in items:
        chairman = item["chairman_person_id"]
        if chairman and chairman not in sends:
            known = directory.person(chairman) if directory else None
            person = known.contact() if known is not None else {
                "person_id": chairman, "name": None, "mobile": None}
            own = [i for i in items if i["chairman_person_id"] == chairman]
            sends[chairman] = (person, own, True)
    for _person_id, (person, listed, chairman) in sorted(sends.items()):
        out.messages.append(messages.major_list(person, slot_day, listed, settings,
                                                monthly=True, chairman=chairman))
    _emit(out, "report.monthly_major", {
        "month": previous_month(slot_day), "date": slot_day, "slot_at": slot_at,
        "items": items, "to_person_ids": sorted(sends)}, now)


Job = Callable[[Outcome, date, datetime, Complaints, Directory | None, datetime, Settings], None]
JOBS: dict[str, Job] = {
    "daily_reminder": daily_reminder,
    "daily_overdue_summary": daily_overdue_summary,
    "daily_slow_summary": daily_slow_summary,
    "weekly_carryover": weekly_carryover,
    "monthly_report": monthly_report,
    "daily_major_list": daily_major_list,
    "monthly_major_list": monthly_major_list,
}
