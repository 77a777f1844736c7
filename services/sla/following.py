"""The timers that follow a deadline (pure, issue 13): the warning before it
is due (`deadline_warning`) and the hourly notice of a running per-5-minute
fine (`running_fine`). `follow(work)` keeps them in step with the deadlines a
decision changed: a deadline armed (or moved) gets its warning; one done,
cancelled or missed ends its warning; an open miss of a running fine gets
its first hourly notice, a final one ends them. What they send when they fire
is notices.py."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from services.sla.calendar import at_local
from services.sla.model import ARMED, MISSED, Timer
from services.sla.rules import FOLLOWERS, MONEY_RULES, RUNNING_RULES, WARNED_RULES, Settings

if TYPE_CHECKING:
    from services.sla.decision import Work

WARNING, RUNNING = "deadline_warning", "running_fine"


def warning_at(target: Timer, settings: Settings) -> datetime | None:
    """When the warning of `target` goes: its lead before the deadline, or
    for a progress day that day's warning time (16:00)."""
    if target.rule == "progress":
        day = target.details.get("day")
        if not day:
            return None
        return at_local(date.fromisoformat(str(day)), settings.progress_warning_at,
                        settings.zone)
    lead = settings.warning_lead(target.rule)
    return target.due_at - lead if lead is not None else None


def _instant(value: datetime) -> str:
    """A time as UTC text: the same instant reads the same from an event or a row."""
    return value.astimezone(UTC).isoformat()


def follows_due(follower: Timer, target: Timer) -> bool:
    """The follower was armed for the target's current due time."""
    return follower.details.get("due_at") == _instant(target.due_at)


def warning_key(target: Timer) -> str:
    """One warning per deadline and due time: a moved deadline is warned again."""
    return f"{target.key}:warning:{_instant(target.due_at)}"


def running_key(target: Timer, n: int) -> str:
    return f"{target.key}:running:{n}"


def followers_of(work: Work, key: str) -> list[Timer]:
    return [t for t in work.timers.values()
            if t.rule in FOLLOWERS and t.details.get("target") == key and not t.settled]


def arm_warning(work: Work, target: Timer) -> Timer | None:
    """Armed with the deadline; a deadline armed after its warning time
    (an event that came late, a completion due within a day) is warned at once."""
    at = warning_at(target, work.settings)
    if at is None or target.due_at <= work.now or at >= target.due_at:
        return None
    return work.arm(WARNING, warning_key(target), max(at, work.now), target.person_id,
                    target.role, complaint=target.complaint_id is not None,
                    details=_follows(target))


def arm_running(work: Work, target: Timer, n: int) -> Timer:
    """The n-th hourly notice of a fine still running n hours after its deadline."""
    return work.arm(RUNNING, running_key(target, n),
                    target.due_at + n * work.settings.running_fine_every, target.person_id,
                    target.role, complaint=target.complaint_id is not None,
                    details=dict(_follows(target), n=n))


def _follows(target: Timer) -> dict[str, object]:
    return {"target": target.key, "for_rule": target.rule, "article": target.article,
            "due_at": _instant(target.due_at)}


def follow(work: Work) -> None:
    """Bring the followers of every deadline this decision changed in step;
    a money rule settled late before its timer fired (its event came first)
    is told to the holder's superior as a fired miss would have been."""
    unfired: list[Timer] = []
    for key, timer in list(work.timers.items()):
        before = work.original.get(key)
        if timer.rule in FOLLOWERS or before == timer:
            continue
        if before is not None and before.state == ARMED and timer.state == MISSED \
                and timer.settled and timer.done_at is not None and timer.rule in MONEY_RULES:
            unfired.append(timer)
        followers = followers_of(work, key)
        if timer.state == ARMED:
            for follower in followers:
                if follower.rule == WARNING and not follows_due(follower, timer):
                    work.cancel(follower, "deadline_moved")
            moved = before is None or before.state != ARMED or before.due_at != timer.due_at
            if timer.rule in WARNED_RULES and moved:
                arm_warning(work, timer)
            continue
        for follower in followers:
            if follower.rule == WARNING or timer.settled or timer.state != MISSED:
                work.cancel(follower, "deadline_done" if timer.done_at else "deadline_ended")
        if timer.state == MISSED and not timer.settled and timer.rule in RUNNING_RULES:
            arm_running(work, timer, 1)
    if unfired:
        from services.sla.notices import tell_superior  # (notices builds on this module)
        for timer in unfired:
            tell_superior(work, timer, work.complaint)
