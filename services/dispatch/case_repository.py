"""SQL of the departments' side (dispatch.complaints, routings, visits, ...).

Every function runs in the caller's connection, so a step, its history and
its outbox rows commit together. Records are the domain's dataclasses; their
field names are the columns (trusted names, never user input).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

import shared  # noqa: F401  (psycopg wait function before psycopg is imported)
from services.dispatch.acts import TimeAcceptance
from services.dispatch.assignment import RoutingError
from services.dispatch.case import Binding, Case, HistoryEntry, Routing
from services.dispatch.claims import Claim
from services.dispatch.meetings import Meeting
from services.dispatch.work import Callback, ClosureApplication, Progress, Visit
from shared import ids

# record class -> (table, mutable: saved again as its status moves on)
TABLES = {
    Visit: ("visits", False), Progress: ("progress", False),
    ClosureApplication: ("closure_applications", True), Claim: ("claims", True),
    Meeting: ("meetings", True), Callback: ("callbacks", False),
    TimeAcceptance: ("time_acceptances", False),
}


def _columns(cls: Any) -> list[str]:
    return [f.name for f in fields(cls)]


def _row_values(record: Any) -> dict[str, Any]:
    return {name: list(value) if isinstance(value, tuple) else value
            for name, value in vars(record).items()}


def from_row(cls: Any, row: dict[str, Any]) -> Any:
    """A record (dataclass `cls`) from its table's row."""
    values = {}
    for f in fields(cls):
        value = row[f.name]
        values[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


# -- the complaint ----------------------------------------------------------------------------

_CASE_COLUMNS = [name for name in _columns(Case) if name != "routing"] + ["routing_id"]


def lock_case(conn: Any, complaint_id: str) -> Case | None:
    """The case, locked until the transaction ends (steps on one complaint queue)."""
    return get_case(conn, complaint_id, for_update=True)


def get_case(conn: Any, complaint_id: str, for_update: bool = False) -> Case | None:
    return read_case(conn, complaint_id, for_update)()


def read_case(conn: Any, complaint_id: str, for_update: bool = False
              ) -> Callable[[], Case | None]:
    """Send the case's reads (the complaint, locked if asked, and its current
    routing) and return what fetches them: in a pipeline both go out with
    whatever the caller sends before fetching, in one round trip. The routing
    is read after the lock is held (statements run in order)."""
    complaint = conn.execute(
        f"SELECT * FROM dispatch.complaints WHERE id = %(id)s{' FOR UPDATE' if for_update else ''}",
        {"id": complaint_id})
    routing = conn.execute(
        """SELECT * FROM dispatch.routings WHERE id =
               (SELECT routing_id FROM dispatch.complaints WHERE id = %(id)s)""",
        {"id": complaint_id})

    def fetch() -> Case | None:
        row, routing_row = complaint.fetchone(), routing.fetchone()
        if row is None:
            return None
        return case_from_row(row, Routing.from_row(routing_row) if routing_row else None)
    return fetch


def case_from_row(row: dict[str, Any], routing: Routing | None) -> Case:
    return Case(**{name: row[name] for name in _columns(Case) if name != "routing"},
                routing=routing)


def lock_new_case(conn: Any, complaint_id: str) -> Case | None:
    """Serialise the first events of a complaint not stored yet: two handlers
    creating it at once queue here instead of colliding on the insert."""
    return read_new_case(conn, complaint_id)()


def read_new_case(conn: Any, complaint_id: str) -> Callable[[], Case | None]:
    """`lock_new_case`, sent now and fetched later (see `read_case`)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(key)s))",
                 {"key": f"dispatch:complaint:{complaint_id}"})
    return read_case(conn, complaint_id, for_update=True)


def save_case(conn: Any, case: Case) -> None:
    values = {name: getattr(case, name) for name in _columns(Case) if name != "routing"}
    values["routing_id"] = case.routing.id if case.routing else None
    names = ", ".join(_CASE_COLUMNS)
    params = ", ".join(f"%({n})s" for n in _CASE_COLUMNS)
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in _CASE_COLUMNS
                        if n not in ("id", "created_at"))
    conn.execute(f"""INSERT INTO dispatch.complaints ({names}) VALUES ({params})
                     ON CONFLICT (id) DO UPDATE SET {updates}""", values)


def next_id(conn: Any, case: Case, table: str) -> str:
    """`<complaint>-<prefix><n>`: the next number of that record on the
    complaint (the caller holds the complaint's lock)."""
    return read_next_id(conn, case.id, table)()


def read_next_id(conn: Any, complaint_id: str, table: str) -> Callable[[], str]:
    """`next_id`, sent now and fetched later (see `read_case`)."""
    count = conn.execute(f"SELECT count(*) AS n FROM dispatch.{table} "
                         "WHERE complaint_id = %(id)s", {"id": complaint_id})
    return lambda: ids.record_id(complaint_id, table, count.fetchone()["n"] + 1)


# -- routings ---------------------------------------------------------------------------------

def get_routing(conn: Any, routing_id: str) -> Routing | None:
    row = conn.execute("SELECT * FROM dispatch.routings WHERE id = %(id)s",
                       {"id": routing_id}).fetchone()
    return Routing.from_row(row) if row else None


def insert_routing(conn: Any, routing: Routing) -> None:
    conn.execute(
        """INSERT INTO dispatch.routings (id, complaint_id, order_round, reason, routed_at,
                                          department, major, handler_id, directory_version, detail)
           VALUES (%(id)s, %(complaint_id)s, %(order_round)s, %(reason)s, %(routed_at)s,
                   %(department)s, %(major)s, %(handler_id)s, %(directory_version)s, %(detail)s)""",
        {"id": routing.id, "complaint_id": routing.complaint_id,
         "order_round": routing.order_round, "reason": routing.reason,
         "routed_at": routing.routed_at, "department": routing.department,
         "major": routing.major, "handler_id": routing.handler.person_id,
         "directory_version": routing.directory_version, "detail": Jsonb(routing.detail())})


def insert_routing_error(conn: Any, error: RoutingError) -> None:
    """A new failure replaces the complaint's open one (made on an older
    directory), so each complaint is retried once per directory load."""
    conn.execute("""UPDATE dispatch.routing_errors SET resolved_at = %(at)s,
                           resolved_by = 'superseded'
                    WHERE complaint_id = %(id)s AND resolved_at IS NULL""",
                 {"at": error.failed_at, "id": error.complaint_id})
    conn.execute(
        """INSERT INTO dispatch.routing_errors (complaint_id, order_round, trigger, department,
                                                role, unit_id, message, directory_version,
                                                failed_at)
           VALUES (%(complaint_id)s, %(order_round)s, %(trigger)s, %(department)s, %(role)s,
                   %(unit_id)s, %(message)s, %(directory_version)s, %(failed_at)s)""",
        vars(error))


def resolve_routing_errors(conn: Any, complaint_id: str, now: datetime,
                           routing_id: str | None) -> None:
    conn.execute("""UPDATE dispatch.routing_errors SET resolved_at = %(now)s, resolved_by = %(by)s
                    WHERE complaint_id = %(id)s AND resolved_at IS NULL""",
                 {"now": now, "by": routing_id, "id": complaint_id})


def routing_errors(conn: Any, complaint_id: str | None = None, open_only: bool = False,
                   limit: int = 200) -> list[dict[str, Any]]:
    return read_routing_errors(conn, complaint_id, open_only, limit)()


def read_routing_errors(conn: Any, complaint_id: str | None = None, open_only: bool = False,
                        limit: int = 200) -> Callable[[], list[dict[str, Any]]]:
    """`routing_errors`, sent now and fetched later (see `read_case`)."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    if complaint_id is not None:
        where.append("complaint_id = %(id)s")
        params["id"] = complaint_id
    if open_only:
        where.append("resolved_at IS NULL")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return conn.execute(f"""SELECT * FROM dispatch.routing_errors {clause}
                            ORDER BY failed_at DESC, id DESC LIMIT %(limit)s""", params).fetchall


def complaints_to_reroute(conn: Any, directory_version: int, limit: int = 50) -> list[str]:
    """Complaints with an open routing error made on an older directory."""
    return [row["complaint_id"] for row in conn.execute(
        """SELECT DISTINCT complaint_id FROM dispatch.routing_errors
           WHERE resolved_at IS NULL AND coalesce(directory_version, 0) < %(v)s
           ORDER BY complaint_id LIMIT %(limit)s""", {"v": directory_version, "limit": limit})]


def open_routing_error_count(conn: Any) -> int:
    return conn.execute("""SELECT count(DISTINCT complaint_id) AS n FROM dispatch.routing_errors
                           WHERE resolved_at IS NULL""").fetchone()["n"]


# -- records of the work ------------------------------------------------------------------------

def save_record(conn: Any, record: Any) -> None:
    if isinstance(record, Routing):
        return insert_routing(conn, record)
    if isinstance(record, RoutingError):
        return insert_routing_error(conn, record)
    table, mutable = TABLES[type(record)]
    names = _columns(type(record))
    sql = (f"INSERT INTO dispatch.{table} ({', '.join(names)}) "
           f"VALUES ({', '.join(f'%({n})s' for n in names)})")
    if mutable:
        sql += " ON CONFLICT (id) DO UPDATE SET " + ", ".join(
            f"{n} = EXCLUDED.{n}" for n in names if n != "id")
    conn.execute(sql, _row_values(record))


def get_record(conn: Any, cls: type, record_id: str, for_update: bool = False) -> Any:
    table, _ = TABLES[cls]
    row = conn.execute(f"SELECT * FROM dispatch.{table} WHERE id = %(id)s"
                       f"{' FOR UPDATE' if for_update else ''}", {"id": record_id}).fetchone()
    return from_row(cls, row) if row else None


def time_acceptance(conn: Any, visit_id: str) -> TimeAcceptance | None:
    """The deputy GM's acceptance of a visit's stated time, if any."""
    row = conn.execute("SELECT * FROM dispatch.time_acceptances WHERE visit_id = %(id)s",
                       {"id": visit_id}).fetchone()
    return from_row(TimeAcceptance, row) if row else None


def complaint_of(conn: Any, cls: type, record_id: str) -> str | None:
    table, _ = TABLES[cls]
    row = conn.execute(f"SELECT complaint_id FROM dispatch.{table} WHERE id = %(id)s",
                       {"id": record_id}).fetchone()
    return row["complaint_id"] if row else None


# -- requests (one record per request key) ----------------------------------------------------

def record_of_request(conn: Any, person_id: str, request_key: str) -> Any:
    """The record a request key already made, or None."""
    return read_request(conn, person_id, request_key)()


def read_request(conn: Any, person_id: str, request_key: str) -> Callable[[], Any]:
    """`record_of_request`, sent now and fetched later (see `read_case`)."""
    request = conn.execute(
        """SELECT record_type, record_id FROM dispatch.requests
           WHERE person_id = %(p)s AND request_key = %(k)s""",
        {"p": person_id, "k": request_key})

    def fetch() -> Any:
        row = request.fetchone()
        if row is None:
            return None
        cls = next(c for c in TABLES if c.__name__ == row["record_type"])
        return get_record(conn, cls, row["record_id"])
    return fetch


def insert_request(conn: Any, person_id: str, request_key: str, record: Any,
                   created_at: datetime | None = None) -> None:
    """`created_at`: the shared clock's now, for the daily prune (housekeeping)."""
    conn.execute(
        """INSERT INTO dispatch.requests (person_id, request_key, record_type, record_id,
               created_at)
           VALUES (%(p)s, %(k)s, %(t)s, %(id)s, %(at)s)""",
        {"p": person_id, "k": request_key, "t": type(record).__name__, "id": record.id,
         "at": created_at})


# -- history ----------------------------------------------------------------------------------

def add_history(conn: Any, complaint_id: str, entries: list[HistoryEntry]) -> None:
    if not entries:
        return
    with conn.cursor() as cursor:
        cursor.executemany(
            """INSERT INTO dispatch.history (complaint_id, order_round, at, actor_id, action,
                                             from_state, to_state, record_id, note, details)
               VALUES (%(complaint_id)s, %(order_round)s, %(at)s, %(actor_id)s, %(action)s,
                       %(from_state)s, %(to_state)s, %(record_id)s, %(note)s, %(details)s)""",
            [dict(vars(e), complaint_id=complaint_id, details=Jsonb(e.details)) for e in entries])


# -- signature bindings ---------------------------------------------------------------------------

def insert_binding(conn: Any, binding: Binding) -> None:
    names = _columns(Binding)
    conn.execute(f"INSERT INTO dispatch.signature_bindings ({', '.join(names)}) "
                 f"VALUES ({', '.join(f'%({n})s' for n in names)})", vars(binding))


def get_binding(conn: Any, media_id: str, for_update: bool = False) -> Binding | None:
    row = conn.execute(f"SELECT * FROM dispatch.signature_bindings WHERE media_id = %(id)s"
                       f"{' FOR UPDATE' if for_update else ''}", {"id": media_id}).fetchone()
    return from_row(Binding, row) if row else None


def save_binding(conn: Any, binding: Binding) -> None:
    conn.execute("""UPDATE dispatch.signature_bindings
                    SET state = %(state)s, attempts = %(attempts)s, last_error = %(last_error)s,
                        next_attempt_at = %(next_attempt_at)s, bound_at = %(bound_at)s
                    WHERE media_id = %(media_id)s""", vars(binding))


def finish_pending_binding(db: Any, media_id: str, *, state: str, last_error: str | None,
                           bound_at: datetime | None) -> Binding | None:
    """An attempt's end, if the binding is still pending (else None: another
    attempt finished it first). One autocommit UPDATE: its row lock and the
    re-checked `state` do what SELECT ... FOR UPDATE then UPDATE did."""
    return _update_pending(db, """state = %(state)s, last_error = %(last_error)s,
                                  attempts = attempts + 1, bound_at = %(bound_at)s""",
                           {"id": media_id, "state": state, "last_error": last_error,
                            "bound_at": bound_at})


def fail_pending_binding(db: Any, media_id: str, error: str,
                         next_attempt_at: datetime) -> Binding | None:
    """A failed attempt, retried at `next_attempt_at` (as `finish_pending_binding`)."""
    return _update_pending(db, """attempts = attempts + 1, last_error = %(last_error)s,
                                  next_attempt_at = %(next)s""",
                           {"id": media_id, "last_error": error, "next": next_attempt_at})


def _update_pending(db: Any, changes: str, params: dict[str, Any]) -> Binding | None:
    with db.connection() as conn:
        row = conn.execute(f"""UPDATE dispatch.signature_bindings SET {changes}
                               WHERE media_id = %(id)s AND state = 'pending'
                               RETURNING *""", params).fetchone()
    return from_row(Binding, row) if row else None


def claim_due_bindings(conn: Any, now: datetime, lease_until: datetime,
                       limit: int) -> list[Binding]:
    """Pending binds whose time has come, leased so another instance skips them."""
    rows = conn.execute(
        """SELECT * FROM dispatch.signature_bindings
           WHERE state = 'pending' AND next_attempt_at <= %(now)s
           ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
        {"now": now, "limit": limit}).fetchall()
    due = [from_row(Binding, row) for row in rows]
    for binding in due:
        save_binding(conn, replace(binding, next_attempt_at=lease_until))
    return due


def bindings_of(conn: Any, complaint_id: str) -> dict[str, Any]:
    return read_bindings(conn, complaint_id)()


def read_bindings(conn: Any, complaint_id: str) -> Callable[[], dict[str, Any]]:
    """`bindings_of`, sent now and fetched later (see `read_case`)."""
    cursor = conn.execute("SELECT * FROM dispatch.signature_bindings WHERE complaint_id = %(id)s",
                          {"id": complaint_id})
    return lambda: {row["media_id"]: row for row in cursor}


def pending_binding_count(conn: Any) -> int:
    return conn.execute("""SELECT count(*) AS n FROM dispatch.signature_bindings
                           WHERE state = 'pending'""").fetchone()["n"]
