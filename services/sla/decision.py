"""The working state of one decision (pure): the complaint and its timers as
the rules change them, and what to announce. Each rule family
(order_rules, department_rules, closure_rules, claim_rules, firing,
organisation) works on a `Work`; `outcome()` gives only what changed.

Timer keys name the deadline (complaint, order round, rule, and the day,
visit, application, claim or meeting), so an event applied twice, or a
re-routing, never arms the same deadline twice.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from services.sla.following import follow
from services.sla.model import (
    CANCELLED,
    MET,
    MISSED,
    Complaint,
    Directory,
    Emit,
    Message,
    Outcome,
    Park,
    PersonRef,
    Timer,
    new_timer_id,
)
from services.sla.rules import RULES, Settings

# (person_id, role, late_seconds, [{from, to, late_seconds}] or None): one person's
# share of a missed deadline.
Charge = tuple[str | None, str | None, int, list[dict[str, Any]] | None]

REASON_LATE_EVENT = "步骤已按时完成，事件晚于时限到达 (done in time; its event arrived late)"


def late_seconds(done_at: datetime, due_at: datetime) -> int:
    """Seconds past the deadline, rounded up: 0.2 s late is 1 s late (a started block)."""
    late = (done_at - due_at).total_seconds()
    return max(0, math.ceil(late))


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# -- keys -----------------------------------------------------------------------

def round_key(complaint: Complaint, rule: str) -> str:
    return f"{complaint.id}:r{complaint.order_round}:{rule}"


def progress_key(complaint: Complaint, day: date) -> str:
    return f"{complaint.id}:r{complaint.order_round}:progress:{day.isoformat()}"


def overdue_key(complaint_id: str, order_round: int, day: int) -> str:
    return f"{complaint_id}:r{order_round}:overdue:{day}"


# -- the order's holders (order_sign) ---------------------------------------------

def split_holders(holders: Iterable[PersonRef], due_at: datetime,
                  done_at: datetime) -> list[Charge]:
    """Each holder is charged for their own time past the deadline (SPEC §4
    choice): [(person_id, role, late_seconds, [{from, to, late_seconds}])],
    one entry per person, in the order they first held it late."""
    charged: dict[str | None, list[dict[str, Any]]] = {}
    roles_of: dict[str | None, str | None] = {}
    for holder in holders:
        start = max(holder["from"], due_at)
        end = min(holder.get("to") or done_at, done_at)
        if end <= start:
            continue
        person = holder.get("person_id")
        roles_of.setdefault(person, holder.get("role"))
        charged.setdefault(person, []).append(
            {"from": start, "to": end, "late_seconds": late_seconds(end, start)})
    return [(person, roles_of[person], sum(i["late_seconds"] for i in intervals), intervals)
            for person, intervals in charged.items()]


# -- working state of one decision -----------------------------------------------

class Work:
    """A decision in progress: the complaint and its timers as they change,
    and what to announce. `outcome()` gives only what changed."""

    def __init__(self, complaint: Complaint | None, timers: Iterable[Timer], now: datetime,
                 settings: Settings, directory: Directory | None = None) -> None:
        self.complaint = complaint
        self._complaint0 = complaint
        self.original = {t.key: t for t in timers}
        self.timers = dict(self.original)
        self.now = now
        self.settings = settings
        self.directory = directory
        self.out = Outcome()

    # - complaint and timers

    def change(self, **changes: Any) -> None:
        self.complaint = replace(self.known, **changes)

    @property
    def known(self) -> Complaint:
        """The complaint, where the rule has made sure there is one."""
        assert self.complaint is not None, "the rule needs a known complaint"
        return self.complaint

    def get(self, key: str) -> Timer | None:
        return self.timers.get(key)

    def put(self, timer: Timer) -> None:
        self.timers[timer.key] = timer

    def open_timers(self, rule: str | None = None) -> list[Timer]:
        return sorted((t for t in self.timers.values()
                       if not t.settled and (rule is None or t.rule == rule)),
                      key=lambda t: (t.due_at, t.key))

    def arm(self, rule_code: str, key: str, due_at: datetime, person_id: str | None = None,
            role: str | None = None, details: dict[str, Any] | None = None,
            complaint: bool = True) -> Timer:
        """Arm a deadline once: an existing key is returned unchanged."""
        existing = self.timers.get(key)
        if existing is not None:
            return existing
        rule = RULES[rule_code]
        c = self.complaint if complaint else None
        timer = Timer(id=new_timer_id(), key=key, rule=rule_code, article=rule.article,
                      due_at=due_at, armed_at=self.now,
                      complaint_id=c.id if c else None,
                      order_round=c.order_round if c else None, person_id=person_id,
                      role=role or rule.role, details=details or {})
        self.put(timer)
        if rule.announce:
            self.emit("deadline.armed", armed_data(timer), timer.complaint_id)
        return timer

    # - announcements

    def emit(self, event_type: str, data: dict[str, Any],
             complaint_id: str | None = None) -> None:
        self.out.events.append(Emit(event_type, data, self.now, complaint_id))

    def send(self, message: Message | None) -> None:
        if message is not None:
            self.out.messages.append(message)

    def provide(self, token: str) -> None:
        self.out.provides.append(token)

    def problem(self, kind: str, message: str) -> None:
        self.out.problems.append((kind, message))

    def park(self, waiting_for: str, kind: str, message: str) -> Outcome:
        self.out.park = Park(waiting_for, kind, message)
        return self.out

    # - resolving deadlines

    def resolve(self, key: str, done_at: datetime, person_id: str | None = None,
                role: str | None = None, charges: list[Charge] | None = None,
                details: dict[str, Any] | None = None) -> Timer | None:
        """The step was done at `done_at`: met, or missed and final (with the
        lateness; `charges` splits it between people)."""
        timer = self.timers.get(key)
        if timer is None:
            return None
        if timer.settled:
            if timer.state == MISSED and timer.done_at is None and done_at <= timer.due_at:
                return self._withdraw(timer, done_at, person_id)
            return timer
        rule = RULES[timer.rule]
        extra = dict(timer.details, **(details or {}))
        if done_at <= timer.due_at:
            if timer.state == MISSED and rule.announce:
                # The miss announced when it fell due was wrong: the step's
                # event reached sla after the deadline fired.
                self._withdrawn_event(timer, done_at, REASON_LATE_EVENT)
            timer = timer.with_(state=MET, done_at=done_at, late_seconds=0, settled=True,
                                person_id=person_id or timer.person_id,
                                role=role or timer.role, details=extra)
            self.put(timer)
            if rule.announce:
                self.emit("deadline.met", met_data(timer), timer.complaint_id)
            return timer
        late = late_seconds(done_at, timer.due_at)
        if charges is None:
            charges = [(timer.person_id, timer.role, late, None)]
        extra["charges"] = [{"person_id": p, "role": r, "late_seconds": s, "intervals": i}
                            for p, r, s, i in charges]
        timer = timer.with_(state=MISSED, done_at=done_at, late_seconds=late, settled=True,
                            fired_at=timer.fired_at or self.now, details=extra)
        self.put(timer)
        if rule.announce:
            for person, person_role, seconds_late, intervals in charges:
                self.emit("deadline.missed", missed_data(
                    timer, person, person_role, seconds_late, final=True,
                    intervals=intervals), timer.complaint_id)
        return timer

    def _withdraw(self, timer: Timer, done_at: datetime, person_id: str | None) -> Timer:
        """A miss announced as final turns out to be wrong: the step was done
        in time but its event arrived after the deadline fired."""
        self._withdrawn_event(timer, done_at, REASON_LATE_EVENT)
        timer = timer.with_(state=MET, done_at=done_at, late_seconds=0,
                            details=dict(timer.details, withdrawn_at=iso(self.now)))
        self.put(timer)
        self.emit("deadline.met", met_data(timer), timer.complaint_id)
        return timer

    def _withdrawn_event(self, timer: Timer, done_at: datetime | None, reason: str) -> None:
        self.emit("deadline.withdrawn", {
            "timer_id": timer.id, "rule": timer.rule, "article": timer.article,
            "person_id": timer.person_id, "role": timer.role, "due_at": timer.due_at,
            "done_at": done_at, "reason": reason}, timer.complaint_id)

    def cancel(self, timer: Timer, reason: str) -> Timer:
        """The deadline no longer applies. An open miss is finalized instead
        (it was missed while it applied), unless `void` is used."""
        if timer.settled:
            return timer
        if timer.state == MISSED:
            return self.finalize(timer, reason)
        return self.void(timer, reason)

    def void(self, timer: Timer, reason: str) -> Timer:
        """The deadline no longer applies, and neither does an open (not
        final) miss of it: announced as cancelled."""
        if timer.settled:
            return timer
        announced_miss = timer.state == MISSED
        timer = timer.with_(state=CANCELLED, settled=True,
                            details=dict(timer.details, cancelled=reason))
        self.put(timer)
        if announced_miss and RULES[timer.rule].announce:
            self._withdrawn_event(timer, None, reason)
        elif RULES[timer.rule].announce:
            self.emit("deadline.cancelled", {
                "timer_id": timer.id, "rule": timer.rule, "person_id": timer.person_id,
                "due_at": timer.due_at, "reason": reason}, timer.complaint_id)
        return timer

    def withdraw(self, timer: Timer, reason: str) -> Timer:
        """A miss announced as final no longer applies (the step it was for
        was impossible after all): cancelled, and `deadline.withdrawn`."""
        timer = timer.with_(state=CANCELLED, settled=True,
                            details=dict(timer.details, withdrawn=reason))
        self.put(timer)
        if RULES[timer.rule].announce:
            self._withdrawn_event(timer, None, reason)
        return timer

    def finalize(self, timer: Timer, reason: str, at: datetime | None = None) -> Timer:
        """A missed step that can no longer be done: the final miss, not done."""
        at = at or self.now
        late = late_seconds(at, timer.due_at)
        timer = timer.with_(settled=True, late_seconds=late,
                            details=dict(timer.details, final_reason=reason))
        self.put(timer)
        if RULES[timer.rule].announce:
            self.emit("deadline.missed", missed_data(timer, timer.person_id, timer.role, late,
                                                     final=True), timer.complaint_id)
        return timer

    def rejudge(self, key: str, done_at: datetime, reason: str,
                details: dict[str, Any] | None = None) -> Timer | None:
        """The deputy GM accepted an earlier stated time for the act that
        settled `key`: judged again by it. A miss that is no longer one is
        withdrawn (`deadline.withdrawn` + `deadline.met`); a step still late
        keeps its miss (the accepted time is recorded)."""
        timer = self.timers.get(key)
        if timer is None:
            return None
        if timer.state not in (MISSED, MET) or not timer.settled:
            return self.resolve(key, done_at, details=details)
        extra = dict(timer.details, **(details or {}))
        if timer.state == MISSED and done_at <= timer.due_at:
            if RULES[timer.rule].announce:
                self._withdrawn_event(timer, done_at, reason)
            timer = timer.with_(state=MET, done_at=done_at, late_seconds=0, details=extra)
            self.put(timer)
            if RULES[timer.rule].announce:
                self.emit("deadline.met", met_data(timer), timer.complaint_id)
            return timer
        timer = timer.with_(details=extra)
        self.put(timer)
        return timer

    def outcome(self) -> Outcome:
        follow(self)
        out = self.out
        if self.complaint is not None and self.complaint != self._complaint0:
            out.complaint = replace(self.complaint, updated_at=self.now)
        for key, timer in self.timers.items():
            before = self.original.get(key)
            if before is None:
                out.arm.append(timer)
            elif before != timer:
                out.update.append(timer)
        return out


def withdraw_fired(work: Work, timer: Timer, reason: str) -> None:
    """A fired miss (an overdue day, a deadline) that no longer applies: cancelled,
    and `overdue.withdrawn` / `deadline.withdrawn` so penalty reverses its lines."""
    timer = timer.with_(state=CANCELLED, settled=True,
                        details=dict(timer.details, withdrawn=reason))
    work.put(timer)
    if timer.rule == "overdue":
        work.emit("overdue.withdrawn", {
            "complaint_id": timer.complaint_id, "timer_id": timer.id,
            "day": timer.details["day"], "day_started_at": timer.due_at, "reason": reason},
            timer.complaint_id)
    else:
        work.emit("deadline.withdrawn", {
            "timer_id": timer.id, "rule": timer.rule, "article": timer.article,
            "person_id": timer.person_id, "role": timer.role, "due_at": timer.due_at,
            "done_at": None, "reason": reason}, timer.complaint_id)


def armed_data(timer: Timer) -> dict[str, Any]:
    return {"timer_id": timer.id, "rule": timer.rule, "article": timer.article,
            "person_id": timer.person_id, "role": timer.role, "due_at": timer.due_at}


def met_data(timer: Timer) -> dict[str, Any]:
    return {"timer_id": timer.id, "rule": timer.rule, "article": timer.article,
            "person_id": timer.person_id, "role": timer.role, "due_at": timer.due_at,
            "done_at": timer.done_at}


def missed_data(timer: Timer, person_id: str | None, role: str | None, seconds_late: int | None,
                final: bool, intervals: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"timer_id": timer.id, "rule": timer.rule, "article": timer.article,
            "person_id": person_id, "role": role, "due_at": timer.due_at,
            "done_at": timer.done_at, "late_seconds": seconds_late, "final": final,
            "holder_intervals": intervals}
