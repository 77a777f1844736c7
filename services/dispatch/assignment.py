"""Routing a signed order to the department that answers for it (SPEC §3;
Art. 20, 21, 33), and routing it again when the complaint is escalated.

Pure. The department comes from the routing table unless the GM overrode
it; the people come from the directory snapshot and are frozen on the
routing. A directory that lacks someone the rule needs is a recorded
failure naming the missing role (`routing.failed`), never a silent gap.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from services.dispatch.case import (
    AWAITING_ORDER,
    CLOSED,
    ROUTED,
    ROUTING_FAILED,
    Case,
    Contact,
    Cooperating,
    Facts,
    HistoryEntry,
    Outcome,
    Routing,
    case_facts,
    with_state,
)
from services.dispatch.directory import Directory, Person, Project
from services.dispatch.responsibility import DirectoryIncomplete, resolve_responsibility
from services.dispatch.routing import RoutingTable
from shared import organisation as org
from shared.errors import InvalidInput, NotFound

ORDER_SIGNED, ESCALATED, RETRY = "order_signed", "escalated", "retry"


@dataclass(frozen=True)
class RoutingError:
    """A routing that could not be made: what is missing, for the operators."""
    complaint_id: str
    order_round: int
    trigger: str
    department: str | None
    role: str
    unit_id: str | None
    message: str
    directory_version: int | None
    failed_at: datetime


class RoutingFailure(Exception):
    def __init__(self, role: str, unit_id: str | None, message: str,
                 department: str | None = None) -> None:
        super().__init__(message)
        self.role, self.unit_id, self.message, self.department = role, unit_id, message, department


def departments_for(table: RoutingTable, case: Case) -> tuple[str, tuple[str, ...]]:
    """(first responsible department, cooperating departments) of the case.

    An override by the GM replaces the first department; the table's first
    department then cooperates in its place (it knows the matter), and the
    new department no longer appears among the cooperating ones."""
    route = table.route_for(case.category)
    if route is None:
        raise RoutingFailure("routing_table", None,
                             f"派单规则表中没有投诉类型 {case.category} "
                             f"(category {case.category} is not in the routing table)")
    if not case.department_override:
        return route.first, route.cooperating
    department = case.department_override
    cooperating = tuple(d for d in (route.first,) + route.cooperating if d != department)
    return department, cooperating


def resolve(table: RoutingTable, directory: Directory, case: Case, routing_id: str, reason: str,
            now: datetime) -> Routing:
    """The frozen routing of the case's order round, or RoutingFailure."""
    department, cooperating_codes = departments_for(table, case)
    try:
        found = resolve_responsibility(directory, case.project_id, department, major=case.major)
    except DirectoryIncomplete as exc:
        raise RoutingFailure(exc.role, exc.unit_id, exc.message, department) from None
    except NotFound as exc:
        raise RoutingFailure("project", case.project_id, exc.message, department) from None
    except InvalidInput as exc:
        raise RoutingFailure("department", None, "; ".join(
            m for ms in exc.fields.values() for m in ms), department) from None
    # resolve_responsibility found the project (NotFound otherwise).
    project = cast(Project, directory.project(case.project_id))
    company = found.company
    department_unit = directory.department_unit(company.id, department)
    if department_unit is None or not department_unit.active:
        raise RoutingFailure(department, org.department_unit_id(company.id, department),
                             f"{company.name} 没有{org.DEPARTMENT_NAMES_ZH[department]} "
                             f"(department {department} missing in {company.id})", department)
    head = directory.holder(department_unit.id, org.POS_HEAD)
    if head is None:
        raise RoutingFailure(org.POS_HEAD, department_unit.id,
                             f"{department_unit.name} 没有一把手 (head missing in "
                             f"{department_unit.id})", department)
    supervising = directory.holder(department_unit.id, org.POS_SUPERVISING_LEADER)
    chairman: Person | None
    leaders: tuple[Contact, ...]
    if found.major:
        chairman = found.handler
        leaders = (Contact.of(chairman, org.POS_CHAIRMAN),)
    else:
        chairman = directory.holder(company.id, org.POS_CHAIRMAN)
        if chairman is None:
            # The chairman hears of every open complaint (Art. 19, 30) and
            # takes it over if it is escalated: a needed person.
            raise RoutingFailure(org.POS_CHAIRMAN, company.id,
                                 f"{company.name} 没有董事长 (chairman missing in {company.id})",
                                 department)
        leaders = tuple(Contact.of(leader, _leader_role(i, leader, project))
                        for i, leader in enumerate(found.leaders))
    return Routing(
        id=routing_id, complaint_id=case.id, order_round=case.order_round, reason=reason,
        routed_at=now, category=case.category, department=department,
        department_name=org.DEPARTMENT_NAMES_ZH[department],
        department_overridden=bool(case.department_override),
        override_reason=case.department_reason if case.department_override else None,
        major=found.major, escalation_level=case.escalation_level, company_id=company.id,
        company_name=company.name, unit_id=found.unit.id, unit_name=found.unit.name,
        department_unit_id=department_unit.id, department_unit_name=department_unit.name,
        handler=Contact.of(found.handler, org.POS_CHAIRMAN if found.major else org.POS_HEAD),
        leaders=leaders, chairman=Contact.of(chairman, org.POS_CHAIRMAN),
        department_head=Contact.of(head, org.POS_HEAD),
        supervising_leader=(Contact.of(supervising, org.POS_SUPERVISING_LEADER)
                            if supervising else None),
        cooperating=tuple(_cooperating(directory, project, code) for code in cooperating_codes),
        directory_version=directory.version.version if directory.version else None)


def _leader_role(index: int, leader: Person, project: Project | None) -> str:
    if index == 0:
        return org.POS_SUPERVISING_LEADER  # the department's own (Art. 21.1)
    if project is not None and leader.id == project.project_gm_id:
        return "project_gm"  # a tier-3 project's GM
    return "company_leader"  # a leader supervising design, engineering, ... or quality


def _cooperating(directory: Directory, project: Project, department: str) -> Cooperating:
    unit_id = (project.property_company_id if department == org.PROPERTY
               else org.department_unit_id(project.region_company_id, department))
    unit = directory.unit(unit_id)
    return Cooperating(department, org.DEPARTMENT_NAMES_ZH[department], unit_id,
                       unit.name if unit else None)


# -- the steps --------------------------------------------------------------------------------

def on_order_signed(case: Case, facts: Facts, table: RoutingTable, directory: Directory,
                    now: datetime, routing_id: str) -> Outcome:
    """The GM signed this round's order: route it (unless already routed)."""
    if facts.order_round < case.order_round:
        return Outcome(case)  # a previous round's order: its routing is history
    if case.routed_this_round and case.state not in (AWAITING_ORDER, ROUTING_FAILED):
        return Outcome(case)
    return route_now(case, table, directory, now, routing_id, ORDER_SIGNED)


def on_escalated(case: Case, table: RoutingTable, directory: Directory, now: datetime,
                 routing_id: str) -> Outcome:
    """Major / group / common issue: the chairman answers from now on; the
    routing is resolved again and announced again (Art. 21.2, 33)."""
    if case.state == ROUTING_FAILED:
        return route_now(case, table, directory, now, routing_id, ESCALATED)
    if case.state in (AWAITING_ORDER, CLOSED) or case.routing is None or case.routing.major:
        return Outcome(case)  # routed as major when its order is signed
    return route_now(case, table, directory, now, routing_id, ESCALATED)


def retry(case: Case, table: RoutingTable, directory: Directory, now: datetime,
          routing_id: str) -> Outcome:
    """After the directory changed: try a failed routing again."""
    if case.state == ROUTING_FAILED:
        return route_now(case, table, directory, now, routing_id, RETRY)
    if case.state not in (AWAITING_ORDER, CLOSED) and case.routing is not None \
            and case.major and not case.routing.major:
        return route_now(case, table, directory, now, routing_id, ESCALATED)
    return Outcome(case, resolve_routing_errors=True)  # nothing left to route


def route_now(case: Case, table: RoutingTable, directory: Directory, now: datetime,
              routing_id: str, reason: str) -> Outcome:
    try:
        routing = resolve(table, directory, case, routing_id, reason, now)
    except RoutingFailure as failure:
        return _failed(case, directory, now, reason, failure)
    first = case.state in (AWAITING_ORDER, ROUTING_FAILED)
    new = with_state(case, ROUTED if first else case.state, now, routing=routing)
    entry = HistoryEntry(now, None, "routed" if first else "rerouted", case.state, new.state,
                         case.order_round, routing.id, routing.override_reason,
                         {"reason": reason, "department": routing.department,
                          "handler_id": routing.handler.person_id, "major": routing.major})
    outcome = Outcome(new, [entry], [("complaint.routed", routed_data(new, routing))],
                      [routing], resolve_routing_errors=True)
    outcome.result = routing
    return outcome


def _failed(case: Case, directory: Directory, now: datetime, reason: str,
            failure: RoutingFailure) -> Outcome:
    new = with_state(case, ROUTING_FAILED, now) if case.state in (
        AWAITING_ORDER, ROUTING_FAILED) else case  # an escalation keeps the routing it had
    version = directory.version.version if directory.version else None
    error = RoutingError(case.id, case.order_round, reason, failure.department, failure.role,
                         failure.unit_id, failure.message, version, now)
    entry = HistoryEntry(now, None, "routing_failed", case.state, new.state, case.order_round,
                         note=failure.message,
                         details={"trigger": reason, "role": failure.role,
                                  "unit_id": failure.unit_id})
    data = dict(case_facts(new), department=failure.department, trigger=reason,
                role=failure.role, unit_id=failure.unit_id, message=failure.message,
                directory_version=version, failed_at=now)
    outcome = Outcome(new, [entry], [("routing.failed", data)], [error])
    outcome.result = error
    return outcome


def routed_data(case: Case, routing: Routing) -> dict[str, Any]:
    """`complaint.routed` (shared.events.dispatch)."""
    return dict(
        case_facts(case, routing), routing_id=routing.id, reason=routing.reason,
        department_name=routing.department_name,
        department_overridden=routing.department_overridden,
        override_reason=routing.override_reason, company_id=routing.company_id,
        unit_id=routing.unit_id, unit_name=routing.unit_name,
        department_unit_id=routing.department_unit_id, handler=routing.handler.as_dict(),
        leaders=[leader.as_dict(True) for leader in routing.leaders],
        chairman=routing.chairman.as_dict(), department_head=routing.department_head.as_dict(),
        supervising_leader=(routing.supervising_leader.as_dict()
                            if routing.supervising_leader else None),
        cooperating_departments=[{"department": c.department, "department_name": c.department_name,
                                  "unit_id": c.unit_id, "unit_name": c.unit_name}
                                 for c in routing.cooperating],
        escalation_level=case.escalation_level, signed_at=case.signed_at,
        requested_completion_at=case.requested_completion_at,
        completion_due_at=case.completion_due_at or case.requested_completion_at,
        routed_at=routing.routed_at, directory_version=routing.directory_version)
