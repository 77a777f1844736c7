"""Who is told what around a deadline (pure, issue 13): the warning that
falls due before it (to the person who must act), the miss of a money rule
(to the holder's superior, at once), the hourly notice of a running
per-5-minute fine (to the holder and the GM), and a routing that failed (to
the admins and the GM). The timers themselves are armed by following.py."""
from __future__ import annotations

from services.sla import notice_messages
from services.sla.decision import Work
from services.sla.following import RUNNING, WARNING, arm_running, follows_due
from services.sla.model import ARMED, CANCELLED, MET, MISSED, Complaint, Event, PersonRef, Timer
from services.sla.rules import HANDLER, MONEY_RULES
from shared import roles


def _done(work: Work, timer: Timer) -> None:
    work.put(timer.with_(state=MET, done_at=work.now, fired_at=work.now, late_seconds=0,
                         settled=True))


def _ended(work: Work, timer: Timer, reason: str) -> None:
    work.put(timer.with_(state=CANCELLED, settled=True,
                         details=dict(timer.details, cancelled=reason)))


# -- people ----------------------------------------------------------------------------

def person_ref(work: Work, person_id: str | None, complaint: Complaint | None) -> PersonRef:
    """A person's contact: the directory's, or as the complaint's routing named them."""
    person = work.directory.person(person_id) if work.directory is not None else None
    if person is not None:
        return person.contact()
    if complaint is not None:
        for known in [complaint.handler, complaint.chairman, *complaint.leaders]:
            if known and known.get("person_id") == person_id:
                return {k: known.get(k) for k in ("person_id", "name", "mobile")}
    return {"person_id": person_id, "name": None, "mobile": None}


def _contacts(work: Work, role: str) -> list[PersonRef]:
    return work.directory.contacts(role) if work.directory is not None else []


def _unique(people: list[PersonRef]) -> list[PersonRef]:
    seen: set[str] = set()
    out = []
    for person in people:
        if person.get("person_id") and person["person_id"] not in seen:
            seen.add(person["person_id"])
            out.append(person)
    return out


def holder_of(work: Work, target: Timer,
              complaint: Complaint | None) -> tuple[list[PersonRef], str | None]:
    """Who must act on `target` now, and in what role: whoever holds the
    order (order_sign), the handler, the person named, or the post."""
    if target.rule == "order_sign" and complaint is not None and complaint.current_holder:
        holder = complaint.current_holder
        return [person_ref(work, holder.get("person_id"), complaint)], holder.get("role")
    if target.role == HANDLER and complaint is not None and complaint.handler:
        return [person_ref(work, complaint.handler_id, complaint)], HANDLER
    if target.person_id:
        return [person_ref(work, target.person_id, complaint)], target.role
    return (_contacts(work, target.role) if target.role else []), target.role


def superiors(work: Work, role: str | None, person_id: str | None,
              complaint: Complaint | None) -> list[PersonRef]:
    """The holder's superior: specialist -> deputy GM; deputy GM -> GM; GM ->
    the chairman answering for the project (the routed one, else the
    directory's; the centre's VP if none is named); handler -> the
    supervising leader (SPEC §1)."""
    if role == roles.SPECIALIST:
        return _contacts(work, roles.CENTRE_DEPUTY_GM)
    if role == roles.CENTRE_DEPUTY_GM:
        return _contacts(work, roles.CENTRE_GM)
    if role == roles.CENTRE_GM:
        if complaint is not None and complaint.chairman and complaint.chairman.get("person_id"):
            return [person_ref(work, complaint.chairman["person_id"], complaint)]
        chairman = work.directory.chairman(complaint.project_id, complaint.category) \
            if work.directory is not None and complaint is not None else None
        return [chairman.contact()] if chairman is not None else _contacts(work, roles.VP)
    if role == HANDLER and complaint is not None:
        leaders = [leader for leader in complaint.leaders
                   if leader.get("role") == roles.SUPERVISING_LEADER] or list(complaint.leaders)
        return [person_ref(work, leader.get("person_id"), complaint) for leader in leaders
                if leader.get("person_id") != person_id]
    return []


# -- firing ----------------------------------------------------------------------------

def fire_warning(work: Work, timer: Timer, complaint: Complaint | None) -> None:
    """The deadline is near and the step not done: the person who must act is warned."""
    target = work.get(str(timer.details.get("target")))
    if target is None or target.state != ARMED or target.due_at <= work.now or \
            not follows_due(timer, target):
        # Done, moved, or already due (a clock moved past both): no warning.
        _ended(work, timer, "deadline_not_pending")
        return
    _done(work, timer)
    people, _role = holder_of(work, target, complaint)
    if not people:
        work.problem("missing_data", f"「{notice_messages.STEP_ZH[target.rule]}」到期提醒无人"
                                     "可发 (nobody to warn: post vacant or directory not loaded)")
    for person in _unique(people):
        work.send(notice_messages.warning(person, target, complaint, work.directory,
                                          work.settings))


def fire_running(work: Work, timer: Timer, complaint: Complaint | None) -> None:
    """A per-5-minute fine still running: the holder and the GM, every hour."""
    target = work.get(str(timer.details.get("target")))
    if target is None or target.state != MISSED or target.settled:
        _ended(work, timer, "fine_stopped")
        return
    _done(work, timer)
    every = work.settings.running_fine_every
    # A clock moved hours ahead at once sends one notice, not one per hour missed.
    n = max(int(timer.details.get("n") or 1), int((work.now - target.due_at) / every))
    holders, role = holder_of(work, target, complaint)
    hours = max(1, int((work.now - target.due_at).total_seconds() // 3600))
    for person in _unique(holders + _contacts(work, roles.CENTRE_GM)):
        work.send(notice_messages.running_fine(person, target, complaint,
                                               holders[0] if holders else None, role, hours,
                                               work.directory, work.settings))
    arm_running(work, target, n + 1)


def tell_superior(work: Work, target: Timer, complaint: Complaint | None,
                  day: int | None = None) -> None:
    """A money rule missed (or an overdue tier reached): the holder's superior, at once."""
    if target.rule not in MONEY_RULES and target.rule != "completion":
        return
    holders, role = holder_of(work, target, complaint)
    holder = holders[0] if holders else None
    people = superiors(work, role, (holder or {}).get("person_id"), complaint)
    if not people:
        work.problem("missing_data", f"「{notice_messages.STEP_ZH[target.rule]}」超时无上级可报"
                                     f"（{role}）(nobody above the holder: post vacant or "
                                     "directory not loaded)")
    for person in _unique(people):
        work.send(notice_messages.missed_to_superior(person, target, complaint, holder, role,
                                                     work.directory, work.settings, day))


def on_routing_failed(work: Work, event: Event) -> Work:
    """A signed order no department could take (dispatch's routing.failed):
    the admins, who keep the directory, and the GM are told at once. The
    department's clocks start only when it is routed."""
    d = event.data
    people = _unique(_contacts(work, roles.ADMIN) + _contacts(work, roles.CENTRE_GM))
    if not people:
        work.problem("missing_data", "派单失败无人可报：系统管理员、中心总经理空缺或组织架构未加载 "
                                     "(nobody to tell about a failed routing)")
    for person in people:
        work.send(notice_messages.routing_failed(
            person, str(event.complaint_id), work.complaint, d.get("message") or "",
            d.get("role"), d.get("failed_at") or event.occurred_at, work.directory,
            work.settings))
    return work


FIRE_FOLLOWERS = {WARNING: fire_warning, RUNNING: fire_running}
