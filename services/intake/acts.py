"""Acts of fairness on the centre's side (issue 13; SPEC §4 fairness, §10):
voiding a complaint recorded by mistake, sending the customer a new signing
link (Art. 13), and accepting a callback's stated time that precedes its
receipt by more than the grace.

Pure: no I/O. `now`, tokens and the grace are passed in; each returns an
`Outcome` the service stores in one transaction with its timeline and events.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from services.intake.access import Actor, require_role, require_signing_link_role
from services.intake.model import (
    Callback,
    Complaint,
    Outcome,
    TimeAcceptance,
    TimelineEntry,
    checked_reason,
    event_data,
    hand_over,
    local,
    new_link,
)
from shared import roles
from shared.contracts.intake.vocabulary import (
    SIG_PENDING,
    SIGNED_BY_LINK,
    STATE_LABELS,
    STEP_RATING,
    STEP_RECORD_SIGNATURE,
    VOIDABLE,
    VOIDED,
)
from shared.errors import Conflict, NotFound


def require_not_voided(complaint: Complaint) -> None:
    """No step acts on a voided complaint (409)."""
    if complaint.state == VOIDED:
        raise Conflict(f"投诉 {complaint.id} 已作废，不能再办理 (voided: no step may act on it)")


# -- void (SPEC §4 fairness, §10) ---------------------------------------------------------

def void(complaint: Complaint, actor: Actor, reason: str | None, now: datetime,
         zone: tzinfo | None = None) -> Outcome:
    """The deputy GM voids a complaint recorded by mistake (a duplicate, the
    wrong customer) while its first order is not signed: its clocks stop and
    nobody is charged (sla and penalty, on `complaint.voided`). A reopened
    complaint's earlier rounds were real work: it is not voided."""
    c = complaint
    require_role(actor, roles.CENTRE_DEPUTY_GM, "作废投诉")
    require_not_voided(c)
    if c.state not in VOIDABLE or c.order_round > 1:
        label = STATE_LABELS.get(c.state, c.state)
        why = ("督办单已签发" if c.signed_at is not None or c.order_round > 1
               else f"当前状态为「{label}」")
        raise Conflict(f"投诉 {c.id} {why}，不能作废；只有督办单签发前登记有误的投诉可以作废 "
                       f"(only before the order is signed; state {c.state})")
    reason = checked_reason(reason, required=True)
    assert reason is not None
    new = replace(c, state=VOIDED, voided_at=now, voided_by=actor.person_id,
                  void_reason=reason, updated_at=now, holders=hand_over(c.holders, now))
    who = (actor.person_id, roles.CENTRE_DEPUTY_GM)
    entry = TimelineEntry(now, *who, "voided", c.state, VOIDED, c.order_round, note=reason,
                          details={"previous_state": c.state})
    outcome = Outcome(new, [entry], [("complaint.voided", event_data(
        new, *who, zone, voided_by=actor.person_id, voided_at=local(now, zone), reason=reason,
        previous_state=c.state))])
    outcome.revoke_links = (STEP_RECORD_SIGNATURE, STEP_RATING)
    return outcome


# -- the signing link again (Art. 13) -------------------------------------------------------

def resend_signing_link(complaint: Complaint, actor: Actor, now: datetime, *, token: str,
                        ttl: timedelta, zone: tzinfo | None = None) -> Outcome:
    """A new one-time signing link for a phone or letter complaint the
    customer has not signed: every earlier link stops working, and the SMS
    goes out again (`complaint.signature_requested`, resent)."""
    c = complaint
    role = require_signing_link_role(actor, c)
    require_not_voided(c)
    if c.channel not in SIGNED_BY_LINK:
        raise Conflict(f"投诉 {c.id} 由客户在现场签名，无需签名链接 "
                       "(signed at the desk: no signing link)")
    if c.signature_status != SIG_PENDING:
        raise Conflict(f"投诉 {c.id} 客户已签名 (the customer already signed)")
    made = new_link(token, c, STEP_RECORD_SIGNATURE, now, ttl)
    new = replace(c, updated_at=now)
    who = (actor.person_id, role)
    entry = TimelineEntry(now, *who, "signing_link_resent", c.state, c.state, c.order_round,
                          details={"expires_at": made.link.expires_at.isoformat()})
    outcome = Outcome(new, [entry], [("complaint.signature_requested", event_data(
        new, *who, zone, step=STEP_RECORD_SIGNATURE, link_path=made.path,
        expires_at=local(made.link.expires_at, zone), customer_phone=c.customer_phone,
        customer_name=c.customer_name, resent=True))])
    outcome.revoke_links = (STEP_RECORD_SIGNATURE,)
    outcome.new_links.append(made)
    return outcome


# -- a callback's stated time (SPEC §4 fairness) ---------------------------------------------

def stated_too_early(stated_at: datetime, received_at: datetime, grace: timedelta) -> bool:
    """The stated time precedes the receipt by more than the grace: the
    deadline is judged by the receipt unless the deputy GM accepts it."""
    return received_at - stated_at > grace


def accept_callback_time(complaint: Complaint, callback: Callback | None,
                         existing: TimeAcceptance | None, actor: Actor, reason: str | None,
                         now: datetime, grace: timedelta,
                         zone: tzinfo | None = None) -> Outcome:
    c = complaint
    require_role(actor, roles.CENTRE_DEPUTY_GM, "认可陈述时间")
    if callback is None or callback.complaint_id != c.id or callback.callback_id is None:
        raise NotFound(f"投诉 {c.id} 没有此回访记录 (no such callback)")
    if existing is not None:
        raise Conflict(f"回访 {callback.callback_id} 的陈述时间已于 "
                       f"{local(existing.accepted_at, zone):%Y-%m-%d %H:%M} 认可 "
                       "(the stated time was already accepted)")
    if not stated_too_early(callback.callback_at, callback.recorded_at, grace):
        minutes = int(grace.total_seconds() // 60)
        raise Conflict(f"回访 {callback.callback_id} 的陈述时间早于登记时间不超过 {minutes} 分钟，"
                       f"已按陈述时间计，无需认可 (within the {minutes}-minute grace: "
                       "nothing to accept)")
    reason = checked_reason(reason, required=True)
    assert reason is not None and actor.person_id is not None
    acceptance = TimeAcceptance(callback.callback_id, c.id, callback.callback_at,
                                callback.recorded_at, actor.person_id, now, reason)
    who = (actor.person_id, roles.CENTRE_DEPUTY_GM)
    entry = TimelineEntry(now, *who, "callback_time_accepted", c.state, c.state, c.order_round,
                          note=reason, details={
                              "callback_id": callback.callback_id,
                              "stated_at": callback.callback_at.isoformat(),
                              "received_at": callback.recorded_at.isoformat()})
    outcome = Outcome(replace(c, updated_at=now), [entry], [("callback.time_accepted", event_data(
        c, *who, zone, callback_id=callback.callback_id, visit_ids=list(callback.visit_ids),
        stated_at=local(callback.callback_at, zone),
        received_at=local(callback.recorded_at, zone), accepted_by=actor.person_id,
        accepted_at=local(now, zone), reason=reason))])
    outcome.time_acceptance = acceptance
    return outcome
