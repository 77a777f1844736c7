"""Intake's records (SPEC §2, §8): the complaint, its timeline, links,
signature binding, rating, closure applications and callbacks, and what
every step shares: the `Outcome` it returns, the facts its events carry,
the order's holders and the state and reason checks.

Pure: no I/O. The words (states, channels, decisions ...) are the contract's
(shared.contracts.intake.vocabulary): the gateway reads the same ones.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from shared.contracts.intake.vocabulary import APPLIED, DECISIONS, STATE_LABELS
from shared.errors import Conflict, InvalidInput
from shared.signing import record_sha256

RECORD_TYPE = "complaint"

# What a timeline entry or an event says of who acted: (person id, role).
Who = tuple[str | None, str | None]


@dataclass(frozen=True)
class Holder:
    """Who held the order from when to when (None: still holds it)."""
    person_id: str | None
    role: str
    held_from: datetime
    held_to: datetime | None = None


@dataclass(frozen=True)
class Complaint:
    id: str
    region: str
    project_id: str
    room: str
    customer_name: str
    customer_phone: str
    channel: str
    demand: str
    category: str
    requested_completion_at: datetime
    contact_ended_at: datetime
    recorded_by: str
    recorded_at: datetime
    resolved_on_spot: bool
    region_company_id: str | None
    property_company_id: str | None
    state: str
    signature_status: str
    signature_media_id: str | None
    order_round: int
    round_started_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    submitted_by: str | None = None
    first_submitted_at: datetime | None = None
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    signed_at: datetime | None = None
    signed_by: str | None = None
    department: str | None = None
    department_reason: str | None = None
    escalation_level: str | None = None
    escalation_reason: str | None = None
    escalated_at: datetime | None = None
    escalated_by: str | None = None
    reopen_count: int = 0
    closed_at: datetime | None = None
    # Who answers for this round, as dispatch announced it (complaint.routed);
    # a copy for the complaint's page, `assigned_to_me` and who may see it.
    routing_id: str | None = None
    routed_at: datetime | None = None
    handler_id: str | None = None
    responsibility: dict[str, Any] | None = None
    responsible_person_ids: tuple[str, ...] = ()
    responsible_unit_ids: tuple[str, ...] = ()
    # Art. 23: a blocked visit awaits the centre's callback (a flag beside the
    # state: the department's work goes on meanwhile).
    callback_due_since: datetime | None = None
    callback_visit_ids: tuple[str, ...] = ()
    # Art. 28, 29: the closure application under way (or approved).
    closure_application_id: str | None = None
    # Voided by the deputy GM (recorded by mistake), before the order was signed.
    voided_at: datetime | None = None
    voided_by: str | None = None
    void_reason: str | None = None
    holders: tuple[Holder, ...] = ()   # this order round's holders, in order

    @property
    def holder(self) -> Holder | None:
        """The current holder of the order, or None."""
        if self.holders and self.holders[-1].held_to is None:
            return self.holders[-1]
        return None

    @property
    def specialist_id(self) -> str | None:
        """The specialist responsible for this round's order (`order_submit`)."""
        return self.holders[0].person_id if self.holders else self.recorded_by


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor_id: str | None
    actor_role: str | None
    action: str
    from_state: str | None
    to_state: str | None
    order_round: int
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    token_sha256: str
    complaint_id: str
    order_round: int
    step: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None    # replaced by a newer link, or the complaint voided


@dataclass(frozen=True)
class NewLink:
    """A link just made: the token itself exists only here and in its event."""
    token: str
    link: Link

    @property
    def path(self) -> str:
        return link_path(self.token)


@dataclass(frozen=True)
class Binding:
    """The customer's signature being bound to the complaint's record in media."""
    media_id: str
    complaint_id: str
    record_type: str
    record_sha256: str
    bound_by: str | None
    state: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    last_error: str | None = None
    bound_at: datetime | None = None

    @property
    def record_id(self) -> str:
        """The record the signature confirms: the complaint (shared.signature_binding)."""
        return self.complaint_id


@dataclass(frozen=True)
class Rating:
    complaint_id: str
    order_round: int
    specialist_id: str | None
    score: int
    comment: str | None
    via: str
    rated_by: str | None
    rated_at: datetime


@dataclass(frozen=True)
class Closure:
    """A department's closure application as the centre handles it."""
    application_id: str
    complaint_id: str
    order_round: int
    applied_at: datetime
    applied_by: str
    received_at: datetime
    material_media_ids: tuple[str, ...] = ()
    signature_media_id: str | None = None
    status: str = APPLIED
    holder_id: str | None = None     # whose step it is now (`assigned_to_me`)
    holder_role: str | None = None
    verified_at: datetime | None = None
    verified_by: str | None = None
    satisfaction: int | None = None
    comment: str | None = None
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    rejected_at: datetime | None = None
    rejected_by: str | None = None
    rejected_stage: str | None = None
    rejection_reason: str | None = None


@dataclass(frozen=True)
class Callback:
    """The centre's callback to the customer after a blocked visit (Art. 23)."""
    complaint_id: str
    order_round: int
    callback_at: datetime
    recorded_at: datetime
    called_by: str | None
    called_role: str
    outcome: str
    note: str | None
    visit_ids: tuple[str, ...]
    due_since: datetime | None
    callback_id: str | None = None       # `<complaint>-CB<n>`, as dispatch names it too


@dataclass(frozen=True)
class TimeAcceptance:
    """The deputy GM accepted an act's stated time that precedes its receipt
    by more than the grace (SLA.stated_time_grace_minutes), with a reason."""
    callback_id: str
    complaint_id: str
    stated_at: datetime
    received_at: datetime
    accepted_by: str
    accepted_at: datetime
    reason: str


@dataclass
class Outcome:
    """What one step changes; stored in one transaction by the service."""
    complaint: Complaint
    entries: list[TimelineEntry] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    new_links: list[NewLink] = field(default_factory=list)
    used_link: Link | None = None
    binding: Binding | None = None
    rating: Rating | None = None
    closures: list[Closure] = field(default_factory=list)   # applications to store
    callback: Callback | None = None
    time_acceptance: TimeAcceptance | None = None
    revoke_links: tuple[str, ...] = ()   # link steps whose open links stop working now


class UnexpectedEvent(Exception):
    """An event the complaint's state cannot explain: a bug or lost data, for
    an operator (the consumer retries, then dead-letters it)."""


# -- links --------------------------------------------------------------------------

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_path(token: str) -> str:
    """Where the customer opens the link (the web page; its API is /api/sign/<token>)."""
    return f"/sign/{token}"


def new_link(token: str, complaint: Complaint, step: str, now: datetime,
             ttl: timedelta) -> NewLink:
    return NewLink(token, Link(token_hash(token), complaint.id, complaint.order_round, step,
                               now, now + ttl))


# -- what the customer's signature confirms (SPEC §2, §6) ------------------------------

SIGNED_FIELDS = ("id", "project_id", "room", "customer_name", "customer_phone", "channel",
                 "demand", "category", "requested_completion_at", "contact_ended_at",
                 "recorded_by", "recorded_at", "resolved_on_spot")


def signed_record(complaint: Complaint) -> dict[str, Any]:
    """What the customer's signature confirms: the recording (SPEC §2, §6)."""
    return {"record_type": RECORD_TYPE,
            **{name: getattr(complaint, name) for name in SIGNED_FIELDS}}


def record_hash(complaint: Complaint) -> str:
    return record_sha256(signed_record(complaint))


# -- events -------------------------------------------------------------------------

def local(value: datetime | None, zone: tzinfo | None) -> datetime | None:
    """A time in the group's zone, as events carry it."""
    return value.astimezone(zone) if value is not None and zone is not None else value


def event_data(complaint: Complaint, actor_id: str | None, actor_role: str | None,
               zone: tzinfo | None = None, **extra: Any) -> dict[str, Any]:
    """The facts every intake event carries (sla and penalty compute from these)."""
    c = complaint
    data = {
        "complaint_id": c.id, "project_id": c.project_id,
        "region_company_id": c.region_company_id, "property_company_id": c.property_company_id,
        "category": c.category, "channel": c.channel, "room": c.room, "state": c.state,
        "order_round": c.order_round, "specialist_id": c.specialist_id,
        "recorded_by": c.recorded_by,
        "recorded_at": local(c.recorded_at, zone),
        "contact_ended_at": local(c.contact_ended_at, zone),
        "round_started_at": local(c.round_started_at, zone),
        "requested_completion_at": local(c.requested_completion_at, zone),
        "submitted_at": local(c.submitted_at, zone),
        "first_submitted_at": local(c.first_submitted_at, zone),
        "reviewed_at": local(c.reviewed_at, zone),
        "signed_at": local(c.signed_at, zone),
        "department": c.department, "department_reason": c.department_reason,
        "escalation_level": c.escalation_level, "reopen_count": c.reopen_count,
        "signature_status": c.signature_status,
        "holders": [{"person_id": h.person_id, "role": h.role,
                     "held_from": local(h.held_from, zone), "held_to": local(h.held_to, zone)}
                    for h in c.holders],
        "actor_id": actor_id, "actor_role": actor_role,
    }
    data.update(extra)
    return data


# -- what every step checks -------------------------------------------------------------

def hand_over(holders: tuple[Holder, ...], now: datetime, person_id: str | None = None,
              role: str | None = None) -> tuple[Holder, ...]:
    """Close the open holding at `now`; open the next one if a role is given."""
    closed = tuple(replace(h, held_to=now) if h.held_to is None else h for h in holders)
    if role is None:
        return closed
    return closed + (Holder(person_id, role, now),)


def require_state(complaint: Complaint, expected: str, action: str, hint: str = "") -> None:
    if complaint.state != expected:
        label = STATE_LABELS.get(complaint.state, complaint.state)
        raise Conflict(f"投诉 {complaint.id} 当前状态为「{label}」，不能{action}"
                       + (f"：{hint}" if hint else "")
                       + f" (state {complaint.state}: cannot do this now)")


def checked_reason(reason: str | None, required: bool,
                   field_name: str = "reason") -> str | None:
    """The reason as given, None if blank; InvalidInput if required and blank."""
    text = (reason or "").strip()
    if required and not text:
        raise InvalidInput({field_name: ["须填写理由 (a reason is required)"]})
    return reason if text else None


def check_decision(decision: str) -> None:
    if decision not in DECISIONS:
        raise InvalidInput({"decision": ["须为 approve 或 reject (approve or reject)"]})
