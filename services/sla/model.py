"""What the sla domain works on: its copy of a complaint, timers, the
directory's people, and the outcome of a decision (pure data, no I/O)."""
import uuid
from dataclasses import dataclass, field, fields, replace

ARMED, MET, MISSED, CANCELLED = "armed", "met", "missed", "cancelled"


@dataclass(frozen=True)
class Event:
    """An incoming event, its `data` already loaded by the consumer schema."""
    type: str
    event_id: str
    occurred_at: object
    complaint_id: str | None
    data: dict
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
    round_started_at: object = None
    first_submitted_at: object = None
    signed_at: object = None
    requested_completion_at: object = None
    holders: tuple = ()            # ({person_id, role, from, to}, ...) of this round's order
    escalation_level: str | None = None
    resolved_on_spot: bool = False
    intake_at: object = None       # occurred_at of the newest intake snapshot applied
    # Routing (dispatch): who answers for it in this round.
    routed_at: object = None
    routed_signed_at: object = None
    department: str | None = None
    handler: dict | None = None    # {person_id, name, mobile}
    leaders: tuple = ()            # ({person_id, name, mobile, role}, ...)
    chairman: dict | None = None
    major: bool = False
    # The departments' side.
    agreed_completion_at: object = None
    completion_due_at: object = None
    visited_at: object = None
    visit_blocked_at: object = None
    last_progress_at: object = None
    closure_application_id: str | None = None
    closure_applied_at: object = None
    closed_at: object = None
    updated_at: object = None

    @property
    def routed(self):
        return self.routed_at is not None

    @property
    def closed(self):
        return self.closed_at is not None

    @property
    def in_work(self):
        """Signed and routed, not closed, no closure application pending: the
        department is handling it (progress, overdue, reminders)."""
        return self.routed and not self.closed and self.closure_applied_at is None

    @property
    def current_holder(self):
        for holder in reversed(self.holders):
            if holder.get("to") is None:
                return holder
        return None

    @property
    def handler_id(self):
        return (self.handler or {}).get("person_id")

    @property
    def leader_ids(self):
        return [leader["person_id"] for leader in self.leaders if leader.get("person_id")]

    def recipients(self):
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
    due_at: object
    armed_at: object
    complaint_id: str | None = None
    order_round: int | None = None
    person_id: str | None = None
    role: str | None = None
    state: str = ARMED
    fired_at: object = None  # when the miss was announced (clock time)
    done_at: object = None
    late_seconds: int | None = None
    settled: bool = False    # nothing more will be announced for it
    details: dict = field(default_factory=dict)

    def with_(self, **changes):
        return replace(self, **changes)


TIMER_FIELDS = tuple(f.name for f in fields(Timer))


def new_timer_id():
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    mobile: str | None
    roles: tuple = ()
    active: bool = True

    def contact(self):
        return {"person_id": self.id, "name": self.name, "mobile": self.mobile}


@dataclass(frozen=True)
class Directory:
    """The people sla needs to reach (centre posts) and project names."""
    people: dict = field(default_factory=dict)     # id -> Person
    projects: dict = field(default_factory=dict)   # id -> name
    version: int | None = None

    def with_role(self, role):
        return [p for p in self.people.values() if p.active and role in p.roles]

    def contacts(self, role):
        return [p.contact() for p in sorted(self.with_role(role), key=lambda p: p.id)]

    def person(self, person_id):
        return self.people.get(person_id)

    def project_name(self, project_id):
        return self.projects.get(project_id) or project_id or ""


@dataclass(frozen=True)
class Message:
    """An SMS to send (stored as a notification, sent by the loop)."""
    recipient_person_id: str | None
    recipient_name: str | None
    mobile: str | None
    template: str
    params: dict
    text: str
    complaint_id: str | None = None
    source: str | None = None        # the rule or job that caused it


@dataclass(frozen=True)
class Emit:
    """An event to publish through the outbox."""
    type: str
    data: dict
    occurred_at: object
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
    arm: list = field(default_factory=list)        # new Timers
    update: list = field(default_factory=list)     # changed Timers
    events: list = field(default_factory=list)     # Emits
    messages: list = field(default_factory=list)   # Messages
    provides: list = field(default_factory=list)   # tokens parked events may wait for
    problems: list = field(default_factory=list)   # (kind, message): kept in the error table
    park: Park | None = None
    directory: Directory | None = None             # a new directory to store

    def merge(self, other):
        if other.complaint is not None:
            self.complaint = other.complaint
        for name in ("arm", "update", "events", "messages", "provides", "problems"):
            getattr(self, name).extend(getattr(other, name))
        self.park = self.park or other.park
        self.directory = other.directory or self.directory
        return self
