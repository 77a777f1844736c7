"""Penalty's local copies of other services' facts (SQL): the directory's
people, units and projects; complaints, closure applications, reception
ratings, reopens and deadline outcomes, for the ledger and the rankings.

Events reach penalty on separate queues in any order, so every write is an
upsert that keeps the newest fact: an intake snapshot older than the one
stored is ignored; dispatch and sla facts fill their own columns.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from services.penalty.ledger import Person


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


# -- directory ---------------------------------------------------------------------------------

def directory_version(conn: Any) -> int | None:
    row = conn.execute("SELECT version FROM penalty.directory_state WHERE id = 1").fetchone()
    return row["version"] if row else None


def replace_directory(conn: Any, data: Mapping[str, Any]) -> bool:
    """Apply a directory.loaded snapshot unless a newer one is stored.
    Everyone ever loaded is kept (a person who left stays, inactive)."""
    current = directory_version(conn)
    if current is not None and data["version"] <= current:
        return False
    units = {u["id"]: u for u in data["units"]}
    for u in data["units"]:
        conn.execute(
            """INSERT INTO penalty.units (id, kind, name, parent, department, active)
               VALUES (%(id)s, %(kind)s, %(name)s, %(parent)s, %(department)s, %(active)s)
               ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,
                   parent = EXCLUDED.parent, department = EXCLUDED.department,
                   active = EXCLUDED.active""", u)
    for p in data["projects"]:
        conn.execute(
            """INSERT INTO penalty.projects (id, name, region_company, property_company,
                   city_tier, active)
               VALUES (%(id)s, %(name)s, %(region_company)s, %(property_company)s,
                   %(city_tier)s, %(active)s)
               ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,
                   region_company = EXCLUDED.region_company,
                   property_company = EXCLUDED.property_company,
                   city_tier = EXCLUDED.city_tier, active = EXCLUDED.active""", p)
    conn.execute("UPDATE penalty.people SET active = false")
    for p in data["people"]:
        unit_id = p.get("unit") or p.get("unit_id")
        conn.execute(
            """INSERT INTO penalty.people (id, name, mobile, roles, unit_id, unit_name, bonus,
                   active, project_ids, directory_version)
               VALUES (%(id)s, %(name)s, %(mobile)s, %(roles)s, %(unit_id)s, %(unit_name)s,
                   %(bonus)s, %(active)s, %(project_ids)s, %(version)s)
               ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, mobile = EXCLUDED.mobile,
                   roles = EXCLUDED.roles, unit_id = EXCLUDED.unit_id,
                   unit_name = EXCLUDED.unit_name, bonus = EXCLUDED.bonus,
                   active = EXCLUDED.active, project_ids = EXCLUDED.project_ids,
                   directory_version = EXCLUDED.directory_version""",
            dict(p, unit_id=unit_id,
                 unit_name=p.get("unit_name") or (units.get(unit_id) or {}).get("name"),
                 version=data["version"]))
    conn.execute(
        """INSERT INTO penalty.directory_state (id, version, loaded_at)
           VALUES (1, %(version)s, %(at)s)
           ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version,
               loaded_at = EXCLUDED.loaded_at""",
        {"version": data["version"], "at": data["loaded_at"]})
    return True


def _person(row: Any) -> Person:
    return Person(row["id"], row["name"], row["unit_id"], row["unit_name"], row["bonus"],
                  row["active"], tuple(row["roles"]), row["mobile"])


def people(conn: Any, ids: Iterable[str | None]) -> dict[str | None, Person]:
    rows = conn.execute("SELECT * FROM penalty.people WHERE id = ANY(%(ids)s)",
                        {"ids": [i for i in ids if i]}).fetchall()
    return {r["id"]: _person(r) for r in rows}


def people_with_roles(conn: Any, roles: Iterable[str]) -> list[Person]:
    rows = conn.execute(
        """SELECT * FROM penalty.people WHERE active AND roles && %(roles)s::text[]
           ORDER BY id""", {"roles": list(roles)}).fetchall()
    return [_person(r) for r in rows]


def all_people(conn: Any) -> dict[str, dict[str, Any]]:
    return {r["id"]: {"name": r["name"], "roles": r["roles"], "active": r["active"]}
            for r in conn.execute("SELECT id, name, roles, active FROM penalty.people")}


def heads(conn: Any) -> dict[str, list[tuple[str, str | None]]]:
    """{unit_id: [(person_id, name)]} of the active people with the `head` role."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for r in conn.execute("""SELECT id, name, unit_id FROM penalty.people
                             WHERE active AND 'head' = ANY(roles) ORDER BY id"""):
        out.setdefault(r["unit_id"], []).append((r["id"], r["name"]))
    return out


def units(conn: Any) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in conn.execute("SELECT * FROM penalty.units")}


def projects(conn: Any) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in conn.execute("SELECT * FROM penalty.projects")}


# -- complaints (intake snapshots, dispatch facts) -----------------------------------------------

def apply_intake_facts(conn: Any, facts: Mapping[str, Any], occurred_at: datetime) -> None:
    """Every intake event carries the complaint's facts: keep the newest."""
    conn.execute(*intake_facts_effect(facts, occurred_at, guard=None))


def intake_facts_effect(facts: Mapping[str, Any], occurred_at: datetime,
                        guard: str | None) -> tuple[str, dict[str, Any]]:
    """`apply_intake_facts`'s statement and parameters; with `guard` (a
    condition: the inbox's `EXISTS (SELECT FROM inbox_first)`) it writes only
    if that holds (shared.inbox.consume_statement)."""
    values = """%(complaint_id)s, %(project_id)s, %(region_company_id)s,
               %(property_company_id)s, %(category)s, %(room)s, %(channel)s, %(specialist_id)s,
               %(recorded_at)s::timestamptz, COALESCE(%(resolved_on_spot)s::boolean, false),
               %(order_round)s::integer, %(first_submitted_at)s::timestamptz,
               %(signed_at)s::timestamptz, %(holders)s::jsonb, %(department)s,
               %(escalation_level)s, %(reopen_count)s::integer, %(at)s::timestamptz"""
    source = f"VALUES ({values})" if guard is None else f"SELECT {values} WHERE {guard}"
    return (
        f"""INSERT INTO penalty.complaints AS c (id, project_id, region_company_id,
               property_company_id, category, room, channel, specialist_id, recorded_at,
               resolved_on_spot, order_round, first_submitted_at, signed_at, holders,
               department, escalation_level, reopen_count, facts_at)
           {source}
           ON CONFLICT (id) DO UPDATE SET project_id = EXCLUDED.project_id,
               region_company_id = EXCLUDED.region_company_id,
               property_company_id = EXCLUDED.property_company_id,
               category = EXCLUDED.category, room = EXCLUDED.room, channel = EXCLUDED.channel,
               specialist_id = EXCLUDED.specialist_id, recorded_at = EXCLUDED.recorded_at,
               resolved_on_spot = COALESCE(%(resolved_on_spot)s::boolean, c.resolved_on_spot),
               order_round = EXCLUDED.order_round,
               first_submitted_at = EXCLUDED.first_submitted_at,
               signed_at = EXCLUDED.signed_at, holders = EXCLUDED.holders,
               department = COALESCE(EXCLUDED.department, c.department),
               escalation_level = EXCLUDED.escalation_level,
               reopen_count = EXCLUDED.reopen_count, facts_at = EXCLUDED.facts_at
           WHERE c.facts_at IS NULL OR c.facts_at <= EXCLUDED.facts_at""",
        dict(facts, at=occurred_at,
             holders=Jsonb([{"person_id": h.get("person_id"), "role": h.get("role"),
                             "from": _iso(h["from"]), "to": _iso(h.get("to"))}
                            for h in facts.get("holders") or ()])))


def _ensure(conn: Any, complaint_id: str) -> None:
    conn.execute("INSERT INTO penalty.complaints (id) VALUES (%(id)s) ON CONFLICT DO NOTHING",
                 {"id": complaint_id})


def apply_routing(conn: Any, data: Mapping[str, Any], occurred_at: datetime) -> None:
    _ensure(conn, data["complaint_id"])
    conn.execute(
        """UPDATE penalty.complaints SET
               department = COALESCE(%(department)s, department),
               handler_person_id = COALESCE(%(handler)s, handler_person_id),
               project_id = COALESCE(project_id, %(project_id)s),
               completion_due_at = COALESCE(%(due)s, completion_due_at),
               routed_at = %(at)s
           WHERE id = %(complaint_id)s AND (routed_at IS NULL OR routed_at <= %(at)s)""",
        {"complaint_id": data["complaint_id"], "department": data.get("department"),
         "handler": (data.get("handler") or {}).get("person_id"),
         "project_id": data.get("project_id"),
         "due": data.get("completion_due_at") or data.get("requested_completion_at"),
         "at": occurred_at})


def set_completion_due(conn: Any, complaint_id: str, due_at: datetime | None,
                       occurred_at: datetime) -> None:
    if due_at is None:
        return
    _ensure(conn, complaint_id)
    conn.execute(
        """UPDATE penalty.complaints SET completion_due_at = %(due)s, routed_at = %(at)s
           WHERE id = %(id)s AND (routed_at IS NULL OR routed_at <= %(at)s)""",
        {"id": complaint_id, "due": due_at, "at": occurred_at})


def complaint_closed(conn: Any, complaint_id: str, closed_at: datetime | None) -> None:
    _ensure(conn, complaint_id)
    conn.execute("UPDATE penalty.complaints SET closed_at = %(at)s WHERE id = %(id)s",
                 {"id": complaint_id, "at": closed_at})


def closure_applied(conn: Any, data: Mapping[str, Any]) -> None:
    conn.execute(
        """INSERT INTO penalty.closures (application_id, complaint_id, applied_at)
           VALUES (%(application_id)s, %(complaint_id)s, %(applied_at)s)
           ON CONFLICT (application_id) DO UPDATE SET applied_at = EXCLUDED.applied_at""", data)


def closure_verified(conn: Any, complaint_id: str, data: Mapping[str, Any]) -> None:
    conn.execute(
        """INSERT INTO penalty.closures (application_id, complaint_id, verified_at, satisfaction)
           VALUES (%(application_id)s, %(complaint_id)s, %(verified_at)s, %(satisfaction)s)
           ON CONFLICT (application_id) DO UPDATE SET verified_at = EXCLUDED.verified_at,
               satisfaction = EXCLUDED.satisfaction""", dict(data, complaint_id=complaint_id))


def closure_rejected(conn: Any, complaint_id: str, data: Mapping[str, Any]) -> None:
    """Only a rejection at verification turns the application down (the
    department works on); a review or approval sent back stays in the centre."""
    rejected = data.get("application_rejected")
    if rejected is None:
        rejected = data.get("stage") in (None, "verify")
    if not rejected:
        return
    conn.execute(
        """INSERT INTO penalty.closures (application_id, complaint_id, rejected_at, rejected_stage)
           VALUES (%(application_id)s, %(complaint_id)s, %(rejected_at)s, %(stage)s)
           ON CONFLICT (application_id) DO UPDATE SET rejected_at = EXCLUDED.rejected_at,
               rejected_stage = EXCLUDED.rejected_stage""", dict(data, complaint_id=complaint_id))


def rating(conn: Any, complaint_id: str, specialist_id: str | None, score: int,
           rated_at: datetime) -> None:
    conn.execute(
        """INSERT INTO penalty.ratings (complaint_id, specialist_id, score, rated_at)
           VALUES (%(id)s, %(specialist)s, %(score)s, %(at)s)
           ON CONFLICT (complaint_id) DO NOTHING""",
        {"id": complaint_id, "specialist": specialist_id, "score": score, "at": rated_at})


def reopened(conn: Any, complaint_id: str, order_round: int, reopened_at: datetime) -> None:
    conn.execute(
        """INSERT INTO penalty.reopens (complaint_id, order_round, reopened_at)
           VALUES (%(id)s, %(round)s, %(at)s) ON CONFLICT DO NOTHING""",
        {"id": complaint_id, "round": order_round, "at": reopened_at})


def deadline_outcome(conn: Any, data: Mapping[str, Any], complaint_id: str | None, outcome: str,
                     now: datetime) -> None:
    """The newest word on a deadline: met, missed, cancelled or withdrawn."""
    conn.execute(*deadline_outcome_effect(data, complaint_id, outcome, now, guard=None))


def deadline_outcome_effect(data: Mapping[str, Any], complaint_id: str | None, outcome: str,
                            now: datetime, guard: str | None) -> tuple[str, dict[str, Any]]:
    """`deadline_outcome`'s statement (parameters prefixed `do_`), guarded as
    `intake_facts_effect` is."""
    values = """%(do_timer_id)s, %(do_rule)s, %(do_complaint)s, %(do_person)s,
               %(do_due)s::timestamptz, %(do_outcome)s, %(do_done)s::timestamptz,
               %(do_now)s::timestamptz"""
    source = f"VALUES ({values})" if guard is None else f"SELECT {values} WHERE {guard}"
    return (
        f"""INSERT INTO penalty.deadline_outcomes (timer_id, rule, complaint_id, person_id,
               due_at, outcome, done_at, updated_at)
           {source}
           ON CONFLICT (timer_id) DO UPDATE SET outcome = EXCLUDED.outcome,
               person_id = COALESCE(EXCLUDED.person_id, penalty.deadline_outcomes.person_id),
               done_at = COALESCE(EXCLUDED.done_at, penalty.deadline_outcomes.done_at),
               updated_at = EXCLUDED.updated_at""",
        {"do_timer_id": data["timer_id"], "do_rule": data["rule"], "do_complaint": complaint_id,
         "do_person": data.get("person_id"), "do_due": data["due_at"], "do_outcome": outcome,
         "do_done": data.get("done_at"), "do_now": now})


# -- what the rankings read -----------------------------------------------------------------------

def ranking_inputs(conn: Any, start: datetime, end: datetime) -> dict[str, Any]:
    """Complaints touching [start, end) (recorded, due, closure applied or
    verified in it), their closure applications, ratings, reopens and the
    deadline outcomes of the window."""
    complaints = conn.execute(
        """SELECT * FROM penalty.complaints c
           WHERE c.recorded_at >= %(start)s AND c.recorded_at < %(end)s
              OR c.completion_due_at >= %(start)s AND c.completion_due_at < %(end)s
              OR EXISTS (SELECT 1 FROM penalty.closures a WHERE a.complaint_id = c.id
                         AND (a.applied_at >= %(start)s AND a.applied_at < %(end)s
                              OR a.verified_at >= %(start)s AND a.verified_at < %(end)s))
              OR EXISTS (SELECT 1 FROM penalty.reopens r WHERE r.complaint_id = c.id
                         AND r.reopened_at >= %(start)s AND r.reopened_at < %(end)s)""",
        {"start": start, "end": end}).fetchall()
    ids = [c["id"] for c in complaints]
    applications: dict[str, list[Any]] = {}
    for a in conn.execute("SELECT * FROM penalty.closures WHERE complaint_id = ANY(%(ids)s)",
                          {"ids": ids}):
        applications.setdefault(a["complaint_id"], []).append(a)
    ratings = conn.execute(
        """SELECT complaint_id, specialist_id, score, rated_at FROM penalty.ratings
           WHERE rated_at >= %(start)s AND rated_at < %(end)s""",
        {"start": start, "end": end}).fetchall()
    reopens = conn.execute(
        """SELECT * FROM penalty.reopens WHERE reopened_at >= %(start)s
           AND reopened_at < %(end)s""", {"start": start, "end": end}).fetchall()
    outcomes = conn.execute(
        """SELECT * FROM penalty.deadline_outcomes WHERE due_at >= %(start)s
           AND due_at < %(end)s""", {"start": start, "end": end}).fetchall()
    return {"complaints": complaints, "applications": applications, "ratings": ratings,
            "reopens": reopens, "outcomes": outcomes}
