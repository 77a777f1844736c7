"""SQL of the intake schema. Every function runs in the caller's connection,
so a change, its timeline entries and its outbox events commit together."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields as dc_fields
from datetime import datetime
from typing import Any, TypeVar

from services.intake.listing import Where
from services.intake.model import (
    Binding,
    Callback,
    Closure,
    Complaint,
    Holder,
    Link,
    Rating,
    TimelineEntry,
)
from services.intake.writes import (  # noqa: F401  (the complaint's writes, re-exported)
    _ARRAYS,
    _COMPLAINT_COLUMNS,
    _params,
    add_timeline,
    insert_complaint,
    save_holders,
    save_state,
    update_complaint,
)

# A psycopg connection in a transaction, rows as dicts (shared.db).
Conn = Any
T = TypeVar("T")

_SELECT_COMPLAINT = f"SELECT {', '.join(_COMPLAINT_COLUMNS)} FROM intake.complaints"
_BINDING_COLUMNS = tuple(f.name for f in dc_fields(Binding))
_LINK_COLUMNS = tuple(f.name for f in dc_fields(Link))
_RATING_COLUMNS = tuple(f.name for f in dc_fields(Rating))


def _insert(conn: Conn, table: str, columns: Iterable[str], values: Mapping[str, Any]) -> None:
    conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(f'%({c})s' for c in columns)})", values)


def _record(cls: type[T], row: Mapping[str, Any], **extra: Any) -> T:
    """A dataclass from a row: arrays back to tuples."""
    values = {key: tuple(value) if key in _ARRAYS and value is not None else value
              for key, value in row.items()}
    return cls(**values, **extra)


# -- ids ------------------------------------------------------------------------------

def next_number(conn: Conn, region: str, year: int) -> int:
    """The next complaint number of (region, year), on an autocommit
    connection outside the recording's transaction: the counter row is locked
    for this one statement only, so concurrent recordings do not queue on it.
    Numbers stay distinct and increasing; a recording that fails after taking
    its number leaves a gap (SPEC asks for unique ids, not gapless ones)."""
    return conn.execute(
        """INSERT INTO intake.complaint_counters AS c (region, year, last_number)
           VALUES (%(region)s, %(year)s, 1)
           ON CONFLICT (region, year) DO UPDATE SET last_number = c.last_number + 1
           RETURNING last_number""", {"region": region, "year": year}).fetchone()["last_number"]


# -- recording requests -------------------------------------------------------------

def recorded_by_request(conn: Conn, person_id: str | None, request_key: str) -> str | None:
    """The complaint a request key already recorded, or None."""
    row = conn.execute(
        """SELECT complaint_id FROM intake.record_requests
           WHERE person_id = %(p)s AND request_key = %(k)s""",
        {"p": person_id, "k": request_key}).fetchone()
    return row["complaint_id"] if row else None


def insert_record_request(conn: Conn, person_id: str | None, request_key: str,
                          complaint_id: str) -> None:
    """Made with its complaint, in its transaction: its time is the
    complaint's recorded_at (the shared clock's), for the daily prune."""
    conn.execute(
        """INSERT INTO intake.record_requests (person_id, request_key, complaint_id, created_at)
           VALUES (%(p)s, %(k)s, %(c)s,
                   (SELECT recorded_at FROM intake.complaints WHERE id = %(c)s))""",
        {"p": person_id, "k": request_key, "c": complaint_id})


# -- complaints -------------------------------------------------------------------------

_HOLDERS_JSON = """(SELECT json_agg(json_build_array(h.person_id, h.role, h.held_from, h.held_to)
                          ORDER BY h.seq) FROM intake.order_holders h
                  WHERE h.complaint_id = c.id AND h.order_round = c.order_round) AS held"""
_SELECT_WITH_HOLDERS = (f"SELECT {', '.join(f'c.{n}' for n in _COMPLAINT_COLUMNS)}, "
                        f"{_HOLDERS_JSON} FROM intake.complaints c WHERE c.id = %(id)s")
_SELECT_HOLDERS = """SELECT order_round, person_id, role, held_from, held_to
                     FROM intake.order_holders WHERE complaint_id = %(id)s ORDER BY seq"""


def get_complaint(conn: Conn, complaint_id: str, for_update: bool = False) -> Complaint | None:
    """The complaint with this round's holders.

    Read only: one statement (its holders as JSON beside it, one snapshot).
    Locked: the holders are read by a second statement, which the server
    runs after the lock is granted, so it sees what the step we waited for
    committed (in one statement they would be read in the snapshot taken
    before the wait); in a pipeline both leave in one round trip."""
    if not for_update:
        row = conn.execute(_SELECT_WITH_HOLDERS, {"id": complaint_id}).fetchone()
        if row is None:
            return None
        held = tuple(Holder(person, role, datetime.fromisoformat(since),
                            datetime.fromisoformat(until) if until else None)
                     for person, role, since, until in row.pop("held") or ())
        return _record(Complaint, row, holders=held)
    locked = conn.execute(_SELECT_COMPLAINT + " WHERE id = %(id)s FOR UPDATE",
                          {"id": complaint_id})
    holding = conn.execute(_SELECT_HOLDERS, {"id": complaint_id})
    row = locked.fetchone()
    rows = holding.fetchall()
    if row is None:
        return None
    holders = tuple(Holder(h["person_id"], h["role"], h["held_from"], h["held_to"])
                    for h in rows if h["order_round"] == row["order_round"])
    return _record(Complaint, row, holders=holders)


def holders_of(conn: Conn,
               keys: list[tuple[str, int]]) -> dict[str, tuple[Holder, ...]]:
    """{complaint_id: (Holder, ...)} of the given (complaint_id, round) pairs."""
    if not keys:
        return {}
    rounds = dict(keys)
    rows = conn.execute(
        """SELECT complaint_id, order_round, person_id, role, held_from, held_to
           FROM intake.order_holders WHERE complaint_id = ANY(%(ids)s)
           ORDER BY complaint_id, order_round, seq""", {"ids": list(rounds)}).fetchall()
    found: dict[str, list[Holder]] = {}
    for row in rows:
        if row["order_round"] == rounds[row["complaint_id"]]:
            found.setdefault(row["complaint_id"], []).append(
                Holder(row["person_id"], row["role"], row["held_from"], row["held_to"]))
    return {key: tuple(value) for key, value in found.items()}


def list_complaints(conn: Conn, where: Where, order_by: str, limit: int,
                    offset: int = 0) -> tuple[list[Complaint], int]:
    """(complaints, total) matching `where` (services.intake.listing.conditions)."""
    params = dict(where.params, limit=limit, offset=offset)
    total = conn.execute(f"SELECT count(*) AS n FROM intake.complaints c{where.clause}",
                         params).fetchone()["n"]
    columns = ", ".join(f"c.{name}" for name in _COMPLAINT_COLUMNS)
    rows = conn.execute(
        f"SELECT {columns} FROM intake.complaints c{where.clause}{order_by} "
        "LIMIT %(limit)s OFFSET %(offset)s", params).fetchall()
    holders = holders_of(conn, [(row["id"], row["order_round"]) for row in rows])
    return [_record(Complaint, row, holders=holders.get(row["id"], ())) for row in rows], total


# -- timeline (append-only: a trigger refuses UPDATE and DELETE) ---------------------------

def timeline(conn: Conn, complaint_id: str) -> list[TimelineEntry]:
    rows = conn.execute(
        """SELECT at, actor_id, actor_role, action, from_state, to_state, order_round, note,
                  details
           FROM intake.timeline WHERE complaint_id = %(id)s ORDER BY id""",
        {"id": complaint_id}).fetchall()
    return [TimelineEntry(**row) for row in rows]


# -- customer links ----------------------------------------------------------------------

def insert_link(conn: Conn, link: Link) -> None:
    _insert(conn, "intake.customer_links", _LINK_COLUMNS,
            {name: getattr(link, name) for name in _LINK_COLUMNS})


def get_link(conn: Conn, token_sha256: str, for_update: bool = False) -> Link | None:
    row = conn.execute(
        f"SELECT {', '.join(_LINK_COLUMNS)} FROM intake.customer_links "
        "WHERE token_sha256 = %(h)s" + (" FOR UPDATE" if for_update else ""),
        {"h": token_sha256}).fetchone()
    return Link(**row) if row else None


def mark_link_used(conn: Conn, link: Link) -> None:
    conn.execute("UPDATE intake.customer_links SET used_at = %(at)s WHERE token_sha256 = %(h)s",
                 {"at": link.used_at, "h": link.token_sha256})


# -- signature bindings --------------------------------------------------------------------

def insert_binding(conn: Conn, binding: Binding) -> None:
    _insert(conn, "intake.signature_bindings", _BINDING_COLUMNS,
            {name: getattr(binding, name) for name in _BINDING_COLUMNS})


def get_binding(conn: Conn, media_id: str, for_update: bool = False) -> Binding | None:
    row = conn.execute(
        f"SELECT {', '.join(_BINDING_COLUMNS)} FROM intake.signature_bindings "
        "WHERE media_id = %(id)s" + (" FOR UPDATE" if for_update else ""),
        {"id": media_id}).fetchone()
    return Binding(**row) if row else None


def save_binding(conn: Conn, binding: Binding) -> None:
    conn.execute(
        """UPDATE intake.signature_bindings
              SET state = %(state)s, attempts = %(attempts)s, last_error = %(last_error)s,
                  next_attempt_at = %(next_attempt_at)s, bound_at = %(bound_at)s
            WHERE media_id = %(media_id)s""",
        {name: getattr(binding, name) for name in
         ("state", "attempts", "last_error", "next_attempt_at", "bound_at", "media_id")})


def claim_due_bindings(conn: Conn, now: datetime, lease_until: datetime,
                       limit: int) -> list[Binding]:
    """Pending bindings whose next attempt is due, leased to this caller until
    `lease_until` (another instance skips them meanwhile)."""
    rows = conn.execute(
        f"""UPDATE intake.signature_bindings SET next_attempt_at = %(lease)s
            WHERE media_id IN (
                SELECT media_id FROM intake.signature_bindings
                WHERE state = 'pending' AND next_attempt_at <= %(now)s
                ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
            RETURNING {', '.join(_BINDING_COLUMNS)}""",
        {"now": now, "lease": lease_until, "limit": limit}).fetchall()
    return [Binding(**row) for row in rows]


def pending_bindings(conn: Conn) -> int:
    return conn.execute(
        "SELECT count(*) AS n FROM intake.signature_bindings WHERE state = 'pending'"
    ).fetchone()["n"]


# -- ratings ------------------------------------------------------------------------------

def get_rating(conn: Conn, complaint_id: str, order_round: int) -> Rating | None:
    row = conn.execute(
        f"SELECT {', '.join(_RATING_COLUMNS)} FROM intake.reception_ratings "
        "WHERE complaint_id = %(id)s AND order_round = %(round)s",
        {"id": complaint_id, "round": order_round}).fetchone()
    return Rating(**row) if row else None


def insert_rating(conn: Conn, rating: Rating) -> None:
    _insert(conn, "intake.reception_ratings", _RATING_COLUMNS,
            {name: getattr(rating, name) for name in _RATING_COLUMNS})


# -- closure applications and callbacks (Art. 23, 28, 29) ----------------------------------

_CLOSURE_COLUMNS = tuple(f.name for f in dc_fields(Closure))
_CALLBACK_COLUMNS = tuple(f.name for f in dc_fields(Callback))


def save_closure(conn: Conn, closure: Closure) -> None:
    """Insert an application or store its new status (the row is the latest word)."""
    changing = [c for c in _CLOSURE_COLUMNS if c != "application_id"]
    conn.execute(
        f"INSERT INTO intake.closures ({', '.join(_CLOSURE_COLUMNS)}) "
        f"VALUES ({', '.join(f'%({c})s' for c in _CLOSURE_COLUMNS)}) "
        f"ON CONFLICT (application_id) DO UPDATE SET "
        f"{', '.join(f'{c} = EXCLUDED.{c}' for c in changing)}",
        _params(closure, _CLOSURE_COLUMNS))


def get_closure(conn: Conn, application_id: str, for_update: bool = False) -> Closure | None:
    row = conn.execute(
        f"SELECT {', '.join(_CLOSURE_COLUMNS)} FROM intake.closures "
        "WHERE application_id = %(id)s" + (" FOR UPDATE" if for_update else ""),
        {"id": application_id}).fetchone()
    return _record(Closure, row) if row else None


def closures_of(conn: Conn, complaint_id: str) -> list[Closure]:
    rows = conn.execute(
        f"SELECT {', '.join(_CLOSURE_COLUMNS)} FROM intake.closures "
        "WHERE complaint_id = %(id)s ORDER BY received_at, application_id",
        {"id": complaint_id}).fetchall()
    return [_record(Closure, row) for row in rows]


def insert_callback(conn: Conn, callback: Callback) -> None:
    _insert(conn, "intake.callbacks", _CALLBACK_COLUMNS, _params(callback, _CALLBACK_COLUMNS))


def callbacks_of(conn: Conn, complaint_id: str) -> list[Callback]:
    rows = conn.execute(
        f"SELECT {', '.join(_CALLBACK_COLUMNS)} FROM intake.callbacks "
        "WHERE complaint_id = %(id)s ORDER BY id", {"id": complaint_id}).fetchall()
    return [_record(Callback, row) for row in rows]


def ping(conn: Conn) -> None:
    return conn.execute("SELECT 1 AS ok").fetchone()["ok"] == 1
