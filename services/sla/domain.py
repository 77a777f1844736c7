"""The rules of SPEC §4 as decisions (pure: no I/O, `now` passed in).

`apply_event(event, complaint, timers, now, settings, directory)` says what an
incoming event changes: timers to arm, timers met or missed (with who is
charged and by how much), messages to send, events to announce, or that the
event must wait for another one (parked). `fire(...)` in firing.py says what
a timer that fell due does.

Timer keys name the deadline (complaint, order round, rule, and the day,
visit, application, claim or meeting), so an event applied twice, or a
re-routing, never arms the same deadline twice.
"""
import math
from dataclasses import replace
from datetime import timedelta

from services.sla import messages
from services.sla.calendar import first_progress_day, local_date, progress_due
from services.sla.model import (ARMED, CANCELLED, MET, MISSED, Complaint, Emit, Outcome, Park,
                                Timer, new_timer_id)
from services.sla.rules import HANDLER, RULES
from shared import roles

SAME_INSTANT = timedelta(seconds=1)
REASON_LATE_EVENT = "步骤已按时完成，事件晚于时限到达 (done in time; its event arrived late)"


def late_seconds(done_at, due_at):
    """Seconds past the deadline, rounded up: 0.2 s late is 1 s late (a started block)."""
    late = (done_at - due_at).total_seconds()
    return max(0, math.ceil(late))


def iso(value):
    return value.isoformat() if value is not None else None


# -- keys -----------------------------------------------------------------------

def round_key(complaint, rule):
    return f"{complaint.id}:r{complaint.order_round}:{rule}"


def progress_key(complaint, day):
    return f"{complaint.id}:r{complaint.order_round}:progress:{day.isoformat()}"


def overdue_key(complaint_id, order_round, day):
    return f"{complaint_id}:r{order_round}:overdue:{day}"


# -- the order's holders (order_sign) ---------------------------------------------

def split_holders(holders, due_at, done_at):
    """Each holder is charged for their own time past the deadline (SPEC §4
    choice): [(person_id, role, late_seconds, [{from, to, late_seconds}])],
    one entry per person, in the order they first held it late."""
    charged, roles_of = {}, {}
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

    def __init__(self, complaint, timers, now, settings, directory=None):
        self.complaint = complaint
        self._complaint0 = complaint
        self.original = {t.key: t for t in timers}
        self.timers = dict(self.original)
        self.now = now
        self.settings = settings
        self.directory = directory
        self.out = Outcome()

    # - complaint and timers

    def change(self, **changes):
        self.complaint = replace(self.complaint, **changes)

    def get(self, key):
        return self.timers.get(key)

    def put(self, timer):
        self.timers[timer.key] = timer

    def open_timers(self, rule=None):
        return sorted((t for t in self.timers.values()
                       if not t.settled and (rule is None or t.rule == rule)),
                      key=lambda t: (t.due_at, t.key))

    def arm(self, rule_code, key, due_at, person_id=None, role=None, details=None,
            complaint=True):
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

    def emit(self, event_type, data, complaint_id=None):
        self.out.events.append(Emit(event_type, data, self.now, complaint_id))

    def send(self, message):
        if message is not None:
            self.out.messages.append(message)

    def provide(self, token):
        self.out.provides.append(token)

    def problem(self, kind, message):
        self.out.problems.append((kind, message))

    def park(self, waiting_for, kind, message):
        self.out.park = Park(waiting_for, kind, message)
        return self.out

    # - resolving deadlines

    def resolve(self, key, done_at, person_id=None, role=None, charges=None, details=None):
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

    def _withdraw(self, timer, done_at, person_id):
        """A miss announced as final turns out to be wrong: the step was done
        in time but its event arrived after the deadline fired."""
        self._withdrawn_event(timer, done_at, REASON_LATE_EVENT)
        timer = timer.with_(state=MET, done_at=done_at, late_seconds=0,
                            details=dict(timer.details, withdrawn_at=iso(self.now)))
        self.put(timer)
        self.emit("deadline.met", met_data(timer), timer.complaint_id)
        return timer

    def _withdrawn_event(self, timer, done_at, reason):
        self.emit("deadline.withdrawn", {
            "timer_id": timer.id, "rule": timer.rule, "article": timer.article,
            "person_id": timer.person_id, "role": timer.role, "due_at": timer.due_at,
            "done_at": done_at, "reason": reason}, timer.complaint_id)

    def cancel(self, timer, reason):
        """The deadline no longer applies. An open miss is finalized instead
        (it was missed while it applied), unless `void` is used."""
        if timer.settled:
            return timer
        if timer.state == MISSED:
            return self.finalize(timer, reason)
        return self.void(timer, reason)

    def void(self, timer, reason):
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

    def finalize(self, timer, reason, at=None):
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

    def outcome(self):
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


def armed_data(timer):
    return {"timer_id": timer.id, "rule": timer.rule, "article": timer.article,
            "person_id": timer.person_id, "role": timer.role, "due_at": timer.due_at}


def met_data(timer):
    return {"timer_id": timer.id, "rule": timer.rule, "article": timer.article,
            "person_id": timer.person_id, "role": timer.role, "due_at": timer.due_at,
            "done_at": timer.done_at}


def missed_data(timer, person_id, role, seconds_late, final, intervals=None):
    return {"timer_id": timer.id, "rule": timer.rule, "article": timer.article,
            "person_id": person_id, "role": role, "due_at": timer.due_at,
            "done_at": timer.done_at, "late_seconds": seconds_late, "final": final,
            "holder_intervals": intervals}


# -- intake: the complaint and its order (Art. 13-19) -------------------------------

INTAKE_FACT_EVENTS = frozenset({
    "complaint.received", "complaint.resolved_on_spot", "complaint.signature_requested",
    "complaint.signed", "complaint.reception_rated", "order.submitted", "order.reviewed",
    "order.rejected", "order.signed", "complaint.reopened", "complaint.escalated"})


def on_intake_facts(work, event):
    """Every intake event carries the complaint's facts (a snapshot): sync the
    copy from the newest one and settle the order's deadlines from it, so an
    event applied late or twice gives the same timers."""
    facts = event.data
    c = work.complaint
    if c is None:
        if event.type != "complaint.received":
            work.problem("unknown_complaint",
                         f"投诉 {event.complaint_id} 的首个事件是 {event.type}（未收到 "
                         "complaint.received），已按事件所带信息建档 (first event of an unknown "
                         "complaint; its facts were used)")
        c = Complaint(id=event.complaint_id)
        work.complaint = c
    newer_round = facts["order_round"] > c.order_round
    stale = (c.intake_at is not None and event.occurred_at < c.intake_at and not newer_round)
    if not stale:
        if newer_round and c.intake_at is not None:
            start_new_round(work, facts["order_round"])
        work.change(
            project_id=facts["project_id"], room=facts.get("room"),
            category=facts.get("category"), intake_state=facts["state"],
            order_round=facts["order_round"], specialist_id=facts.get("specialist_id"),
            round_started_at=facts.get("round_started_at") or facts.get("contact_ended_at"),
            first_submitted_at=facts.get("first_submitted_at"),
            signed_at=facts.get("signed_at"),
            requested_completion_at=facts.get("requested_completion_at"),
            holders=tuple(facts.get("holders") or ()),
            escalation_level=facts.get("escalation_level"),
            resolved_on_spot=bool(facts.get("resolved_on_spot", c.resolved_on_spot)
                                  or event.type == "complaint.resolved_on_spot"),
            intake_at=event.occurred_at)
        sync_order(work)
        if facts["state"] == "closed" and not work.complaint.closed:
            close_complaint(work, facts.get("closed_at") or event.occurred_at, event.type)
    work.provide(f"complaint:{c.id}")
    work.provide(f"round:{c.id}:{work.complaint.order_round}")
    if work.complaint.signed_at is not None:
        work.provide(f"signed:{c.id}")
    return work


def has_order(c):
    """An order round exists: not resolved on the spot (closed with no order)."""
    on_spot = c.resolved_on_spot or (c.intake_state == "closed" and c.first_submitted_at is None)
    return not on_spot and c.round_started_at is not None


def sync_order(work):
    c, s = work.complaint, work.settings
    if not has_order(c):
        return
    submit_key = round_key(c, "order_submit")
    if work.get(submit_key) is None and c.closed_at is None:
        work.arm("order_submit", submit_key, c.round_started_at + s.order_submit,
                 c.specialist_id, roles.SPECIALIST)
    if c.first_submitted_at is None:
        return
    work.resolve(submit_key, c.first_submitted_at, c.specialist_id, roles.SPECIALIST)
    sign_key = round_key(c, "order_sign")
    holder = c.current_holder or {}
    sign = work.get(sign_key)
    if sign is None:
        sign = work.arm("order_sign", sign_key, c.first_submitted_at + s.order_sign,
                        holder.get("person_id"), holder.get("role") or roles.CENTRE_DEPUTY_GM)
    if c.signed_at is not None:
        signer = next((h for h in reversed(c.holders) if h.get("role") == roles.CENTRE_GM),
                      {})
        charges = split_holders(c.holders, sign.due_at, c.signed_at)
        work.resolve(sign_key, c.signed_at, signer.get("person_id"), roles.CENTRE_GM,
                     charges=charges or None)
    elif not sign.settled and holder and (holder.get("person_id"), holder.get("role")) != (
            sign.person_id, sign.role):
        # A miss is announced to whoever holds the order now.
        work.put(sign.with_(person_id=holder.get("person_id"), role=holder.get("role")))


def start_new_round(work, order_round):
    """Reopened (再次投诉): what is left of the old round ends; a new round
    starts with a fresh order."""
    for timer in work.open_timers():
        if RULES[timer.rule].ends_with_complaint:
            work.cancel(timer, "reopened")
    work.change(routed_at=None, routed_signed_at=None, agreed_completion_at=None,
                completion_due_at=None, visited_at=None, visit_blocked_at=None,
                last_progress_at=None, closure_application_id=None,
                closure_applied_at=None, closed_at=None, first_submitted_at=None,
                signed_at=None)


def close_complaint(work, closed_at, reason):
    """Closed: armed deadlines are cancelled; a missed step never done gets
    its final miss (late until the closure)."""
    work.change(closed_at=closed_at)
    for timer in work.open_timers():
        if not RULES[timer.rule].ends_with_complaint:
            continue
        if timer.state == MISSED:
            work.finalize(timer, reason, at=max(closed_at, timer.due_at))
        else:
            work.cancel(timer, reason)


def on_complaint_closed(work, event):
    c = work.complaint
    if c is None:
        return work.park(f"complaint:{event.complaint_id}", "unknown_complaint",
                         f"关闭了未知投诉 {event.complaint_id} (closed an unknown complaint)")
    application = event.data.get("application_id")
    if application and c.closure_application_id != application and not c.closed:
        return work.park(f"applied:{application}", "out_of_order",
                         f"结案早于结案申请 {application} 到达 (closed before its application "
                         "arrived)")
    on_intake_facts(work, event)
    if not work.complaint.closed:
        close_complaint(work, event.data["closed_at"], "closed")
    return work


# -- dispatch: routing, visits, progress, closure (Art. 19-29) ----------------------

def on_routed(work, event):
    d, c, s = event.data, work.complaint, work.settings
    if c is None:
        return work.park(f"complaint:{event.complaint_id}", "unknown_complaint",
                         f"派单的投诉 {event.complaint_id} 尚未建档 (routed before the complaint "
                         "was known)")
    signed_at = d.get("signed_at") or c.signed_at
    if c.signed_at is None or signed_at is None or abs(c.signed_at - signed_at) > SAME_INSTANT:
        if c.signed_at is not None and signed_at is not None and signed_at < c.signed_at:
            work.problem("stale", f"投诉 {c.id} 收到较早一轮的派单，已忽略 (routing of an earlier "
                                  "order round ignored)")
            return work
        return work.park(f"signed:{c.id}", "out_of_order",
                         f"投诉 {c.id} 的派单早于督办令签发到达 (routed before order.signed)")
    first = c.routed_signed_at is None
    previous_handler = c.handler_id
    requested = d.get("requested_completion_at") or c.requested_completion_at
    due = min(requested, c.agreed_completion_at) if c.agreed_completion_at else (
        d.get("completion_due_at") or requested)
    work.change(routed_at=d.get("routed_at") or event.occurred_at,
                routed_signed_at=signed_at, department=d.get("department"),
                handler=d["handler"], leaders=tuple(d.get("leaders") or ()),
                chairman=d.get("chairman"), major=bool(d.get("major")),
                requested_completion_at=requested, completion_due_at=due)
    work.provide(f"routed:{c.id}")
    c = work.complaint
    if c.closed:
        return work
    handler = c.handler_id
    if first:
        visit_due = signed_at + s.visit
        work.arm("visit", round_key(c, "visit"), visit_due, handler, HANDLER)
        work.arm("plan", round_key(c, "plan"), visit_due, handler, HANDLER)
        work.arm("completion", round_key(c, "completion"), due, handler, HANDLER,
                 details={"requested_completion_at": iso(requested)})
        day = first_progress_day(signed_at, s)
        work.arm("progress", progress_key(c, day), progress_due(day, s), handler, HANDLER,
                 details={"day": day.isoformat()})
    elif handler != previous_handler:
        # Re-routed (escalated to the chairman, or re-dispatched): deadlines
        # still ahead now fall to the new handler.
        for timer in work.open_timers():
            if timer.role == HANDLER and timer.state == ARMED:
                work.put(timer.with_(person_id=handler))
    if first or handler != previous_handler:
        notify_handler(work, c)
    return work


def notify_handler(work, c):
    """Art. 19: SMS to the handler as soon as the order is signed (routed)."""
    key = f"{round_key(c, 'handler_notified')}:{c.handler_id}"
    if work.get(key) is not None:
        return
    timer = work.arm("handler_notified", key, c.routed_at or work.now, c.handler_id, HANDLER)
    work.put(timer.with_(state=MET, done_at=work.now, late_seconds=0, settled=True))
    work.send(messages.order_dispatched(c, work.directory, work.settings))


def _require_routed(work, event, what):
    c = work.complaint
    if c is None:
        work.park(f"complaint:{event.complaint_id}", "unknown_complaint",
                  f"{what}：投诉 {event.complaint_id} 尚未建档 (unknown complaint)")
        return False
    if not c.routed:
        work.park(f"routed:{c.id}", "out_of_order",
                  f"{what}早于督办令签发派单到达 ({event.type} before the order was signed and "
                  "routed)")
        return False
    return True


def on_visit_recorded(work, event):
    if not _require_routed(work, event, "回访记录"):
        return work
    d, c = event.data, work.complaint
    # Done when recorded on the terminal with the customer (Art. 22), as
    # dispatch announces it: the recording time is the system's, not typed in.
    work.resolve(round_key(c, "visit"), d["recorded_at"], c.handler_id)
    if (d.get("plan") or "").strip():
        work.resolve(round_key(c, "plan"), d["recorded_at"], c.handler_id)
    agreed = d.get("agreed_completion_at")
    due = d.get("completion_due_at") or (
        min(c.requested_completion_at, agreed) if agreed else c.completion_due_at)
    work.change(visited_at=c.visited_at or d["visited_at"],
                agreed_completion_at=agreed or c.agreed_completion_at,
                completion_due_at=due or c.completion_due_at)
    completion = work.get(round_key(c, "completion"))
    if completion is not None and due is not None and completion.state == ARMED \
            and completion.due_at != due:
        # Art. 25: the earlier of the order's time and the time agreed at the visit.
        moved = completion.with_(due_at=due, details=dict(
            completion.details, agreed_completion_at=iso(agreed)))
        work.put(moved)
        work.emit("deadline.armed", armed_data(moved), c.id)
    return work


def on_visit_blocked(work, event):
    if not _require_routed(work, event, "回访受阻记录"):
        return work
    d, c, s = event.data, work.complaint, work.settings
    # The handler went within the hour; the customer refused (Art. 23).
    work.resolve(round_key(c, "visit"), d["attempted_at"], c.handler_id,
                 details={"blocked_visit_id": d["visit_id"]})
    plan = work.get(round_key(c, "plan"))
    if plan is not None:
        # No plan can be agreed with a customer who refused the visit.
        work.void(plan, "visit_blocked")
    work.change(visit_blocked_at=d["attempted_at"])
    record_key = f"{c.id}:visit:{d['visit_id']}:record"
    work.arm("blocked_visit_record", record_key, d["attempted_at"] + s.blocked_visit_record,
             c.handler_id, HANDLER, details={"visit_id": d["visit_id"]})
    record = work.resolve(record_key, d["recorded_at"], c.handler_id)
    if record is not None and record.state == MISSED:
        escalate(work, record, c, c.handler, "回访受阻材料录入超时，请督促责任部门。")
    work.arm("blocked_callback", f"{c.id}:visit:{d['visit_id']}:callback",
             d["recorded_at"] + s.blocked_callback, None, roles.CENTRE_STAFF,
             details={"visit_id": d["visit_id"]})
    work.provide(f"blocked:{c.id}")
    return work


def on_callback_recorded(work, event):
    """The centre called the customer back (Art. 23): meets the callback
    deadline of each blocked visit it answers."""
    c, d = work.complaint, event.data
    if c is None:
        return work.park(f"complaint:{event.complaint_id}", "unknown_complaint",
                         f"回访记录的投诉 {event.complaint_id} 尚未建档 (unknown complaint)")
    if d.get("visit_ids"):
        keys = [f"{c.id}:visit:{visit}:callback" for visit in d["visit_ids"]]
    else:
        keys = [t.key for t in work.timers.values() if t.rule == "blocked_callback"]
    if not keys or any(work.get(key) is None for key in keys):
        return work.park(f"blocked:{c.id}", "out_of_order",
                         f"投诉 {c.id} 的中心回访早于回访受阻记录到达 (callback before the "
                         "blocked visit)")
    on_intake_facts(work, event)
    for key in keys:
        work.resolve(key, d["callback_at"], d.get("by"), roles.CENTRE_STAFF)
    return work


def on_progress(work, event):
    if not _require_routed(work, event, "处理进展"):
        return work
    d, c, s = event.data, work.complaint, work.settings
    if d.get("by_handler_department") is False:
        return work      # a cooperating department's note: not the handler's daily update
    at = d["recorded_at"]
    work.change(last_progress_at=max(at, c.last_progress_at) if c.last_progress_at else at)
    c = work.complaint
    day = local_date(at, s.zone)
    if c.closed or day < first_progress_day(c.routed_signed_at, s):
        return work
    key = progress_key(c, day)
    if work.get(key) is None:
        if not c.in_work:
            return work      # closure applied: no daily duty until it is rejected
        work.arm("progress", key, progress_due(day, s), c.handler_id, HANDLER,
                 details={"day": day.isoformat()})
    work.resolve(key, at, c.handler_id)
    if c.in_work:
        following = day + timedelta(days=1)
        work.arm("progress", progress_key(c, following), progress_due(following, s),
                 c.handler_id, HANDLER, details={"day": following.isoformat()})
    return work


def on_closure_applied(work, event):
    if not _require_routed(work, event, "结案申请"):
        return work
    d, c, s = event.data, work.complaint, work.settings
    applied_at = d["applied_at"]
    work.change(closure_application_id=d["application_id"], closure_applied_at=applied_at)
    work.resolve(round_key(c, "completion"), applied_at, c.handler_id)
    # Overdue ends when closure is applied (Art. 36 choice); so does the daily
    # progress duty. A day fired after the application is withdrawn.
    for timer in list(work.timers.values()):
        if timer.rule not in ("overdue", "progress") or timer.due_at <= applied_at:
            continue
        if timer.state == ARMED:
            work.cancel(timer, "closure_applied")
        elif timer.state == MISSED and timer.done_at is None \
                and not timer.details.get("withdrawn"):
            withdraw_fired(work, timer, "closure_applied")
    work.arm("closure_verify", f"{c.id}:closure:{d['application_id']}:verify",
             applied_at + s.closure_verify, c.specialist_id, roles.SPECIALIST,
             details={"application_id": d["application_id"]})
    work.provide(f"applied:{d['application_id']}")
    return work


def withdraw_fired(work, timer, reason):
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


def _verify_timers(work, event):
    application = event.data["application_id"]
    return application, sorted((t for t in work.timers.values()
                                if t.rule == "closure_verify"
                                and t.details.get("application_id") == application),
                               key=lambda t: (t.due_at, t.key))


def _park_unknown_application(work, event, what):
    application = event.data["application_id"]
    return work.park(f"applied:{application}", "out_of_order",
                     f"{what}早于结案申请 {application} 到达 ({event.type} before closure.applied)")


def on_closure_verified(work, event):
    application, timers = _verify_timers(work, event)
    if work.complaint is None or not timers:
        return _park_unknown_application(work, event, "结案核查")
    on_intake_facts(work, event)
    for timer in timers:
        work.resolve(timer.key, event.data["verified_at"], event.data.get("by"),
                     roles.SPECIALIST)
    return work


def on_closure_reviewed(work, event):
    application, timers = _verify_timers(work, event)
    if work.complaint is None or not timers:
        return _park_unknown_application(work, event, "结案审核")
    return on_intake_facts(work, event)


def on_closure_rejected(work, event):
    """At `verify` the application is rejected: overdue runs again as if it
    had never been applied (SPEC §4). At `review` it goes back to the
    specialist, who verifies again within 30 minutes."""
    application, timers = _verify_timers(work, event)
    d, s = event.data, work.settings
    if work.complaint is None or not timers:
        return _park_unknown_application(work, event, "结案退回")
    on_intake_facts(work, event)
    c = work.complaint
    if d["stage"] == "verify":
        for timer in timers:
            work.resolve(timer.key, d["rejected_at"], d.get("by"), roles.SPECIALIST)
    elif d["stage"] == "review" or d.get("returned_to") == "verify":
        work.arm("closure_verify", f"{timers[0].key}:{len(timers) + 1}",
                 d["rejected_at"] + s.closure_verify,
                 d.get("returned_to_person_id") or c.specialist_id, roles.SPECIALIST,
                 details={"application_id": application, "after_rejection": d["stage"]})
    rejected = d.get("application_rejected")
    if rejected is None:
        rejected = d["stage"] == "verify"
    if not rejected or c.closure_application_id != application \
            or c.closure_applied_at is None or c.closed:
        return work
    work.change(closure_applied_at=None)
    c = work.complaint
    completion = work.get(round_key(c, "completion"))
    if completion is not None:
        if completion.state == MET:
            reopened = completion.with_(state=ARMED, done_at=None, late_seconds=None,
                                        settled=False)
            work.put(reopened)
            work.emit("deadline.armed", armed_data(reopened), c.id)
        elif completion.state == MISSED:
            work.put(completion.with_(done_at=None, settled=False))
            resume_overdue(work, completion)
    day = local_date(d["rejected_at"], s.zone) + timedelta(days=1)
    work.arm("progress", progress_key(c, day), progress_due(day, s), c.handler_id, HANDLER,
             details={"day": day.isoformat()})
    return work


def resume_overdue(work, completion):
    """Arm the next overdue day after the last one accrued. Days already
    accrued stay; the days the application paused are caught up by the loop.
    Each resumption is a new generation of keys, so no day is armed twice."""
    c = work.complaint
    overdue = [t for t in work.timers.values()
               if t.rule == "overdue" and t.order_round == c.order_round]
    day = max((t.details["day"] for t in overdue if t.state == MISSED), default=0) + 1
    generation = max((t.details.get("generation", 0) for t in overdue), default=0) + 1
    arm_overdue_day(work, c, completion.due_at, day, generation)


def arm_overdue_day(work, complaint, completion_due_at, day, generation=0):
    """Day n starts (n-1) x 24 h after the completion deadline (per started 24 h)."""
    key = overdue_key(complaint.id, complaint.order_round, day)
    if generation:
        key = f"{key}:g{generation}"
    return work.arm("overdue", key, completion_due_at + timedelta(days=day - 1),
                    complaint.handler_id, HANDLER,
                    details={"day": day, "generation": generation,
                             "completion_due_at": iso(completion_due_at)})


# -- claims and major-complaint meetings (Art. 33, 34) ------------------------------

def _require_complaint(work, event, what):
    if work.complaint is None:
        work.park(f"complaint:{event.complaint_id}", "unknown_complaint",
                  f"{what}：投诉 {event.complaint_id} 尚未建档 (unknown complaint)")
        return False
    return True


def on_claim_raised(work, event):
    if not _require_complaint(work, event, "索赔"):
        return work
    d = event.data
    work.arm("claim_report", f"claim:{d['claim_id']}:report",
             d["raised_at"] + work.settings.claim_report, d.get("head_person_id"), roles.HEAD,
             details={"claim_id": d["claim_id"]})
    work.provide(f"claim:{d['claim_id']}")
    return work


def on_claim_reported(work, event):
    d = event.data
    key = f"claim:{d['claim_id']}:report"
    if work.get(key) is None:
        return work.park(f"claim:{d['claim_id']}", "out_of_order",
                         f"索赔 {d['claim_id']} 的报告早于索赔登记到达 (reported before raised)")
    work.resolve(key, d["reported_at"], d.get("by"))
    return work


def on_claim_decided(work, event):
    d = event.data
    report = work.get(f"claim:{d['claim_id']}:report")
    head = d.get("head_person_id") or (report.person_id if report else None)
    if report is None and head is None:
        return work.park(f"claim:{d['claim_id']}", "out_of_order",
                         f"索赔 {d['claim_id']} 的批示早于索赔登记到达 (decided before raised)")
    if not _require_complaint(work, event, "索赔批示"):
        return work
    work.arm("claim_filed", f"claim:{d['claim_id']}:filed",
             d["decided_at"] + work.settings.claim_filed, head, roles.HEAD,
             details={"claim_id": d["claim_id"], "decision": d.get("decision")})
    work.provide(f"claim_decided:{d['claim_id']}")
    return work


def on_claim_filed(work, event):
    d = event.data
    key = f"claim:{d['claim_id']}:filed"
    if work.get(key) is None:
        return work.park(f"claim_decided:{d['claim_id']}", "out_of_order",
                         f"索赔 {d['claim_id']} 的报备早于批示到达 (filed before decided)")
    work.resolve(key, d["filed_at"], d.get("by"))
    return work


def on_meeting_held(work, event):
    if not _require_complaint(work, event, "专题会议"):
        return work
    d = event.data
    work.arm("major_minutes", f"meeting:{d['meeting_id']}:minutes",
             d["held_at"] + work.settings.major_minutes, d.get("chairman_person_id"),
             roles.CHAIRMAN, details={"meeting_id": d["meeting_id"]})
    work.provide(f"meeting:{d['meeting_id']}")
    return work


def on_minutes_filed(work, event):
    d = event.data
    key = f"meeting:{d['meeting_id']}:minutes"
    if work.get(key) is None:
        return work.park(f"meeting:{d['meeting_id']}", "out_of_order",
                         f"会议 {d['meeting_id']} 的纪要早于会议记录到达 (minutes before the "
                         "meeting)")
    work.resolve(key, d["filed_at"], d.get("by"))
    return work


# -- escalation ---------------------------------------------------------------------

def escalation_recipients(work, timer, complaint):
    people = []
    for target in RULES[timer.rule].escalate_to:
        if target == "leaders":
            people += list(complaint.leaders) if complaint else []
        elif work.directory is not None:
            people += work.directory.contacts(target)
    seen, out = set(), []
    for person in people:
        if person.get("person_id") and person["person_id"] not in seen:
            seen.add(person["person_id"])
            out.append(person)
    return out


def escalate(work, timer, complaint, responsible, reason_zh):
    recipients = escalation_recipients(work, timer, complaint)
    work.emit("escalation.raised", {
        "rule": timer.rule, "article": timer.article, "timer_id": timer.id,
        "complaint_id": complaint.id if complaint else None, "due_at": timer.due_at,
        "person_id": timer.person_id,
        "to_person_ids": [p["person_id"] for p in recipients], "reason": reason_zh},
        complaint.id if complaint else None)
    if not recipients:
        work.problem("missing_data", f"「{RULES[timer.rule].label_zh}」超时无人可报："
                                     f"{RULES[timer.rule].escalate_to} 在组织架构中空缺 "
                                     "(nobody to escalate to: post vacant or directory not loaded)")
    for person in recipients:
        work.send(messages.escalation(person, timer, complaint, responsible, work.settings,
                                      reason_zh))


# -- entry point ----------------------------------------------------------------------

HANDLERS = {
    "complaint.closed": on_complaint_closed,
    "complaint.routed": on_routed,
    "visit.recorded": on_visit_recorded,
    "visit.blocked": on_visit_blocked,
    "callback.recorded": on_callback_recorded,
    "progress.recorded": on_progress,
    "closure.applied": on_closure_applied,
    "closure.verified": on_closure_verified,
    "closure.reviewed": on_closure_reviewed,
    "closure.rejected": on_closure_rejected,
    "claim.raised": on_claim_raised,
    "claim.reported": on_claim_reported,
    "claim.decided": on_claim_decided,
    "claim.filed": on_claim_filed,
    "meeting.held": on_meeting_held,
    "meeting.minutes_filed": on_minutes_filed,
}
HANDLERS.update({name: on_intake_facts for name in INTAKE_FACT_EVENTS})


def _round_mismatch(work, event):
    """A dispatch event names its order round: an older round's event is
    history; a newer round's waits until intake's reopen arrives."""
    event_round, c = event.data.get("order_round"), work.complaint
    if event_round is None or c is None or event_round == c.order_round:
        return False
    if event_round < c.order_round:
        work.problem("stale", f"投诉 {c.id} 收到第{event_round}轮的 {event.type}，当前为第"
                              f"{c.order_round}轮，已忽略 (an earlier order round's event)")
        return True
    work.park(f"round:{c.id}:{event_round}", "out_of_order",
              f"投诉 {c.id} 的第{event_round}轮事件 {event.type} 早于重新打开到达 "
              "(a new round's event before the reopen)")
    return True


def apply_event(event, complaint, timers, now, settings, directory=None):
    """What one complaint event changes (see the module docstring)."""
    work = Work(complaint, timers, now, settings, directory)
    if event.type in INTAKE_FACT_EVENTS or not _round_mismatch(work, event):
        HANDLERS[event.type](work, event)
    if work.out.park is not None:
        out = Outcome(park=work.out.park)
        return out
    return work.outcome()
