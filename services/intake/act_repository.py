"""SQL of the acts issue 13 added on intake's side: callbacks by their id,
the stated times the deputy GM accepted, and the customer's links a newer
one (or a void) made stop working. Runs in the caller's connection, so a
step's changes, timeline and outbox commit together."""
from __future__ import annotations

from dataclasses import fields as dc_fields
from datetime import datetime
from typing import Any

from services.intake.model import Callback, Link, TimeAcceptance
from services.intake.repository import _record
from shared import ids

Conn = Any
_CALLBACK_COLUMNS = tuple(f.name for f in dc_fields(Callback))
_ACCEPTANCE_COLUMNS = tuple(f.name for f in dc_fields(TimeAcceptance))
_LINK_COLUMNS = tuple(f.name for f in dc_fields(Link))


# -- callbacks by id ---------------------------------------------------------------------

def next_callback_id(conn: Conn, complaint_id: str) -> str:
    """`<complaint>-CB<n>`: the complaint's next callback (the caller holds its lock).
    Dispatch numbers its copy of each callback the same way."""
    count = conn.execute("SELECT count(*) AS n FROM intake.callbacks WHERE complaint_id = %(id)s",
                         {"id": complaint_id}).fetchone()["n"]
    return ids.record_id(complaint_id, "callbacks", count + 1)


def get_callback(conn: Conn, callback_id: str) -> Callback | None:
    row = conn.execute(
        f"SELECT {', '.join(_CALLBACK_COLUMNS)} FROM intake.callbacks "
        "WHERE callback_id = %(id)s", {"id": callback_id}).fetchone()
    return _record(Callback, row) if row else None


# -- accepted stated times ---------------------------------------------------------------

def insert_time_acceptance(conn: Conn, acceptance: TimeAcceptance) -> None:
    conn.execute(
        f"INSERT INTO intake.time_acceptances ({', '.join(_ACCEPTANCE_COLUMNS)}) "
        f"VALUES ({', '.join(f'%({c})s' for c in _ACCEPTANCE_COLUMNS)})", vars(acceptance))


def get_time_acceptance(conn: Conn, callback_id: str) -> TimeAcceptance | None:
    row = conn.execute(
        f"SELECT {', '.join(_ACCEPTANCE_COLUMNS)} FROM intake.time_acceptances "
        "WHERE callback_id = %(id)s", {"id": callback_id}).fetchone()
    return TimeAcceptance(**row) if row else None


def time_acceptances_of(conn: Conn, complaint_id: str) -> dict[str, TimeAcceptance]:
    """{callback_id: acceptance} of a complaint."""
    rows = conn.execute(
        f"SELECT {', '.join(_ACCEPTANCE_COLUMNS)} FROM intake.time_acceptances "
        "WHERE complaint_id = %(id)s", {"id": complaint_id}).fetchall()
    return {row["callback_id"]: TimeAcceptance(**row) for row in rows}


# -- links that stop working ----------------------------------------------------------------

def revoke_links(conn: Conn, complaint_id: str, steps: tuple[str, ...], now: datetime) -> int:
    """The complaint's open links of `steps` stop working (a newer link, a void)."""
    return conn.execute(
        """UPDATE intake.customer_links SET revoked_at = %(now)s
           WHERE complaint_id = %(id)s AND step = ANY(%(steps)s)
             AND used_at IS NULL AND revoked_at IS NULL""",
        {"now": now, "id": complaint_id, "steps": list(steps)}).rowcount


def links_of(conn: Conn, complaint_id: str, step: str) -> list[Link]:
    """The complaint's links of one step, oldest first."""
    rows = conn.execute(
        f"SELECT {', '.join(_LINK_COLUMNS)} FROM intake.customer_links "
        "WHERE complaint_id = %(id)s AND step = %(step)s ORDER BY created_at, token_sha256",
        {"id": complaint_id, "step": step}).fetchall()
    return [Link(**row) for row in rows]
