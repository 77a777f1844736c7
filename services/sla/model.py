"""What the sla domain works on: its copy of a complaint, timers, the
directory's people, and the outcome of a decision (pure data, no I/O)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

# A person as events carry them: {person_id, name, mobile[, role]}; an order's
# holder: {person_id, role, from, to}.
PersonRef = dict[str, Any]

# Categories the property company answers for (Art. 20.6).
PROPERTY_CATEGORIES = frozenset({"property_service", "maintenance_repair"})

ARMED, MET, MISSED, CANCELLED = "armed", "met", "missed", "cancelled"


@dataclass(frozen=True)
class Event:
    """An incoming event, its `data` already loaded by the consumer schema."""
    type: str
    event_id: str
    occurred_at: datetime
    complaint_id: str | None
    data: dict[str, Any]
    producer: str = ""


@dataclass(frozen=True)
class Complaint:
    """sla's local copy of what it needs about a complaint (from events)."""
    id: str
    project_id: str | None = None
    room: str | None = None
    category: str | None = None
    intake_state: str | None = None
    order_round: int = 1
    specialist_id: str | None = None
    round_started_at: datetime | None = None
    first_submitted_at: datetime | None = None
    signed_at: datetime | None = None
    requested_completion_at: datetime | None = None
    holders: tuple[PersonRef, ...] = ()   # ({person_id, role, from, to}, ...) of this round
    escalation_level: str | None = None
    resolved_on_spot: bool = False
    intake_at: datetime | None = None   # occurred_at of the newest intake snapshot applied
    # Routing (dispatch): who answers for it in this round.
    routed_at: datetime | None = None
    routed_signed_at: datetime | None = None
    first_routed_at: datetime | None = None   # the department's clocks start here
    department: str | None = None
    handler: PersonRef | None = None    # {person_id, name, mobile}
    leaders: tuple[PersonRef, ...] = ()  # ({person_id, name, mobile, role}, ...)
    chairman: PersonRef | None = None
    major: bool = False
    # The departments' side.
    agreed_completion_at: datetime | None = None
    completion_due_at: datetime | None = None
    visited_at: datetime | None = None
    visit_blocked_at: datetime | None = None
    last_progress_at: datetime | None = None
    closure_application_id: str | None = None
    closure_applied_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    # Issue 13: the customer's signature on the record (Art. 13: pending while
    # 客户未签名), the escalation's time (Art. 33), a complaint voided by mistake.
    signature_status: str | None = None
    escalated_at: datetime | None = None
    voided_at: datetime | None = None

    @property
    def routed(self) -> bool:
        return self.routed_at is not None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def voided(self) -> bool:
        """Recorded by mistake and voided: no clock runs, no list shows it."""
        return self.voided_at is not None

    @property
    def open(self) -> bool:
        """Neither closed nor voided."""
        return not self.closed and not self.voided

    @property
    def in_work(self) -> bool:
        """Signed and routed, not closed, no closure application pending: the
        department is handling it (progress, overdue, reminders)."""
        return self.routed and self.open and self.closure_applied_at is None

    @property
    def unsigned(self) -> bool:
        """Open and the customer has not signed the record (客户未签名, Art. 13)."""
        return self.open and self.signature_status == "pending"

    @property
    def escalated(self) -> bool:
        """Open and flagged major / group / common issue (Art. 32, 33)."""
        return self.open and self.escalation_level is not None

    @property
    def current_holder(self) -> PersonRef | None:
        for holder in reversed(self.holders):
            if holder.get("to") is None:
                return holder
        return None

    @property
    def handler_id(self) -> str | None:
        return (self.handler or {}).get("person_id")

    @property
    def leader_ids(self) -> list[str]:
        return [leader["person_id"] for leader in self.leaders if leader.get("person_id")]

    def recipients(self) -> list[PersonRef]:
        """Handler, leaders, chairman (Art. 19), each once, in that order."""
        seen, out = set(), []
        for person in [self.handler, *self.leaders, self.chairman]:
            if person and person.get("person_id") and person["person_id"] not in seen:
                seen.add(person["person_id"])
                out.append(person)
        return out


COMPLAINT_FIELDS = tuple(f.name for f in fields(Complaint))


@dataclass(frozen=True)
class Timer:
    id: str
    key: str                 # unique: what this deadline is (complaint, round, rule, day...)
    rule: str
    article: str
    due_at: datetime
    armed_at: datetime
    complaint_id: str | None = None
    order_round: int | None = None
    person_id: str | None = None
    role: str | None = None
    state: str = ARMED
    fired_at: datetime | None = None  # when the miss was announced (clock time)
    done_at: datetime | None = None
    late_seconds: int | None = None
    settled: bool = False    # nothing more will be announced for it
    details: dict[str, Any] = field(default_factory=dict)

    def with_(self, **changes: Any) -> Timer:
        return replace(self, **changes)


TIMER_FIELDS = tuple(f.name for f in fields(Timer))


def new_timer_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    mobile: str | None
    roles: tuple[str, ...] = ()
    active: bool = True

    def contact(self) -> PersonRef:
        return {"person_id": self.id, "name": self.name, "mobile": self.mobile}


@dataclass(frozen=True)
class Directory:
    """The people sla needs to reach (centre posts) and project names."""
    people: dict[str, Person] = field(default_factory=dict)
    projects: dict[str, str] = field(default_factory=dict)   # id -> name
    version: int | None = None
    # project id -> (its regional company's chairman, its property company's chairman)
    chairmen: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def with_role(self, role: str) -> list[Person]:
        return [p for p in self.people.values() if p.active and role in p.roles]

    def contacts(self, role: str) -> list[PersonRef]:
        return [p.contact() for p in sorted(self.with_role(role), key=lambda p: p.id)]

    def person(self, person_id: str | None) -> Person | None:
        return self.people.get(person_id) if person_id is not None else None

    def chairman(self, project_id: str | None, category: str | None) -> Person | None:
        """The chairman answering for a project's complaint (Art. 21): the
        property company's for property categories, else the regional company's."""
        region, property_ = self.chairmen.get(project_id or "", (None, None))
        first = property_ if category in PROPERTY_CATEGORIES else region
        return self.person(first or region or property_)

    def project_name(self, project_id: str | None) -> str:
        if project_id is None:
            return ""
        return self.projects.get(project_id) or project_id


@dataclass(frozen=True)
class Message:
    """An SMS to send (stored as a notification, sent by the loop)."""
    recipient_person_id: str | None
    recipient_name: str | None
    mobile: str | None
    template: str
    params: dict[str, Any]
    text: str
    complaint_id: str | None = None
    source: str | None = None        # the rule or job that caused it


@dataclass(frozen=True)
class Emit:
    """An event to publish through the outbox."""
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    complaint_id: str | None = None


@dataclass(frozen=True)
class Park:
    """The event cannot be applied yet: keep it until `waiting_for` is provided."""
    waiting_for: str
    kind: str        # unknown_complaint | out_of_order
    message: str


@dataclass
class Outcome:
    complaint: Complaint | None = None     # the changed copy to store (None: unchanged)
    arm: list[Timer] = field(default_factory=list)        # new
    update: list[Timer] = field(default_factory=list)     # changed
    events: list[Emit] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)     # tokens parked events may wait for
    # (kind, message): kept in the error table
    problems: list[tuple[str, str]] = field(default_factory=list)
    park: Park | None = None
    directory: Directory | None = None             # a new directory to store

    def merge(self, other: Outcome) -> Outcome:
        if other.complaint is not None:
            self.complaint = other.complaint
        for name in ("arm", "update", "events", "messages", "provides", "problems"):
            getattr(self, name).extend(getattr(other, name))
        self.park = self.park or other.park
        self.directory = other.directory or self.directory
        return self
