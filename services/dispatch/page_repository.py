"""The reads of a complaint's dispatch page (`get_complaint_view`), all sent
before any answer is read: in a pipeline they cost one round trip, not one
each (issue 17 "speed"). The routing in force is taken from the complaint's
routings, not read again."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shared  # noqa: F401  (psycopg wait function before psycopg is imported)
from services.dispatch import case_repository
from services.dispatch.acts import TimeAcceptance
from services.dispatch.case import Case, HistoryEntry, Routing
from services.dispatch.claims import Claim
from services.dispatch.meetings import Meeting
from services.dispatch.work import Callback, ClosureApplication, Progress, Visit

# The page's record lists: (view argument, record class, order of the list).
RECORDS = (("visits", Visit, "recorded_at"), ("callbacks", Callback, "callback_at"),
           ("progress", Progress, "recorded_at"),
           ("applications", ClosureApplication, "applied_at"),
           ("claim_list", Claim, "raised_at"), ("meetings", Meeting, "held_at"))


def read_page(conn: Any, complaint_id: str) -> Callable[[], tuple[Case, dict[str, Any]] | None]:
    """Send the page's reads; the fetch gives (the case, the other arguments
    of views.complaint_view), or None for a complaint dispatch does not have."""
    params = {"id": complaint_id}
    complaint = conn.execute("SELECT * FROM dispatch.complaints WHERE id = %(id)s", params)
    routings = conn.execute(
        "SELECT * FROM dispatch.routings WHERE complaint_id = %(id)s ORDER BY routed_at, id",
        params)
    errors = case_repository.read_routing_errors(conn, complaint_id)
    lists = {name: (cls, conn.execute(
        f"SELECT * FROM dispatch.{case_repository.TABLES[cls][0]} "
        f"WHERE complaint_id = %(id)s ORDER BY {order}, id", params))
        for name, cls, order in RECORDS}
    history = conn.execute("SELECT * FROM dispatch.history WHERE complaint_id = %(id)s "
                           "ORDER BY id", params)
    bindings = case_repository.read_bindings(conn, complaint_id)
    acceptances = conn.execute(
        """SELECT * FROM dispatch.time_acceptances WHERE complaint_id = %(id)s
           ORDER BY accepted_at, visit_id""", params)

    def fetch() -> tuple[Case, dict[str, Any]] | None:
        row = complaint.fetchone()
        made = [Routing.from_row(r) for r in routings]
        if row is None:
            return None
        current = next((r for r in made if r.id == row["routing_id"]), None)
        page: dict[str, Any] = {
            "routings": made, "errors": errors(),
            **{name: [case_repository.from_row(cls, r) for r in cursor]
               for name, (cls, cursor) in lists.items()},
            "history": [history_entry(r) for r in history], "bindings": bindings(),
            "acceptances": [case_repository.from_row(TimeAcceptance, r) for r in acceptances]}
        return case_repository.case_from_row(row, current), page
    return fetch


def history_entry(row: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(row["at"], row["actor_id"], row["action"], row["from_state"],
                        row["to_state"], row["order_round"], row["record_id"], row["note"],
                        row["details"])
