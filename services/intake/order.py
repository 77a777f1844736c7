"""The supervision order (SPEC §2; Art. 13-15, 18, 21, 33): recording a
complaint, the order's approval chain (the specialist submits, the deputy GM
reviews, the GM signs), reopening a closed complaint and escalating one.

Pure: no I/O. `now` (an aware datetime), random tokens and directory answers
are passed in; every step returns an `Outcome` the service stores in one
transaction: the changed complaint, its timeline entries and its events.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from services.intake.access import Actor, require_desk_specialist, require_role
from services.intake.model import (
    Complaint,
    Holder,
    Outcome,
    TimelineEntry,
    check_decision,
    checked_reason,
    event_data,
    hand_over,
    local,
    new_link,
    require_state,
)
from services.intake.signature import check_signature_media, new_binding
from shared import roles
from shared.contracts.intake.vocabulary import (
    CLOSED,
    ESCALATION_LEVELS,
    ORDER_DRAFTED,
    ORDER_REVIEWED,
    ORDER_SIGNED,
    ORDER_SUBMITTED,
    RECEIVED,
    SIG_BINDING,
    SIG_PENDING,
    SIGNED_AT_DESK,
    STEP_RECORD_SIGNATURE,
)
from shared.errors import Conflict, InvalidInput
from shared.organisation import DEPARTMENT_NAMES_ZH, DEPARTMENTS

# -- recording (Art. 13-15) -----------------------------------------------------

def record(complaint_id: str, region: str, form: Mapping[str, Any], actor: Actor,
           project: Mapping[str, Any], now: datetime, *,
           signature_media: Mapping[str, Any] | None = None, link_token: str | None = None,
           link_ttl: timedelta = timedelta(hours=24), zone: tzinfo | None = None) -> Outcome:
    """A new complaint from a validated form (shared.contracts.intake.forms.RecordForm).

    `project` is the directory's project; `signature_media` the media
    service's description of the desk signature (visit/mobile);
    `link_token` a fresh random token for the signing link (phone/letter)."""
    recorded_by = require_desk_specialist(actor, form["project_id"], "登记投诉")
    at_desk = form["channel"] in SIGNED_AT_DESK
    media_id = None
    if at_desk:
        media_id = check_signature_media(signature_media, "customer_signature_media_id")["id"]
    elif not link_token:
        raise ValueError("a phone or letter recording needs a signing link token")
    on_spot = bool(form["resolved_on_spot"])
    base = Complaint(
        id=complaint_id, region=region, project_id=form["project_id"], room=form["room"],
        customer_name=form["customer_name"], customer_phone=form["customer_phone"],
        channel=form["channel"], demand=form["demand"], category=form["category"],
        requested_completion_at=form["requested_completion_at"],
        contact_ended_at=form["contact_ended_at"], recorded_by=recorded_by,
        recorded_at=now, resolved_on_spot=on_spot,
        region_company_id=company_id(project, "region_company"),
        property_company_id=company_id(project, "property_company"),
        state=RECEIVED, signature_status=SIG_BINDING if at_desk else SIG_PENDING,
        signature_media_id=media_id,
        order_round=1, round_started_at=form["contact_ended_at"], updated_at=now)
    who = (actor.person_id, roles.SPECIALIST)
    entries = [TimelineEntry(now, *who, "recorded", None, RECEIVED, 1,
                             details={"channel": base.channel, "category": base.category})]
    if on_spot:
        complaint = replace(base, state=CLOSED, closed_at=now)
        entries.append(TimelineEntry(now, *who, "resolved_on_spot", RECEIVED, CLOSED, 1,
                                     note="当场解决 (resolved on the spot, Art. 15)"))
    else:
        # Art. 14: the order is drafted at once and held by the specialist.
        complaint = replace(base, state=ORDER_DRAFTED,
                            holders=(Holder(actor.person_id, roles.SPECIALIST, now),))
        entries.append(TimelineEntry(now, *who, "order_drafted", RECEIVED, ORDER_DRAFTED, 1))
    outcome = Outcome(complaint, entries)
    received_extra: dict[str, Any] = {"resolved_on_spot": on_spot,
                      "signature_media_id": complaint.signature_media_id}
    outcome.events.append(("complaint.received", event_data(complaint, *who, zone,
                                                            **received_extra)))
    if on_spot:
        outcome.events.append(("complaint.resolved_on_spot", event_data(
            complaint, *who, zone, closed_at=local(now, zone))))
    if at_desk:
        outcome.binding = new_binding(complaint, actor.person_id, now)
    else:
        assert link_token is not None       # checked above
        made = new_link(link_token, complaint, STEP_RECORD_SIGNATURE, now, link_ttl)
        outcome.new_links.append(made)
        outcome.events.append(("complaint.signature_requested", event_data(
            complaint, *who, zone, step=STEP_RECORD_SIGNATURE, link_path=made.path,
            expires_at=local(made.link.expires_at, zone),
            customer_phone=complaint.customer_phone, customer_name=complaint.customer_name)))
    return outcome


def company_id(project: Mapping[str, Any], key: str) -> str | None:
    """The id of a project's company as the directory gives it (nested or flat)."""
    value = project.get(key)
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) else project.get(f"{key}_id")


# -- the order's approval chain (Art. 14, 18) ------------------------------------

def submit(complaint: Complaint, actor: Actor, now: datetime, deputy_gm_id: str | None,
           zone: tzinfo | None = None) -> Outcome:
    c = complaint
    require_desk_specialist(actor, c.project_id, "提交督办单")
    require_state(c, ORDER_DRAFTED, "提交督办单")
    resubmitted = c.first_submitted_at is not None
    new = replace(c, state=ORDER_SUBMITTED, submitted_at=now, submitted_by=actor.person_id,
                  first_submitted_at=c.first_submitted_at or now, updated_at=now,
                  holders=hand_over(c.holders, now, deputy_gm_id, roles.CENTRE_DEPUTY_GM))
    who = (actor.person_id, roles.SPECIALIST)
    return Outcome(new, [TimelineEntry(now, *who, "order_submitted", c.state, new.state,
                                       c.order_round, details={"resubmitted": resubmitted})],
                   [("order.submitted", event_data(new, *who, zone, resubmitted=resubmitted))])


def review(complaint: Complaint, actor: Actor, decision: str, reason: str | None, now: datetime,
           *, gm_id: str | None, zone: tzinfo | None = None) -> Outcome:
    """Deputy GM: approve (on to the GM) or reject (back to the specialist)."""
    c = complaint
    require_role(actor, roles.CENTRE_DEPUTY_GM, "审核督办单")
    require_state(c, ORDER_SUBMITTED, "审核督办单",
                  "督办单须先由客服专员提交 (the specialist must submit the order first)"
                  if c.state == ORDER_DRAFTED else "")
    who = (actor.person_id, roles.CENTRE_DEPUTY_GM)
    if decision == "approve":
        reason = checked_reason(reason, required=False)
        new = replace(c, state=ORDER_REVIEWED, reviewed_at=now, reviewed_by=actor.person_id,
                      updated_at=now, holders=hand_over(c.holders, now, gm_id, roles.CENTRE_GM))
        entry = TimelineEntry(now, *who, "order_reviewed", c.state, new.state, c.order_round,
                              note=reason, details={"decision": "approve"})
        return Outcome(new, [entry], [("order.reviewed", event_data(new, *who, zone,
                                                                     reason=reason))])
    check_decision(decision)
    reason = checked_reason(reason, required=True)
    back_to = c.submitted_by or c.recorded_by
    new = replace(c, state=ORDER_DRAFTED, updated_at=now,
                  holders=hand_over(c.holders, now, back_to, roles.SPECIALIST))
    entry = TimelineEntry(now, *who, "order_review_rejected", c.state, new.state, c.order_round,
                          note=reason, details={"decision": "reject", "step": "review"})
    return Outcome(new, [entry], [("order.rejected", event_data(
        new, *who, zone, step="review", reason=reason, returned_to_role=roles.SPECIALIST,
        returned_to_person_id=back_to))])


def sign(complaint: Complaint, actor: Actor, decision: str, reason: str | None, now: datetime,
         *, department: str | None = None, department_reason: str | None = None,
         deputy_gm_id: str | None = None, zone: tzinfo | None = None) -> Outcome:
    """GM: sign (dispatch the order, optionally overriding the department) or
    reject (back to the deputy GM to review again)."""
    c = complaint
    require_role(actor, roles.CENTRE_GM, "签发督办单")
    hint = {ORDER_DRAFTED: "督办单尚未提交 (the order was never submitted)",
            ORDER_SUBMITTED: "督办单须先经副总经理审核 (the order must be reviewed first)"}
    require_state(c, ORDER_REVIEWED, "签发督办单", hint.get(c.state, ""))
    who = (actor.person_id, roles.CENTRE_GM)
    if decision == "approve":
        reason = checked_reason(reason, required=False)
        if department is not None:
            if department not in DEPARTMENTS:
                raise InvalidInput({"department": [
                    f"部门须为 {', '.join(DEPARTMENTS)} 之一 (unknown department)"]})
            department_reason = checked_reason(department_reason, True, "department_reason")
        elif department_reason:
            raise InvalidInput({"department": ["给出调整理由时须指定部门 (name the department)"]})
        new = replace(c, state=ORDER_SIGNED, signed_at=now, signed_by=actor.person_id,
                      department=department, department_reason=department_reason,
                      updated_at=now, holders=hand_over(c.holders, now))
        details: dict[str, Any] = {"decision": "approve"}
        if department:
            details.update(department=department, department_reason=department_reason,
                           department_label=DEPARTMENT_NAMES_ZH[department])
        entry = TimelineEntry(now, *who, "order_signed", c.state, new.state, c.order_round,
                              note=reason, details=details)
        return Outcome(new, [entry], [("order.signed", event_data(
            new, *who, zone, reason=reason, department_overridden=department is not None))])
    check_decision(decision)
    if department is not None or department_reason:
        raise InvalidInput({"department": [
            "退回时不能调整部门 (no department change on a rejection)"]})
    reason = checked_reason(reason, required=True)
    new = replace(c, state=ORDER_SUBMITTED, reviewed_at=None, reviewed_by=None, updated_at=now,
                  holders=hand_over(c.holders, now, deputy_gm_id, roles.CENTRE_DEPUTY_GM))
    entry = TimelineEntry(now, *who, "order_sign_rejected", c.state, new.state, c.order_round,
                          note=reason, details={"decision": "reject", "step": "sign"})
    return Outcome(new, [entry], [("order.rejected", event_data(
        new, *who, zone, step="sign", reason=reason, returned_to_role=roles.CENTRE_DEPUTY_GM,
        returned_to_person_id=deputy_gm_id))])


# -- reopen and escalate (Art. 5, 21, 33) -----------------------------------------

def reopen(complaint: Complaint, actor: Actor, reason: str | None, now: datetime,
           zone: tzinfo | None = None) -> Outcome:
    """The customer complained again about a closed complaint (再次投訴): a
    new order round starts now, the history stays."""
    c = complaint
    require_desk_specialist(actor, c.project_id, "重新打开投诉")
    require_state(c, CLOSED, "重新打开", "只有已关闭的投诉可以再次投诉 (only a closed complaint)")
    reason = checked_reason(reason, required=True)
    new = replace(c, state=ORDER_DRAFTED, order_round=c.order_round + 1, round_started_at=now,
                  submitted_at=None, submitted_by=None, first_submitted_at=None,
                  reviewed_at=None, reviewed_by=None, signed_at=None, signed_by=None,
                  department=None, department_reason=None, closed_at=None,
                  reopen_count=c.reopen_count + 1, updated_at=now,
                  # the new round is routed afresh; the last round's stay in the timeline
                  routing_id=None, routed_at=None, handler_id=None, responsibility=None,
                  responsible_person_ids=(), responsible_unit_ids=(),
                  callback_due_since=None, callback_visit_ids=(), closure_application_id=None,
                  holders=(Holder(actor.person_id, roles.SPECIALIST, now),))
    who = (actor.person_id, roles.SPECIALIST)
    entry = TimelineEntry(now, *who, "reopened", c.state, new.state, new.order_round,
                          note=reason, details={"reopen_count": new.reopen_count})
    return Outcome(new, [entry], [("complaint.reopened", event_data(
        new, *who, zone, reason=reason, previous_closed_at=local(c.closed_at, zone)))])


def escalate(complaint: Complaint, actor: Actor, level: str, reason: str | None, now: datetime,
             zone: tzinfo | None = None) -> Outcome:
    """GM: flag major / group / common issue; responsibility moves to the chairman."""
    c = complaint
    require_role(actor, roles.CENTRE_GM, "升级投诉")
    if level not in ESCALATION_LEVELS:
        raise InvalidInput({"level": ["须为 major、group 或 common_issue (unknown level)"]})
    if c.state == CLOSED:
        raise Conflict(f"投诉 {c.id} 已关闭，不能升级；如客户再次投诉请先重新打开 "
                       "(closed: reopen it first)")
    if c.escalation_level == level:
        raise Conflict(f"投诉 {c.id} 已标记为{ESCALATION_LEVELS[level]} (already {level})")
    reason = checked_reason(reason, required=True)
    new = replace(c, escalation_level=level, escalation_reason=reason, escalated_at=now,
                  escalated_by=actor.person_id, updated_at=now)
    who = (actor.person_id, roles.CENTRE_GM)
    entry = TimelineEntry(now, *who, "escalated", c.state, c.state, c.order_round, note=reason,
                          details={"level": level, "previous_level": c.escalation_level})
    return Outcome(new, [entry], [("complaint.escalated", event_data(
        new, *who, zone, level=level, previous_level=c.escalation_level, reason=reason))])
