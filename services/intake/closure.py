"""The centre's side of a complaint once its order is signed (SPEC §2, §8;
Art. 19-29): who answers for it (a copy of dispatch's `complaint.routed`),
the callback after a blocked visit (Art. 23), and the closure loop: the
department's application (dispatch's `closure.applied`), then the
specialist's verification with the callback and satisfaction survey, the
deputy GM's review and the GM's approval (Art. 28, 29).

The loop, each step able to send the application back one step with a reason:

    order_signed --closure.applied--> closure_applied --verify--> closure_verified
         ^                                 |    ^                   |    ^
         +------- verify: reject ----------+    +-- review: reject -+    |
                  (the work goes back                                    |
                   to the department)     closure_reviewed --approve--> closed
                                                 |                       |
                                                 +--- approve: reject ---+ (back to review)

Only a rejection at verification rejects the application itself: dispatch
reopens the department's work and overdue runs again as if it was never
applied (SPEC §4). A review or approval rejection returns the application to
the previous centre step; the department is not involved.

Who records the Art. 23 callback: the article says 售后服务中心 without
saying which one, and SPEC §4 makes centre staff answer for its 30 minutes.
So centre staff, the centre's deputy GM and GM may record it, and so may a
specialist of the project's desk (the project's own 售后服务中心, who knows
the customer); the timeline and the event say who called and in which role.

Pure: no I/O. Dispatch's events arrive as loaded dicts; a consumer's function
returns None when the event changes nothing (an older round, a repeat).
"""
from dataclasses import dataclass, replace

from services.intake.domain import (CLOSED, CLOSURE_APPLIED, CLOSURE_REVIEWED, CLOSURE_VERIFIED,
                                    CONTACT_CLOCK_SKEW, ORDER_SIGNED, Outcome, TimelineEntry,
                                    _decision, _local, _reason, event_data, require_desk_specialist,
                                    require_role, require_state)
from shared import roles
from shared.errors import Conflict, Forbidden, InvalidInput

CALLBACK_OUTCOMES = {
    "reached": "已回访客户 (the customer was reached)",
    "unreachable": "未能联系上客户 (the customer could not be reached)",
    "declined": "客户拒绝回访 (the customer declined to talk)",
}
CENTRE_CALLBACK_ROLES = (roles.CENTRE_STAFF, roles.CENTRE_DEPUTY_GM, roles.CENTRE_GM)
CALLBACK_ROLES = frozenset(CENTRE_CALLBACK_ROLES + (roles.SPECIALIST,))
DEPARTMENT = "department"   # actor_role of what a department did (dispatch's events)
DISPATCH = "dispatch"       # actor_role of dispatch's own decisions (routing)

# A closure application's status on the centre's side.
APPLIED, VERIFIED, REVIEWED = "applied", "verified", "reviewed"
APPROVED, REJECTED, SUPERSEDED = "approved", "rejected", "superseded"
STAGE_VERIFY, STAGE_REVIEW, STAGE_APPROVE = "verify", "review", "approve"
IN_LOOP = (CLOSURE_APPLIED, CLOSURE_VERIFIED, CLOSURE_REVIEWED)


class UnexpectedEvent(Exception):
    """An event the complaint's state cannot explain: a bug or lost data, for
    an operator (the consumer retries, then dead-letters it)."""


@dataclass(frozen=True)
class Closure:
    """A department's closure application as the centre handles it."""
    application_id: str
    complaint_id: str
    order_round: int
    applied_at: object
    applied_by: str
    received_at: object
    material_media_ids: tuple = ()
    signature_media_id: str | None = None
    status: str = APPLIED
    holder_id: str | None = None     # whose step it is now (`assigned_to_me`)
    holder_role: str | None = None
    verified_at: object = None
    verified_by: str | None = None
    satisfaction: int | None = None
    comment: str | None = None
    reviewed_at: object = None
    reviewed_by: str | None = None
    closed_at: object = None
    closed_by: str | None = None
    rejected_at: object = None
    rejected_by: str | None = None
    rejected_stage: str | None = None
    rejection_reason: str | None = None


@dataclass(frozen=True)
class Callback:
    """The centre's callback to the customer after a blocked visit (Art. 23)."""
    complaint_id: str
    order_round: int
    callback_at: object
    recorded_at: object
    called_by: str
    called_role: str
    outcome: str
    note: str | None
    visit_ids: tuple
    due_since: object


def _iso(value):
    return value.isoformat() if value is not None else None


# -- who answers for it (dispatch's complaint.routed) ----------------------------------------

def _contact(person):
    if not person:
        return None
    return {key: person.get(key) for key in ("person_id", "name", "mobile", "role")
            if key in person}


def on_routed(complaint, routed, now):
    """Keep who answers for this round; a later announcement (an escalation
    moves it to the chairman) replaces an earlier one, never the reverse."""
    c = complaint
    if routed["order_round"] != c.order_round or routed["routing_id"] == c.routing_id:
        return None
    if c.routed_at is not None and routed["routed_at"] < c.routed_at:
        return None
    handler = _contact(routed["handler"])
    leaders = [_contact(p) for p in routed.get("leaders") or ()]
    cooperating = [{key: d.get(key) for key in ("department", "department_name", "unit_id",
                                                 "unit_name")}
                   for d in routed.get("cooperating_departments") or ()]
    extra = [_contact(routed.get(key)) for key in ("chairman", "department_head",
                                                    "supervising_leader")]
    responsibility = {
        "routing_id": routed["routing_id"], "reason": routed.get("reason"),
        "department": routed["department"], "department_name": routed.get("department_name"),
        "department_overridden": bool(routed.get("department_overridden")),
        "override_reason": routed.get("override_reason"),
        "unit_id": routed.get("unit_id"), "unit_name": routed.get("unit_name"),
        "company_id": routed.get("company_id"), "major": bool(routed.get("major")),
        "escalation_level": routed.get("escalation_level"),
        "handler": handler, "leaders": leaders, "chairman": extra[0],
        "department_head": extra[1], "supervising_leader": extra[2],
        "cooperating_departments": cooperating,
    }
    people = [p["person_id"] for p in [handler, *leaders, *extra] if p and p.get("person_id")]
    units = [u for u in [routed.get("unit_id"), routed.get("department_unit_id"),
                         *(d["unit_id"] for d in cooperating)] if u]
    new = replace(c, routing_id=routed["routing_id"], routed_at=routed["routed_at"],
                  handler_id=handler["person_id"], responsibility=responsibility,
                  responsible_person_ids=tuple(dict.fromkeys(people)),
                  responsible_unit_ids=tuple(dict.fromkeys(units)), updated_at=now)
    entry = TimelineEntry(routed["routed_at"], None, DISPATCH, "routed", c.state, c.state,
                          c.order_round, note=f"{routed.get('unit_name')}：{handler['name']}",
                          details={"routing_id": routed["routing_id"],
                                   "reason": routed.get("reason"),
                                   "department": routed["department"],
                                   "handler_id": handler["person_id"],
                                   "major": bool(routed.get("major"))})
    return Outcome(new, [entry])


# -- a blocked visit and the centre's callback (Art. 23) ---------------------------------------

def on_visit_blocked(complaint, blocked, now):
    """The department could not visit (the customer's doing): the centre
    owes the customer a callback. The department's work goes on meanwhile,
    so this is a flag beside the state, not a state."""
    c = complaint
    if blocked["order_round"] != c.order_round or c.state == CLOSED \
            or blocked["visit_id"] in c.callback_visit_ids:
        return None
    new = replace(c, callback_due_since=c.callback_due_since or blocked["recorded_at"],
                  callback_visit_ids=c.callback_visit_ids + (blocked["visit_id"],),
                  updated_at=now)
    entry = TimelineEntry(blocked["recorded_at"], blocked.get("recorded_by"), DEPARTMENT,
                          "visit_blocked", c.state, c.state, c.order_round,
                          note=blocked.get("reason"),
                          details={"visit_id": blocked["visit_id"],
                                   "attempted_at": _iso(blocked.get("attempted_at")),
                                   "callback_due": True})
    return Outcome(new, [entry])


def _callback_forbidden():
    return Forbidden("只有售后服务中心客服人员、副总经理、总经理或该项目售后服务中心的客服专员可以登记回访 "
                     "(only centre staff, the centre's deputy GM or GM, or a specialist of the "
                     "project's desk may record the callback)")


def require_callback_roles(actor):
    """Before anything is loaded: the actor holds a role that may call back."""
    if actor.kind != "person" or not actor.roles & CALLBACK_ROLES:
        raise _callback_forbidden()


def callback_role(actor, complaint):
    """The role the actor calls back in, or Forbidden (see the module's note)."""
    require_callback_roles(actor)
    for role in CENTRE_CALLBACK_ROLES:
        if role in actor.roles:
            return role
    if complaint.project_id in actor.project_ids:
        return roles.SPECIALIST
    raise _callback_forbidden()


def record_callback(complaint, actor, form, now, zone=None):
    c = complaint
    role = callback_role(actor, c)
    if c.callback_due_since is None:
        raise Conflict(f"投诉 {c.id} 没有待回访的受阻上门记录，不能登记回访 "
                       "(no blocked visit awaits a callback)")
    callback_at = form.get("callback_at") or now
    if callback_at > now + CONTACT_CLOCK_SKEW:
        raise InvalidInput({"callback_at": ["回访时间不能晚于当前时间 (cannot be in the future)"]})
    if c.signed_at is not None and callback_at < c.signed_at - CONTACT_CLOCK_SKEW:
        raise InvalidInput({"callback_at": [
            "回访时间不能早于督办单签发时间 (cannot be before the order was signed)"]})
    note = _reason(form.get("note"), required=False, field_name="note")
    callback = Callback(c.id, c.order_round, callback_at, now, actor.person_id, role,
                        form["outcome"], note, c.callback_visit_ids, c.callback_due_since)
    new = replace(c, callback_due_since=None, callback_visit_ids=(), updated_at=now)
    entry = TimelineEntry(now, actor.person_id, role, "callback_recorded", c.state, c.state,
                          c.order_round, note=note,
                          details={"outcome": callback.outcome, "callback_at": _iso(callback_at),
                                   "visit_ids": list(callback.visit_ids)})
    outcome = Outcome(new, [entry], [("callback.recorded", event_data(
        new, actor.person_id, role, zone, callback_at=_local(callback_at, zone),
        recorded_at=_local(now, zone), by=actor.person_id, by_role=role,
        outcome=callback.outcome, note=note, visit_ids=list(callback.visit_ids),
        due_since=_local(callback.due_since, zone)))])
    outcome.callback = callback
    return outcome


# -- the department's application (dispatch's closure.applied, Art. 28) ----------------------

def on_closure_applied(complaint, current, applied, now):
    """The department applied for closure: the specialist verifies next.

    A newer application while one is still with the centre supersedes it
    (dispatch owns applications: if it took a new one, the old one is off
    its table), so both sides agree again on which one is under way."""
    c = complaint
    application_id = applied["application_id"]
    if applied["order_round"] != c.order_round or application_id == c.closure_application_id:
        return None
    if c.state != ORDER_SIGNED and c.state not in IN_LOOP:
        raise UnexpectedEvent(f"closure application {application_id} of {c.id} arrived in "
                              f"state {c.state}")
    superseded = current if c.state in IN_LOOP else None
    closure = Closure(application_id, c.id, c.order_round, applied["applied_at"],
                      applied["applied_by"], now, tuple(applied.get("material_media_ids") or ()),
                      applied.get("signature_media_id"), APPLIED,
                      holder_id=c.specialist_id, holder_role=roles.SPECIALIST)
    new = replace(c, state=CLOSURE_APPLIED, closure_application_id=application_id,
                  updated_at=now)
    entry = TimelineEntry(applied["applied_at"], applied["applied_by"], DEPARTMENT,
                          "closure_applied", c.state, new.state, c.order_round,
                          details={"application_id": application_id,
                                   "material_media_ids": list(closure.material_media_ids),
                                   "signature_media_id": closure.signature_media_id,
                                   "superseded": superseded.application_id if superseded else None})
    outcome = Outcome(new, [entry])
    if superseded is not None:
        outcome.closures.append(replace(superseded, status=SUPERSEDED, holder_id=None,
                                        holder_role=None))
    outcome.closures.append(closure)
    return outcome


# -- verification, review, approval (Art. 29) --------------------------------------------------

_NOT_YET = {ORDER_SIGNED: "责任部门尚未申请结案 (the department has not applied for closure)"}


def _loop_state(complaint, expected, action, hints):
    hint = {**_NOT_YET, CLOSED: "投诉已关闭 (the complaint is closed)", **hints}
    require_state(complaint, expected, action, hint.get(complaint.state, ""))


def _rejected_data(new, who, zone, closure, stage, reason, now, returned_to, **extra):
    return event_data(new, *who, zone, application_id=closure.application_id, stage=stage,
                      rejected_at=_local(now, zone), by=who[0], reason=reason,
                      returned_to=returned_to, application_rejected=stage == STAGE_VERIFY,
                      **extra)


def verify(complaint, closure, actor, form, now, *, deputy_gm_id=None, zone=None):
    """The specialist checks the material, calls the customer back and
    records the satisfaction survey (1-5); approve sends it to the deputy GM,
    reject sends the work back to the department."""
    c = complaint
    require_desk_specialist(actor, c.project_id, "核查结案")
    _loop_state(c, CLOSURE_APPLIED, "核查结案", {
        CLOSURE_VERIFIED: "已核查，待副总经理审核 (already verified)",
        CLOSURE_REVIEWED: "已核查并审核，待总经理审批 (already verified and reviewed)"})
    who = (actor.person_id, roles.SPECIALIST)
    satisfaction, comment = form.get("satisfaction"), form.get("comment")
    if form["decision"] == "approve":
        if satisfaction is None:
            raise InvalidInput({"satisfaction": ["须录入客户满意度 1-5 (satisfaction 1-5 required)"]})
        changed = replace(closure, status=VERIFIED, verified_at=now, verified_by=actor.person_id,
                          satisfaction=satisfaction, comment=comment, holder_id=deputy_gm_id,
                          holder_role=roles.CENTRE_DEPUTY_GM)
        new = replace(c, state=CLOSURE_VERIFIED, updated_at=now)
        entry = TimelineEntry(now, *who, "closure_verified", c.state, new.state, c.order_round,
                              note=comment, details={"application_id": closure.application_id,
                                                     "satisfaction": satisfaction,
                                                     "decision": "approve"})
        event = ("closure.verified", event_data(
            new, *who, zone, application_id=closure.application_id,
            verified_at=_local(now, zone), by=actor.person_id, satisfaction=satisfaction,
            comment=comment))
    else:
        _decision(form["decision"])
        reason = _reason(form.get("reason"), required=True)
        changed = replace(closure, status=REJECTED, rejected_at=now, rejected_by=actor.person_id,
                          rejected_stage=STAGE_VERIFY, rejection_reason=reason,
                          satisfaction=satisfaction, comment=comment, holder_id=None,
                          holder_role=None)
        new = replace(c, state=ORDER_SIGNED, closure_application_id=None, updated_at=now)
        entry = TimelineEntry(now, *who, "closure_verify_rejected", c.state, new.state,
                              c.order_round, note=reason,
                              details={"application_id": closure.application_id,
                                       "stage": STAGE_VERIFY, "decision": "reject",
                                       "satisfaction": satisfaction,
                                       "returned_to": DEPARTMENT})
        event = ("closure.rejected", _rejected_data(
            new, who, zone, closure, STAGE_VERIFY, reason, now, DEPARTMENT,
            satisfaction=satisfaction))
    outcome = Outcome(new, [entry], [event])
    outcome.closures.append(changed)
    return outcome


def review(complaint, closure, actor, decision, reason, now, *, gm_id=None, zone=None):
    """Deputy GM: approve (on to the GM) or reject back to verification."""
    c = complaint
    require_role(actor, roles.CENTRE_DEPUTY_GM, "审核结案")
    _loop_state(c, CLOSURE_VERIFIED, "审核结案", {
        CLOSURE_APPLIED: "须先由客服专员回访核查 (the specialist must verify it first)",
        CLOSURE_REVIEWED: "已审核，待总经理审批 (already reviewed)"})
    who = (actor.person_id, roles.CENTRE_DEPUTY_GM)
    if decision == "approve":
        reason = _reason(reason, required=False)
        changed = replace(closure, status=REVIEWED, reviewed_at=now, reviewed_by=actor.person_id,
                          holder_id=gm_id, holder_role=roles.CENTRE_GM)
        new = replace(c, state=CLOSURE_REVIEWED, updated_at=now)
        entry = TimelineEntry(now, *who, "closure_reviewed", c.state, new.state, c.order_round,
                              note=reason, details={"application_id": closure.application_id,
                                                    "decision": "approve"})
        event = ("closure.reviewed", event_data(
            new, *who, zone, application_id=closure.application_id,
            reviewed_at=_local(now, zone), by=actor.person_id, reason=reason))
    else:
        _decision(decision)
        reason = _reason(reason, required=True)
        back_to = closure.verified_by or c.specialist_id
        changed = replace(closure, status=APPLIED, verified_at=None, verified_by=None,
                          satisfaction=None, comment=None, holder_id=back_to,
                          holder_role=roles.SPECIALIST)
        new = replace(c, state=CLOSURE_APPLIED, updated_at=now)
        entry = TimelineEntry(now, *who, "closure_review_rejected", c.state, new.state,
                              c.order_round, note=reason,
                              details={"application_id": closure.application_id,
                                       "stage": STAGE_REVIEW, "decision": "reject",
                                       "returned_to": STAGE_VERIFY})
        event = ("closure.rejected", _rejected_data(
            new, who, zone, closure, STAGE_REVIEW, reason, now, STAGE_VERIFY,
            returned_to_person_id=back_to))
    outcome = Outcome(new, [entry], [event])
    outcome.closures.append(changed)
    return outcome


def approve(complaint, closure, actor, decision, reason, now, *, deputy_gm_id=None, zone=None):
    """GM: approve (the complaint is closed) or reject back to the review."""
    c = complaint
    require_role(actor, roles.CENTRE_GM, "审批结案")
    _loop_state(c, CLOSURE_REVIEWED, "审批结案", {
        CLOSURE_APPLIED: "尚未经客服专员核查和副总经理审核 (not verified and reviewed yet)",
        CLOSURE_VERIFIED: "须先经副总经理审核 (the deputy GM must review it first)"})
    who = (actor.person_id, roles.CENTRE_GM)
    if decision == "approve":
        reason = _reason(reason, required=False)
        changed = replace(closure, status=APPROVED, closed_at=now, closed_by=actor.person_id,
                          holder_id=None, holder_role=None)
        new = replace(c, state=CLOSED, closed_at=now, updated_at=now)
        entry = TimelineEntry(now, *who, "closure_approved", c.state, new.state, c.order_round,
                              note=reason, details={"application_id": closure.application_id,
                                                    "decision": "approve"})
        event = ("complaint.closed", event_data(
            new, *who, zone, closed_at=_local(now, zone), application_id=closure.application_id,
            by=actor.person_id, satisfaction=closure.satisfaction, reason=reason))
    else:
        _decision(decision)
        reason = _reason(reason, required=True)
        back_to = closure.reviewed_by or deputy_gm_id
        changed = replace(closure, status=VERIFIED, reviewed_at=None, reviewed_by=None,
                          holder_id=back_to, holder_role=roles.CENTRE_DEPUTY_GM)
        new = replace(c, state=CLOSURE_VERIFIED, updated_at=now)
        entry = TimelineEntry(now, *who, "closure_approve_rejected", c.state, new.state,
                              c.order_round, note=reason,
                              details={"application_id": closure.application_id,
                                       "stage": STAGE_APPROVE, "decision": "reject",
                                       "returned_to": STAGE_REVIEW})
        event = ("closure.rejected", _rejected_data(
            new, who, zone, closure, STAGE_APPROVE, reason, now, STAGE_REVIEW,
            returned_to_person_id=back_to))
    outcome = Outcome(new, [entry], [event])
    outcome.closures.append(changed)
    return outcome
