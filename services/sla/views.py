"""How sla's rows read to a person (pure): a complaint's deadlines, each met
or missed and by how much."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.sla.jobs import overdue_items
from services.sla.model import ARMED, CANCELLED, MET, MISSED, Complaint, Timer
from services.sla.rules import FOLLOWERS, RULES, Settings
from shared import roles

ROLE_ZH = dict(roles.LABELS_ZH, handler="责任人（第一责任部门一把手）", system="系统")


def duration_zh(seconds: int | None) -> str:
    """`12分钟`, `1小时5分钟`, `2天3小时` (started minutes count: 61 s = 2分钟)."""
    seconds = int(seconds or 0)
    if seconds < 60:
        return f"{seconds}秒"
    minutes = -(-seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts: list[str] = []
    if days:
        parts.append(f"{days}天")
    if hours:
        parts.append(f"{hours}小时")
    if minutes and not days:
        parts.append(f"{minutes}分钟")
    return "".join(parts) or "0分钟"


def summary_zh(timer: Timer) -> str:
    charges = timer.details.get("charges") or []
    if timer.state == MET:
        return "按时完成 (met)"
    if timer.state == CANCELLED:
        reason = timer.details.get("withdrawn") or timer.details.get("cancelled") or ""
        return f"已取消 (cancelled{': ' + reason if reason else ''})"
    if timer.state == ARMED:
        return "进行中 (armed)"
    if timer.rule == "overdue":
        return f"超期第{timer.details.get('day')}天 (overdue day {timer.details.get('day')})"
    if timer.done_at is None:
        text = f"已超时{duration_zh(timer.late_seconds)}，尚未完成 (missed, not done)"
        return text
    text = f"超时{duration_zh(timer.late_seconds)}完成 (late by {timer.late_seconds} s)"
    if len(charges) > 1:
        split = "，".join(f"{ROLE_ZH.get(c['role'], c['role'])} {c['person_id']} "
                          f"{duration_zh(c['late_seconds'])}" for c in charges)
        text += f"：{split}"
    return text


def timer_view(timer: Timer) -> dict[str, Any]:
    charges = [{"person_id": c.get("person_id"), "role": c.get("role"),
                "late_seconds": c.get("late_seconds")}
               for c in timer.details.get("charges") or []]
    return {
        "timer_id": timer.id, "rule": timer.rule, "label": RULES[timer.rule].label_zh,
        "article": timer.article, "person_id": timer.person_id, "role": timer.role,
        "due_at": timer.due_at, "state": timer.state, "done_at": timer.done_at,
        "late_seconds": timer.late_seconds, "final": timer.settled,
        "summary": summary_zh(timer), "charges": charges,
        "day": timer.details.get("day"),
    }


def is_shown(timer: Timer) -> bool:
    """Internal rows (a cancelled overdue day that never started, the
    warnings and hourly notices that follow a deadline) stay out."""
    if timer.rule in FOLLOWERS:
        return False
    return not (timer.rule == "overdue" and timer.state == CANCELLED
                and not timer.details.get("withdrawn")) and timer.state in (
        ARMED, MET, MISSED, CANCELLED)


def overdue_page(complaints: Sequence[Complaint], now: datetime, settings: Settings,
                 limit: int, offset: int) -> dict[str, Any]:
    """`list_overdue`'s answer: the complaints in work past their completion
    deadline, counted as the 08:30 summary counts them (jobs.overdue_items),
    most days first, one page; times in the group's zone."""
    items = overdue_items([c for c in complaints if c.in_work], now, settings)
    page = [dict(item, completion_due_at=item["completion_due_at"].astimezone(settings.zone))
            for item in items[offset:offset + limit]]
    return {"as_of": now.astimezone(settings.zone), "total": len(items), "limit": limit,
            "offset": offset, "items": page}
