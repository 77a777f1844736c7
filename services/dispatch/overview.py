"""Many complaints' routing at once (`routing_overview`): who answers for
each and by when, for the overdue board, which asked `get_complaint_view`
once per overdue complaint before (issue 17). Two statements whatever the
count: the complaints, then the latest routing of each."""
from __future__ import annotations

from typing import Any

from services.dispatch import views
from services.dispatch.case import Routing
from services.dispatch.casework import Casework
from shared.contracts.dispatch import views as cv
from shared.contracts.types import Json
from shared.errors import InvalidInput

MAX_COMPLAINTS = 1000


def checked_ids(value: object) -> list[str]:
    """A list of complaint ids (at most MAX_COMPLAINTS), each once."""
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(i, str) and 0 < len(i) <= 100 for i in value):
        raise InvalidInput({"complaint_ids": [
            "须为投诉编号列表 (must be a list of complaint ids)"]})
    if len(value) > MAX_COMPLAINTS:
        raise InvalidInput({"complaint_ids": [
            f"最多 {MAX_COMPLAINTS} 个 (at most {MAX_COMPLAINTS} at once)"]})
    return list(dict.fromkeys(value))


def cases_and_latest_routings(conn: Any, ids: list[str]) -> tuple[list[dict[str, Any]],
                                                                   dict[str, Routing]]:
    cases = conn.execute(
        """SELECT id, requested_completion_at, completion_due_at, routing_id
             FROM dispatch.complaints WHERE id = ANY(%(ids)s)""", {"ids": ids}).fetchall()
    latest = conn.execute(
        """SELECT DISTINCT ON (complaint_id) * FROM dispatch.routings
            WHERE complaint_id = ANY(%(ids)s)
            ORDER BY complaint_id, routed_at DESC, id DESC""", {"ids": ids}).fetchall()
    return cases, {row["complaint_id"]: Routing.from_row(row) for row in latest}


def routing_overview(cw: Casework, complaint_ids: object) -> Json:
    """RoutingOverview of each complaint dispatch knows, in the order asked;
    complaints it does not know (not yet signed and sent) are left out."""
    ids = checked_ids(complaint_ids)
    if not ids:
        return []
    with cw.db.transaction() as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cases, routings = cases_and_latest_routings(conn, ids)
    by_id = {case["id"]: case for case in cases}
    found = []
    for complaint_id in ids:
        case = by_id.get(complaint_id)
        if case is None:
            continue
        due = case["completion_due_at"] or (
            case["requested_completion_at"] if case["routing_id"] else None)
        found.append({"complaint_id": complaint_id, "completion_due_at": due,
                      "routing": routings.get(complaint_id)})
    return [views.dump(cv.ROUTING_OVERVIEW, item, cw.clock.zone) for item in found]
