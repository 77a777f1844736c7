"""What routing a complaint's order would get if it were signed now (issue
16: the GM signs with the routing in sight). Pure: the same `resolve` the
order.signed handler runs, on the facts the GM sees, against the directory
and routing table in force; nothing is stored or announced. A routing that
would fail says which role is missing, as routing.failed would.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.dispatch.assignment import RoutingFailure, resolve
from services.dispatch.case import AWAITING_ORDER, Case, Routing
from services.dispatch.directory import Directory
from services.dispatch.routing import RoutingTable
from shared import organisation as org

PREVIEW = "preview"


@dataclass(frozen=True)
class Failure:
    role: str
    unit_id: str | None
    message: str


@dataclass(frozen=True)
class RoutingPreview:
    routable: bool
    category: str
    department: str | None
    department_name: str | None
    department_overridden: bool
    routing: Routing | None = None
    failure: Failure | None = None


def preview_routing(table: RoutingTable, directory: Directory, project_id: str, category: str,
                    department: str | None, major: bool, now: datetime) -> RoutingPreview:
    """The routing `resolve` would make for these facts now, or why it would fail."""
    case = Case(id=PREVIEW, project_id=project_id, category=category, region_company_id=None,
                property_company_id=None, order_round=1, intake_state="order_reviewed",
                requested_completion_at=now, signed_at=None, department_override=department,
                department_reason=None, escalation_level="major" if major else None,
                facts_at=now, state=AWAITING_ORDER, created_at=now, updated_at=now)
    try:
        routing = resolve(table, directory, case, PREVIEW, PREVIEW, now)
    except RoutingFailure as failure:
        return RoutingPreview(False, category, failure.department,
                              org.DEPARTMENT_NAMES_ZH.get(failure.department or ""),
                              bool(department), failure=Failure(
                                  failure.role, failure.unit_id, failure.message))
    return RoutingPreview(True, category, routing.department, routing.department_name,
                          routing.department_overridden, routing=routing)
