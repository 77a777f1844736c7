"""The closure loop (SPEC §2, §8; Art. 28, 29): the department's application
(dispatch's `closure.applied`), then the specialist's verification with the
callback and satisfaction survey, the deputy GM's review and the GM's approval.

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

Pure: no I/O. Who answers for the complaint and the Art. 23 callback are
services/intake/aftercare.py's.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any

from services.intake.access import Actor, require_desk_specialist, require_role
from services.intake.aftercare import DEPARTMENT
from services.intake.model import (
    Closure,
    Complaint,
    Outcome,
    TimelineEntry,
    UnexpectedEvent,
    Who,
    check_decision,
    checked_reason,
    event_data,
    local,
    require_state,
)
from shared import roles
from shared.contracts.intake.vocabulary import (
    APPLIED,
    APPROVED,
    CLOSED,
    CLOSURE_APPLIED,
    CLOSURE_REVIEWED,
    CLOSURE_VERIFIED,
    ORDER_SIGNED,
    REJECTED,
    REVIEWED,
    SUPERSEDED,
    VERIFIED,
)
from shared.errors import InvalidInput

STAGE_VERIFY, STAGE_REVIEW, STAGE_APPROVE = "verify", "review", "approve"
IN_LOOP = (CLOSURE_APPLIED, CLOSURE_VERIFIED, CLOSURE_REVIEWED)


# -- the department's application (dispatch's closure.applied, Art. 28) ----------------------

def on_closure_applied(complaint: Complaint, current: Closure | None,
                       applied: Mapping[str, Any], now: datetime) -> Outcome | None:
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


def _loop_state(complaint: Complaint, expected: str, action: str, hints: dict[str, str]) -> None:
    hint = {**_NOT_YET, CLOSED: "投诉已关闭 (the complaint is closed)", **hints}
    require_state(complaint, expected, action, hint.get(complaint.state, ""))


def _rejected_data(new: Complaint, who: Who, zone: tzinfo | None, closure: Closure, stage: str,
                   reason: str | None, now: datetime, returned_to: str,
                   **extra: Any) -> dict[str, Any]:
    return event_data(new, *who, zone, application_id=closure.application_id, stage=stage,
                      rejected_at=local(now, zone), by=who[0], reason=reason,
                      returned_to=returned_to, application_rejected=stage == STAGE_VERIFY,
                      **extra)


def verify(complaint: Complaint, closure: Closure, actor: Actor, form: Mapping[str, Any],
           now: datetime, *, deputy_gm_id: str | None = None,
           zone: tzinfo | None = None) -> Outcome:
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
            raise InvalidInput({"satisfaction": [
                "须录入客户满意度 1-5 (satisfaction 1-5 required)"]})
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
            verified_at=local(now, zone), by=actor.person_id, satisfaction=satisfaction,
            comment=comment))
    else:
        check_decision(form["decision"])
        reason = checked_reason(form.get("reason"), required=True)
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


def review(complaint: Complaint, closure: Closure, actor: Actor, decision: str,
           reason: str | None, now: datetime, *, gm_id: str | None = None,
           zone: tzinfo | None = None) -> Outcome:
    """Deputy GM: approve (on to the GM) or reject back to verification."""
    c = complaint
    require_role(actor, roles.CENTRE_DEPUTY_GM, "审核结案")
    _loop_state(c, CLOSURE_VERIFIED, "审核结案", {
        CLOSURE_APPLIED: "须先由客服专员回访核查 (the specialist must verify it first)",
        CLOSURE_REVIEWED: "已审核，待总经理审批 (already reviewed)"})
    who = (actor.person_id, roles.CENTRE_DEPUTY_GM)
    if decision == "approve":
        reason = checked_reason(reason, required=False)
        changed = replace(closure, status=REVIEWED, reviewed_at=now, reviewed_by=actor.person_id,
                          holder_id=gm_id, holder_role=roles.CENTRE_GM)
        new = replace(c, state=CLOSURE_REVIEWED, updated_at=now)
        entry = TimelineEntry(now, *who, "closure_reviewed", c.state, new.state, c.order_round,
                              note=reason, details={"application_id": closure.application_id,
                                                    "decision": "approve"})
        event = ("closure.reviewed", event_data(
            new, *who, zone, application_id=closure.application_id,
            reviewed_at=local(now, zone), by=actor.person_id, reason=reason))
    else:
        check_decision(decision)
        reason = checked_reason(reason, required=True)
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


def approve(complaint: Complaint, closure: Closure, actor: Actor, decision: str,
            reason: str | None, now: datetime, *, deputy_gm_id: str | None = None,
            zone: tzinfo | None = None) -> Outcome:
    """GM: approve (the complaint is closed) or reject back to the review."""
    c = complaint
    require_role(actor, roles.CENTRE_GM, "审批结案")
    _loop_state(c, CLOSURE_REVIEWED, "审批结案", {
        CLOSURE_APPLIED: "尚未经客服专员核查和副总经理审核 (not verified and reviewed yet)",
        CLOSURE_VERIFIED: "须先经副总经理审核 (the deputy GM must review it first)"})
    who = (actor.person_id, roles.CENTRE_GM)
    if decision == "approve":
        reason = checked_reason(reason, required=False)
        changed = replace(closure, status=APPROVED, closed_at=now, closed_by=actor.person_id,
                          holder_id=None, holder_role=None)
        new = replace(c, state=CLOSED, closed_at=now, updated_at=now)
        entry = TimelineEntry(now, *who, "closure_approved", c.state, new.state, c.order_round,
                              note=reason, details={"application_id": closure.application_id,
                                                    "decision": "approve"})
        event = ("complaint.closed", event_data(
            new, *who, zone, closed_at=local(now, zone), application_id=closure.application_id,
            by=actor.person_id, satisfaction=closure.satisfaction, reason=reason))
    else:
        check_decision(decision)
        reason = checked_reason(reason, required=True)
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
