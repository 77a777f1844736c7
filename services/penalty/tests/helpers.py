"""Shared facts of the penalty tests: the real rules, the group's zone, and
sla's events as sla publishes them (data dicts with aware datetimes)."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.penalty.rules import load_rulebook

ZONE = ZoneInfo("Asia/Shanghai")
CID = "C-GZ-2026-000001"          # the complaint the service tests charge for
BOOK = load_rulebook()


def at(text):
    """'2026-11-03 10:00' in the group's time zone."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)


def missed(rule, due_at, late_seconds, person="p01-spec-1", timer="t-1", final=True,
           done=True, role="specialist", intervals=None):
    return {"timer_id": timer, "rule": rule, "article": "14, 18", "person_id": person,
            "role": role, "due_at": due_at,
            "done_at": due_at + timedelta(seconds=late_seconds) if done and final else None,
            "late_seconds": late_seconds, "final": final, "holder_intervals": intervals}


def overdue(day, completion_due_at, handler="rcgz-mkt-head",
            leaders=("rcgz-vp-mkt",), timer=None):
    return {"complaint_id": "C-GZ-2026-000001", "timer_id": timer or f"od-{day}", "day": day,
            "tier": 1 if day <= 7 else 2 if day <= 15 else 3, "handler_person_id": handler,
            "leader_person_ids": list(leaders),
            "leaders": [{"person_id": leader, "role": "supervising_leader"} for leader in leaders],
            "day_started_at": completion_due_at + timedelta(days=day - 1),
            "completion_due_at": completion_due_at}
