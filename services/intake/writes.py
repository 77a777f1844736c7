"""The complaint's own writes (issue 17): its row, this round's holders and
its new timeline entries, in ONE statement (data-modifying CTEs) rather than
three, since in a pipeline every statement still costs psycopg a send and a
select through eventlet's hub. The pieces run in one snapshot on different
tables; the foreign keys are checked at the statement's end, so a new
complaint's holders and entries may ride with its INSERT.

services.intake.repository re-exports these; it runs in the caller's
transaction like the rest of it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields as dc_fields
from typing import Any

from psycopg.types.json import Jsonb

from services.intake.model import Complaint, TimelineEntry

Conn = Any
Part = tuple[str, dict[str, Any]]

_COMPLAINT_COLUMNS = tuple(f.name for f in dc_fields(Complaint) if f.name != "holders")
_ARRAYS = frozenset({"responsible_person_ids", "responsible_unit_ids", "callback_visit_ids",
                     "material_media_ids", "visit_ids"})
_JSON = frozenset({"responsibility"})
_IMMUTABLE = {"id", "region", "project_id", "room", "customer_name", "customer_phone",
              "channel", "demand", "category", "requested_completion_at", "contact_ended_at",
              "recorded_by", "recorded_at", "resolved_on_spot"}
_MUTABLE = tuple(c for c in _COMPLAINT_COLUMNS if c not in _IMMUTABLE)


def _params(record: object, names: Iterable[str]) -> dict[str, Any]:
    """A dataclass's values as SQL parameters: tuples as arrays, dicts as jsonb."""
    values = {}
    for name in names:
        value = getattr(record, name)
        if name in _ARRAYS:
            value = list(value or ())
        elif name in _JSON and value is not None:
            value = Jsonb(value)
        values[name] = value
    return values


def _complaint(complaint: Complaint, insert: bool) -> Part:
    if insert:
        return (f"INSERT INTO intake.complaints ({', '.join(_COMPLAINT_COLUMNS)}) "
                f"VALUES ({', '.join(f'%({c})s' for c in _COMPLAINT_COLUMNS)})",
                _params(complaint, _COMPLAINT_COLUMNS))
    # What the customer signed is never updated.
    return (f"UPDATE intake.complaints SET {', '.join(f'{c} = %({c})s' for c in _MUTABLE)} "
            "WHERE id = %(id)s", _params(complaint, _MUTABLE + ("id",)))


def _holders(complaint: Complaint) -> Part | None:
    """Upsert this round's holdings by position: a holding only ever gains its end."""
    held = complaint.holders
    if not held:
        return None
    return ("""INSERT INTO intake.order_holders
                   (complaint_id, order_round, seq, person_id, role, held_from, held_to)
               SELECT %(h_id)s, %(h_round)s, h.seq - 1, h.person_id, h.role, h.held_from,
                      h.held_to
               FROM unnest(%(h_persons)s::text[], %(h_roles)s::text[],
                           %(h_froms)s::timestamptz[], %(h_tos)s::timestamptz[])
                    WITH ORDINALITY AS h (person_id, role, held_from, held_to, seq)
               ON CONFLICT (complaint_id, order_round, seq) DO UPDATE
                  SET held_to = EXCLUDED.held_to
               WHERE intake.order_holders.held_to IS DISTINCT FROM EXCLUDED.held_to""",
            {"h_id": complaint.id, "h_round": complaint.order_round,
             "h_persons": [h.person_id for h in held], "h_roles": [h.role for h in held],
             "h_froms": [h.held_from for h in held], "h_tos": [h.held_to for h in held]})


def _timeline(complaint_id: str, entries: Sequence[TimelineEntry]) -> Part | None:
    """Append entries in their order (the ids follow the ordinality)."""
    if not entries:
        return None
    return ("""INSERT INTO intake.timeline (complaint_id, order_round, at, actor_id, actor_role,
                                            action, from_state, to_state, note, details)
               SELECT %(t_id)s, e.order_round, e.at, e.actor_id, e.actor_role, e.action,
                      e.from_state, e.to_state, e.note, e.details
               FROM unnest(%(t_rounds)s::integer[], %(t_ats)s::timestamptz[],
                           %(t_actors)s::text[], %(t_roles)s::text[], %(t_actions)s::text[],
                           %(t_froms)s::text[], %(t_tos)s::text[], %(t_notes)s::text[],
                           %(t_details)s::jsonb[])
                    WITH ORDINALITY AS e (order_round, at, actor_id, actor_role, action,
                                          from_state, to_state, note, details, n)
               ORDER BY e.n""",
            {"t_id": complaint_id, "t_rounds": [e.order_round for e in entries],
             "t_ats": [e.at for e in entries], "t_actors": [e.actor_id for e in entries],
             "t_roles": [e.actor_role for e in entries],
             "t_actions": [e.action for e in entries],
             "t_froms": [e.from_state for e in entries], "t_tos": [e.to_state for e in entries],
             "t_notes": [e.note for e in entries],
             "t_details": [Jsonb(e.details or {}) for e in entries]})


def _execute(conn: Conn, parts: Sequence[Part | None]) -> None:
    """The parts as one statement: all but the last as CTEs."""
    kept = [p for p in parts if p is not None]
    if not kept:
        return
    params: dict[str, Any] = {}
    for _, values in kept:
        params.update(values)
    ctes = ", ".join(f"w{n} AS ({sql})" for n, (sql, _) in enumerate(kept[:-1]))
    conn.execute((f"WITH {ctes} " if ctes else "") + kept[-1][0], params)


def save_state(conn: Conn, complaint: Complaint, entries: Sequence[TimelineEntry],
               insert: bool = False) -> None:
    """The complaint's row, its holders and new timeline entries: one statement."""
    _execute(conn, [_complaint(complaint, insert), _holders(complaint),
                    _timeline(complaint.id, entries)])


def insert_complaint(conn: Conn, complaint: Complaint) -> None:
    save_state(conn, complaint, (), insert=True)


def update_complaint(conn: Conn, complaint: Complaint) -> None:
    """Store the state of a complaint (and this round's holders)."""
    save_state(conn, complaint, ())


def save_holders(conn: Conn, complaint: Complaint) -> None:
    _execute(conn, [_holders(complaint)])


def add_timeline(conn: Conn, complaint_id: str, entries: Iterable[TimelineEntry]) -> None:
    _execute(conn, [_timeline(complaint_id, list(entries))])
