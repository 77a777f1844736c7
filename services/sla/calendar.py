"""Local-time arithmetic of the group's time zone (pure)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from services.sla.rules import MONTHLY_JOBS

if TYPE_CHECKING:
    from services.sla.rules import Settings


def local_date(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def at_local(day: date, clock_time: time, zone: tzinfo) -> datetime:
    """The aware instant of `clock_time` on local `day` (DST-safe via zoneinfo)."""
    return datetime.combine(day, clock_time, tzinfo=zone)


def progress_due(day: date, settings: Settings) -> datetime:
    return at_local(day, settings.progress_at, settings.zone)


def first_progress_day(signed_at: datetime, settings: Settings) -> date:
    """Every calendar day after the day the order was signed (SPEC §4)."""
    return local_date(signed_at, settings.zone) + timedelta(days=1)


def latest_slot(job: str, now: datetime, settings: Settings) -> tuple[date, datetime]:
    """(slot date, slot instant) of the job's most recent slot at or before `now`."""
    zone = settings.zone
    today = local_date(now, zone)
    at = settings.daily_time(job)
    if job == "weekly_carryover":
        day = today - timedelta(days=(today.weekday() - settings.weekly_carryover_weekday) % 7)
        slot = at_local(day, at, zone)
        if slot > now:
            day -= timedelta(days=7)
    elif job in MONTHLY_JOBS:
        day = today.replace(day=1)
        slot = at_local(day, at, zone)
        if slot > now:
            day = (day - timedelta(days=1)).replace(day=1)
    else:
        day = today
        if at_local(day, at, zone) > now:
            day -= timedelta(days=1)
    return day, at_local(day, at, zone)


def next_slot_day(job: str, day: date) -> date:
    if job == "weekly_carryover":
        return day + timedelta(days=7)
    if job in MONTHLY_JOBS:
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def previous_month(first_of_month: date) -> str:
    """'2026-11' for the slot of 2026-12-01: the month the report covers."""
    last = first_of_month - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
