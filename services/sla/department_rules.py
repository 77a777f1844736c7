"""The responsible department's steps (pure, SPEC §4, Art. 19-26): routing
(the handler told, the visit, plan, completion and first progress deadlines
armed), the visit or the blocked visit and the centre's callback after it,
and the daily progress."""
from __future__ import annotations

from datetime import datetime, timedelta

from services.sla import messages
from services.sla.calendar import first_progress_day, local_date, progress_due
from services.sla.decision import Work, armed_data, iso, progress_key, round_key
from services.sla.escalation import escalate
from services.sla.major_rules import follow_chairman
from services.sla.model import ARMED, MET, MISSED, Complaint, Event, Outcome
from services.sla.order_rules import on_intake_facts
from services.sla.rules import HANDLER
from services.sla.stated_times import judged_time
from shared import roles

SAME_INSTANT = timedelta(seconds=1)

def on_routed(work: Work, event: Event) -> Work | Outcome:
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
    routed_at = d.get("routed_at") or event.occurred_at
    first_routed = c.first_routed_at or c.routed_at or routed_at
    requested = d.get("requested_completion_at") or c.requested_completion_at
    due = completion_due(requested, c.agreed_completion_at, first_routed,
                         d.get("completion_due_at"))
    work.change(routed_at=routed_at, first_routed_at=first_routed,
                routed_signed_at=signed_at, department=d.get("department"),
                handler=d["handler"], leaders=tuple(d.get("leaders") or ()),
                chairman=d.get("chairman"), major=bool(d.get("major")),
                requested_completion_at=requested, completion_due_at=due)
    work.provide(f"routed:{c.id}")
    c = work.known
    if c.closed:
        return work
    handler = c.handler_id
    if first:
        # The department's clocks start when the order reaches it (issue 13):
        # the time until it is routed costs the handler nothing.
        visit_due = routed_at + s.visit
        work.arm("visit", round_key(c, "visit"), visit_due, handler, HANDLER)
        work.arm("plan", round_key(c, "plan"), visit_due, handler, HANDLER)
        if due is not None:
            work.arm("completion", round_key(c, "completion"), due, handler, HANDLER,
                     details={"requested_completion_at": iso(requested)})
        day = first_progress_day(max(signed_at, routed_at), s)
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
    follow_chairman(work)
    return work


def completion_due(requested: datetime | None, agreed: datetime | None,
                   first_routed_at: datetime | None,
                   announced: datetime | None = None) -> datetime | None:
    """Art. 25: the earlier of the order's requested time and the time agreed
    at the visit. A requested time already past when the order first reached
    the department cannot be met by anyone (issue 13): the deadline is then
    the agreed time, unknown (None) until the visit."""
    if requested is not None and first_routed_at is not None and requested <= first_routed_at:
        return agreed
    if requested is not None and agreed is not None:
        return min(requested, agreed)
    return announced or requested or agreed


def notify_handler(work: Work, c: Complaint) -> None:
    """Art. 19: SMS to the handler as soon as the order is signed (routed)."""
    key = f"{round_key(c, 'handler_notified')}:{c.handler_id}"
    if work.get(key) is not None:
        return
    timer = work.arm("handler_notified", key, c.routed_at or work.now, c.handler_id, HANDLER)
    work.put(timer.with_(state=MET, done_at=work.now, late_seconds=0, settled=True))
    work.send(messages.order_dispatched(c, work.directory, work.settings))


def require_routed(work: Work, event: Event, what: str) -> Complaint | None:
    """The routed complaint, or None with the event parked until it is."""
    c = work.complaint
    if c is None:
        work.park(f"complaint:{event.complaint_id}", "unknown_complaint",
                  f"{what}：投诉 {event.complaint_id} 尚未建档 (unknown complaint)")
        return None
    if not c.routed:
        work.park(f"routed:{c.id}", "out_of_order",
                  f"{what}早于督办令签发派单到达 ({event.type} before the order was signed and "
                  "routed)")
        return None
    return c


def on_visit_recorded(work: Work, event: Event) -> Work:
    c = require_routed(work, event, "回访记录")
    if c is None:
        return work
    d, s = event.data, work.settings
    # Done at the stated visit time when the record reached the system within
    # the grace after it (a handler back in signal); else at the receipt,
    # until the deputy GM accepts the stated time (visit.time_accepted).
    done_at, judged = judged_time(d["visited_at"], d["recorded_at"], s)
    judged["visit_id"] = d["visit_id"]
    work.resolve(round_key(c, "visit"), done_at, c.handler_id, details=judged)
    if (d.get("plan") or "").strip():
        work.resolve(round_key(c, "plan"), done_at, c.handler_id, details=judged)
    work.provide(f"visit:{d['visit_id']}")
    agreed = d.get("agreed_completion_at")
    first_routed = c.first_routed_at or c.routed_at
    due = completion_due(c.requested_completion_at, agreed or c.agreed_completion_at,
                         first_routed, d.get("completion_due_at")) or c.completion_due_at
    work.change(visited_at=c.visited_at or d["visited_at"],
                agreed_completion_at=agreed or c.agreed_completion_at,
                completion_due_at=due)
    completion = work.get(round_key(c, "completion"))
    if completion is None and due is not None and not c.closed:
        # The requested time had passed at the routing: the deadline is the
        # time agreed at this visit (issue 13).
        work.arm("completion", round_key(c, "completion"), due, c.handler_id, HANDLER,
                 details={"requested_completion_at": iso(c.requested_completion_at),
                          "agreed_completion_at": iso(agreed), "from_visit": True})
    elif completion is not None and due is not None and completion.state == ARMED \
            and completion.due_at != due:
        # Art. 25: the earlier of the order's time and the time agreed at the visit.
        moved = completion.with_(due_at=due, details=dict(
            completion.details, agreed_completion_at=iso(agreed)))
        work.put(moved)
        work.emit("deadline.armed", armed_data(moved), c.id)
    return work


def on_visit_blocked(work: Work, event: Event) -> Work:
    c = require_routed(work, event, "回访受阻记录")
    if c is None:
        return work
    d, s = event.data, work.settings
    # The handler went; the customer refused (Art. 23). Judged by the stated
    # attempt when recorded within the grace after it, else by the receipt.
    done_at, judged = judged_time(d["attempted_at"], d["recorded_at"], s)
    visit = work.resolve(round_key(c, "visit"), done_at, c.handler_id,
                         details=dict(judged, blocked_visit_id=d["visit_id"]))
    plan = work.get(round_key(c, "plan"))
    if plan is not None and visit is not None and done_at <= visit.due_at:
        # No plan can be agreed with a customer who refused the visit; a
        # blocking judged after the visit deadline leaves the plan's fine.
        work.void(plan, "visit_blocked")
    work.change(visit_blocked_at=d["attempted_at"])
    work.provide(f"visit:{d['visit_id']}")
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


def on_callback_recorded(work: Work, event: Event) -> Work | Outcome:
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
    # The stated call time within the grace before its receipt; else the receipt.
    done_at, judged = judged_time(d["callback_at"], d.get("recorded_at") or event.occurred_at,
                                  work.settings)
    if d.get("callback_id"):
        judged["callback_id"] = d["callback_id"]
    for key in keys:
        work.resolve(key, done_at, d.get("by"), roles.CENTRE_STAFF, details=judged)
    work.provide(f"callback:{c.id}")
    return work


def on_progress(work: Work, event: Event) -> Work:
    c = require_routed(work, event, "处理进展")
    if c is None:
        return work
    d, s = event.data, work.settings
    if d.get("by_handler_department") is False:
        return work      # a cooperating department's note: not the handler's daily update
    at = d["recorded_at"]
    work.change(last_progress_at=max(at, c.last_progress_at) if c.last_progress_at else at)
    c = work.known
    day = local_date(at, s.zone)
    # (routed: routed_signed_at is set) The duty starts the day after the
    # order was signed and reached the department.
    if c.closed or c.routed_signed_at is None or day < first_progress_day(
            max(c.routed_signed_at, c.first_routed_at or c.routed_signed_at), s):
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
