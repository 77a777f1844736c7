"""SQL of the directory (dispatch.units, people, positions, projects,
desk_assignments, directory_versions). Every function runs in the caller's
connection, so a load and its `directory.loaded` event commit together."""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

import shared  # noqa: F401  (psycopg wait function before psycopg is imported)
from services.dispatch.directory import (
    DeskAssignment,
    Directory,
    Person,
    Position,
    Project,
    Unit,
    Version,
)

_LOCK = "dispatch:directory"

# The newest load's id, and the snapshot each Database (service instance) holds.
_HEAD_ID = "SELECT load_id FROM dispatch.directory_versions ORDER BY version DESC LIMIT 1"
_SNAPSHOTS: weakref.WeakKeyDictionary[Any, tuple[UUID | None, Directory]] = (
    weakref.WeakKeyDictionary())


@dataclass(frozen=True)
class LoadResult:
    version: int
    counts: dict[str, int]
    joined: tuple[str, ...]  # person ids new (or back) in this load
    left: tuple[str, ...]  # person ids this load marked inactive
    vacancies: tuple[str, ...]


def replace_directory(conn: Any, directory: Directory, *, loaded_at: datetime, source: str,
                      sha256: str, label: str | None = None) -> LoadResult:
    """Make `directory` the current one; whatever it no longer lists turns inactive."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(key)s))", {"key": _LOCK})
    version = conn.execute(
        "SELECT coalesce(max(version), 0) + 1 AS v FROM dispatch.directory_versions"
    ).fetchone()["v"]
    vacancies = directory.vacancies()
    conn.execute(
        """INSERT INTO dispatch.directory_versions
               (version, loaded_at, source, sha256, label, region_code, region_name, vacancies)
           VALUES (%(version)s, %(loaded_at)s, %(source)s, %(sha256)s, %(label)s,
                   %(region_code)s, %(region_name)s, %(vacancies)s)""",
        {"version": version, "loaded_at": loaded_at, "source": source, "sha256": sha256,
         "label": label, "region_code": directory.region_code,
         "region_name": directory.region_name, "vacancies": vacancies})
    before = {row["id"] for row in conn.execute("SELECT id FROM dispatch.people WHERE active")}
    stamp = {"version": version, "at": loaded_at}

    # Parents first: a unit's parent must exist when it is written.
    units = sorted(directory.units, key=lambda u: u.parent_id is not None)
    _upsert(conn, """INSERT INTO dispatch.units (id, kind, name, parent_id, department,
                                                active, first_version, last_version)
                     VALUES (%(id)s, %(kind)s, %(name)s, %(parent_id)s, %(department)s, true,
                             %(version)s, %(version)s)
                     ON CONFLICT (id) DO UPDATE SET
                         kind = EXCLUDED.kind, name = EXCLUDED.name, parent_id = EXCLUDED.parent_id,
                         department = EXCLUDED.department, active = true,
                         last_version = EXCLUDED.last_version, removed_at = NULL""",
            [dict(vars(u), **stamp) for u in units])
    _upsert(conn, """INSERT INTO dispatch.people (id, name, mobile, roles, unit_id, bonus,
                                                 active, first_version, last_version)
                     VALUES (%(id)s, %(name)s, %(mobile)s, %(roles)s, %(unit_id)s, %(bonus)s, true,
                             %(version)s, %(version)s)
                     ON CONFLICT (id) DO UPDATE SET
                         name = EXCLUDED.name, mobile = EXCLUDED.mobile, roles = EXCLUDED.roles,
                         unit_id = EXCLUDED.unit_id, bonus = EXCLUDED.bonus, active = true,
                         last_version = EXCLUDED.last_version, left_at = NULL""",
            [dict(vars(p), roles=list(p.roles), **stamp) for p in directory.people])
    conn.execute("DELETE FROM dispatch.positions")
    _upsert(conn, """INSERT INTO dispatch.positions
                         (unit_id, position, person_id, seq, areas, title)
                     VALUES (%(unit_id)s, %(position)s, %(person_id)s, %(seq)s, %(areas)s,
                             %(title)s)""",
            [dict(vars(p), areas=list(p.areas)) for p in directory.positions])
    _upsert(conn, """INSERT INTO dispatch.projects
                         (id, name, city, city_tier, region_company_id, property_company_id,
                          project_gm_id, first_sale_on, last_delivery_on, active,
                          first_version, last_version)
                     VALUES (%(id)s, %(name)s, %(city)s, %(city_tier)s, %(region_company_id)s,
                             %(property_company_id)s, %(project_gm_id)s, %(first_sale_on)s,
                             %(last_delivery_on)s, true, %(version)s, %(version)s)
                     ON CONFLICT (id) DO UPDATE SET
                         name = EXCLUDED.name, city = EXCLUDED.city, city_tier = EXCLUDED.city_tier,
                         region_company_id = EXCLUDED.region_company_id,
                         property_company_id = EXCLUDED.property_company_id,
                         project_gm_id = EXCLUDED.project_gm_id,
                         first_sale_on = EXCLUDED.first_sale_on,
                         last_delivery_on = EXCLUDED.last_delivery_on, active = true,
                         last_version = EXCLUDED.last_version, removed_at = NULL""",
            [dict(vars(p), **stamp) for p in directory.projects])
    _upsert(conn, """INSERT INTO dispatch.desk_assignments
                         (project_id, person_id, assigned_on, active, first_version, last_version)
                     VALUES (%(project_id)s, %(person_id)s, %(assigned_on)s, true,
                             %(version)s, %(version)s)
                     ON CONFLICT (project_id, person_id, assigned_on) DO UPDATE SET
                         active = true, last_version = EXCLUDED.last_version, ended_at = NULL""",
            [dict(vars(a), **stamp) for a in directory.assignments])

    # What the file no longer lists stays, inactive: history refers to it.
    for table, ended in (("units", "removed_at"), ("people", "left_at"),
                         ("projects", "removed_at"), ("desk_assignments", "ended_at")):
        conn.execute(f"""UPDATE dispatch.{table} SET active = false, {ended} = %(at)s
                         WHERE active AND last_version < %(version)s""", stamp)

    counts = directory.counts()
    now_ids = {p.id for p in directory.people}
    joined, left = tuple(sorted(now_ids - before)), tuple(sorted(before - now_ids))
    counts.update(joined=len(joined), left=len(left),
                  people_inactive=conn.execute(
                      "SELECT count(*) AS n FROM dispatch.people WHERE NOT active").fetchone()["n"])
    conn.execute("UPDATE dispatch.directory_versions SET counts = %(counts)s "
                 "WHERE version = %(version)s", {"counts": Jsonb(counts), "version": version})
    return LoadResult(version, counts, joined, left, tuple(vacancies))


def _upsert(conn: Any, sql: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        with conn.cursor() as cursor:
            cursor.executemany(sql, rows)


def current_version(conn: Any) -> dict[str, Any] | None:
    row = conn.execute(
        """SELECT version, loaded_at, source, sha256, label, region_code, region_name, counts,
                  vacancies
           FROM dispatch.directory_versions ORDER BY version DESC LIMIT 1""").fetchone()
    return row


def load_snapshot(conn: Any) -> Directory:
    """The current directory, inactive records included (history names them)."""
    head = current_version(conn)
    if head is None:
        return Directory.empty()
    units = tuple(Unit(**row) for row in conn.execute(
        "SELECT id, kind, name, parent_id, department, active FROM dispatch.units ORDER BY id"))
    people = tuple(Person(row["id"], row["name"], row["mobile"], tuple(row["roles"]),
                          row["unit_id"], row["bonus"], row["active"])
                   for row in conn.execute(
                       """SELECT id, name, mobile, roles, unit_id, bonus, active
                          FROM dispatch.people ORDER BY id"""))
    positions = tuple(Position(row["unit_id"], row["position"], row["person_id"], row["seq"],
                               tuple(row["areas"]), row["title"])
                      for row in conn.execute(
                          """SELECT unit_id, position, person_id, seq, areas, title
                             FROM dispatch.positions ORDER BY unit_id, position, seq"""))
    projects = tuple(Project(**row) for row in conn.execute(
        """SELECT id, name, city, city_tier, region_company_id, property_company_id, project_gm_id,
                  first_sale_on, last_delivery_on, active
           FROM dispatch.projects ORDER BY id"""))
    assignments = tuple(DeskAssignment(**row) for row in conn.execute(
        """SELECT project_id, person_id, assigned_on, active FROM dispatch.desk_assignments
           ORDER BY project_id, assigned_on, person_id"""))
    version = Version(head["version"], head["loaded_at"], head["source"], head["sha256"],
                      head["label"])
    return Directory(head["region_code"], head["region_name"], units, people, positions,
                     projects, assignments, version)


def read_directory(database: Any) -> Directory:
    """A consistent snapshot even while a reload commits.

    Kept per `database` (one per service instance) under the id of the load it
    comes from: a call costs one cheap statement (the newest load's id) and the
    whole snapshot is read again only after another load committed, by this
    instance or any other (issue 17: the snapshot read was 11% of dispatch)."""
    with database.connection() as conn:
        head = conn.execute(_HEAD_ID).fetchone()
    load_id = head["load_id"] if head else None
    held = _SNAPSHOTS.get(database)
    if held is not None and held[0] == load_id:
        return held[1]
    with database.transaction() as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        head = conn.execute(_HEAD_ID).fetchone()
        directory = load_snapshot(conn)
    # Keyed by the load the snapshot itself saw (a reload may have committed
    # between the two reads: the next call then finds its id and keeps it).
    _SNAPSHOTS[database] = (head["load_id"] if head else None, directory)
    return directory


def ping(conn: Any) -> bool:
    return conn.execute("SELECT 1 AS ok").fetchone()["ok"] == 1
