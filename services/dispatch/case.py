"""The departments' side of a complaint (SPEC §2, §3): dispatch's local copy
of a complaint, who answers for it, who is acting, and what a step changes.

Pure: no I/O. `now` and directory snapshots are passed in; every step
returns an `Outcome` the service stores in one transaction with its events.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

# Where a complaint stands on the departments' side, per order round.
AWAITING_ORDER = "awaiting_order"  # known from intake; this round's order is not signed yet
ROUTING_FAILED = "routing_failed"  # signed, but the directory lacks someone the rule needs
ROUTED = "routed"                  # the handler has the order; no visit yet (Art. 19, 22)
VISIT_BLOCKED = "visit_blocked"    # the customer prevented the visit (Art. 23)
IN_PROGRESS = "in_progress"        # visited: plan and completion time agreed (Art. 22, 25)
CLOSURE_APPLIED = "closure_applied"  # the department applied for closure (Art. 28)
CLOSED = "closed"                  # the centre approved the closure (Art. 29)
STATES = (AWAITING_ORDER, ROUTING_FAILED, ROUTED, VISIT_BLOCKED, IN_PROGRESS, CLOSURE_APPLIED,
          CLOSED)
STATE_LABELS = {
    AWAITING_ORDER: "待签发督办单", ROUTING_FAILED: "派单失败（组织架构缺人）",
    ROUTED: "已派单待回访", VISIT_BLOCKED: "回访受阻", IN_PROGRESS: "处理中",
    CLOSURE_APPLIED: "已申请结案", CLOSED: "已结案",
}
# States in which the department works on the complaint.
WORKING = (ROUTED, VISIT_BLOCKED, IN_PROGRESS)



# -- records ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Contact:
    """A person as frozen on a routing: enough to text them (Art. 19)."""
    person_id: str
    name: str
    mobile: str
    role: str | None = None

    @classmethod
    def of(cls, person: Any, role: str | None = None) -> Contact:
        return cls(person.id, person.name, person.mobile, role)

    def as_dict(self, with_role: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {"person_id": self.person_id, "name": self.name,
                                "mobile": self.mobile}
        if with_role:
            data["role"] = self.role
        return data


@dataclass(frozen=True)
class Cooperating:
    department: str
    department_name: str
    unit_id: str
    unit_name: str | None


@dataclass(frozen=True)
class Routing:
    """Who answers for an order round, resolved from the directory when the
    order was routed and frozen: a later directory change never moves it."""
    id: str
    complaint_id: str
    order_round: int
    reason: str  # order_signed, escalated or retry
    routed_at: datetime
    category: str
    department: str
    department_name: str
    department_overridden: bool
    override_reason: str | None
    major: bool
    escalation_level: str | None
    company_id: str
    company_name: str
    unit_id: str  # the responsible unit: the department, or the company when major
    unit_name: str
    department_unit_id: str  # the routed department's own unit
    department_unit_name: str | None
    handler: Contact
    leaders: tuple
    chairman: Contact
    department_head: Contact  # 第一责任部门一把手: writes the claim report (Art. 34)
    supervising_leader: Contact | None
    cooperating: tuple
    directory_version: int | None

    def detail(self) -> dict[str, Any]:
        """The people and units, as stored (jsonb) beside the routing's columns."""
        return {
            "category": self.category, "department_name": self.department_name,
            "department_overridden": self.department_overridden,
            "override_reason": self.override_reason, "escalation_level": self.escalation_level,
            "company_id": self.company_id, "company_name": self.company_name,
            "unit_id": self.unit_id, "unit_name": self.unit_name,
            "department_unit_id": self.department_unit_id,
            "department_unit_name": self.department_unit_name,
            "handler": self.handler.as_dict(True),
            "leaders": [leader.as_dict(True) for leader in self.leaders],
            "chairman": self.chairman.as_dict(True),
            "department_head": self.department_head.as_dict(True),
            "supervising_leader": (self.supervising_leader.as_dict(True)
                                   if self.supervising_leader else None),
            "cooperating": [vars(c) for c in self.cooperating],
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Routing:
        d = row["detail"]
        return cls(
            id=row["id"], complaint_id=row["complaint_id"], order_round=row["order_round"],
            reason=row["reason"], routed_at=row["routed_at"], category=d["category"],
            department=row["department"], department_name=d["department_name"],
            department_overridden=d["department_overridden"],
            override_reason=d["override_reason"], major=row["major"],
            escalation_level=d["escalation_level"], company_id=d["company_id"],
            company_name=d["company_name"], unit_id=d["unit_id"], unit_name=d["unit_name"],
            department_unit_id=d["department_unit_id"],
            department_unit_name=d["department_unit_name"], handler=Contact(**d["handler"]),
            leaders=tuple(Contact(**leader) for leader in d["leaders"]),
            chairman=Contact(**d["chairman"]), department_head=Contact(**d["department_head"]),
            supervising_leader=(Contact(**d["supervising_leader"])
                                if d["supervising_leader"] else None),
            cooperating=tuple(Cooperating(**c) for c in d["cooperating"]),
            directory_version=row["directory_version"])


@dataclass(frozen=True)
class Facts:
    """What an intake event says about the complaint (ComplaintFacts)."""
    complaint_id: str
    project_id: str
    category: str
    intake_state: str
    order_round: int
    requested_completion_at: datetime
    occurred_at: datetime
    region_company_id: str | None = None
    property_company_id: str | None = None
    signed_at: datetime | None = None
    department: str | None = None
    department_reason: str | None = None
    escalation_level: str | None = None


@dataclass(frozen=True)
class Case:
    """Dispatch's local copy of a complaint and where its work stands."""
    id: str
    project_id: str
    category: str
    region_company_id: str | None
    property_company_id: str | None
    order_round: int
    intake_state: str
    requested_completion_at: datetime
    signed_at: datetime | None
    department_override: str | None
    department_reason: str | None
    escalation_level: str | None
    facts_at: datetime  # occurred_at of the latest intake facts applied
    state: str
    created_at: datetime
    updated_at: datetime
    routing: Routing | None = None
    completion_due_at: datetime | None = None  # Art. 25, set by the done visit
    visited_at: datetime | None = None  # this round's done visit

    @property
    def major(self) -> bool:
        """Major, group or common issue (Art. 5, 21, 33): the chairman answers."""
        return self.escalation_level is not None

    @property
    def routed_this_round(self) -> bool:
        return self.routing is not None and self.routing.order_round == self.order_round


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the append-only history (who, when, what, from which state)."""
    at: datetime
    actor_id: str | None
    action: str
    from_state: str | None
    to_state: str | None
    order_round: int
    record_id: str | None = None
    note: str | None = None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Binding:
    """A customer's signature to bind to the record it confirms, after commit."""
    media_id: str
    record_type: str
    record_id: str
    complaint_id: str
    record_sha256: str
    bound_by: str | None
    created_at: datetime
    state: str = "pending"
    next_attempt_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    bound_at: datetime | None = None


@dataclass
class Outcome:
    """What one step changes; stored in one transaction by the service."""
    case: Case
    history: list = field(default_factory=list)
    events: list = field(default_factory=list)  # [(type, data)]
    records: list = field(default_factory=list)  # new or changed records, saved in order
    bindings: list = field(default_factory=list)
    resolve_routing_errors: bool = False
    result: object = None  # the record the caller asked for

    def add(self, entry: HistoryEntry | None = None, event: tuple[str, dict] | None = None,
            record: Any = None) -> Outcome:
        if entry is not None:
            self.history.append(entry)
        if event is not None:
            self.events.append(event)
        if record is not None:
            self.records.append(record)
        return self


# -- the local copy -----------------------------------------------------------------------

def new_case(facts: Facts, now: datetime) -> Case:
    return Case(
        id=facts.complaint_id, project_id=facts.project_id, category=facts.category,
        region_company_id=facts.region_company_id,
        property_company_id=facts.property_company_id, order_round=facts.order_round,
        intake_state=facts.intake_state,
        requested_completion_at=facts.requested_completion_at, signed_at=facts.signed_at,
        department_override=facts.department, department_reason=facts.department_reason,
        escalation_level=facts.escalation_level, facts_at=facts.occurred_at,
        state=AWAITING_ORDER, created_at=now, updated_at=now)


def merge_facts(case: Case | None, facts: Facts, now: datetime) -> Case:
    """The case with intake's newer facts. Events of one complaint travel on
    several queues and may arrive out of order: a fact older than what is
    kept (an earlier round, or an earlier moment of this round) is ignored.
    A later round (a reopen) starts the work afresh."""
    if case is None:
        return new_case(facts, now)
    if facts.order_round < case.order_round or (
            facts.order_round == case.order_round and facts.occurred_at < case.facts_at):
        return case
    merged = replace(
        case, project_id=facts.project_id, category=facts.category,
        region_company_id=facts.region_company_id or case.region_company_id,
        property_company_id=facts.property_company_id or case.property_company_id,
        order_round=facts.order_round, intake_state=facts.intake_state,
        requested_completion_at=facts.requested_completion_at, signed_at=facts.signed_at,
        department_override=facts.department, department_reason=facts.department_reason,
        # an escalation is never withdrawn (Art. 33): keep it if intake's copy is older
        escalation_level=facts.escalation_level or case.escalation_level,
        facts_at=facts.occurred_at, updated_at=now)
    if facts.order_round > case.order_round:
        merged = replace(merged, state=AWAITING_ORDER, completion_due_at=None, visited_at=None)
    return merged


# -- changes and events ---------------------------------------------------------------------

def with_state(case: Case, state: str, now: datetime, **changes: Any) -> Case:
    return replace(case, state=state, updated_at=now, **changes)


def case_facts(case: Case, routing: Routing | None = None) -> dict[str, Any]:
    """Fields every dispatch event about a complaint carries."""
    routing = routing or case.routing
    return {"complaint_id": case.id, "project_id": case.project_id,
            "order_round": case.order_round, "category": case.category,
            "department": routing.department if routing else None,
            "handler_id": routing.handler.person_id if routing else None,
            "major": case.major}

