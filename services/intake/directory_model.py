"""intake's copy of the organisation directory (SQL and its event reader):
the projects (name, companies) and people (name, roles, active) that
recording, the order's approval chain and the lists need, replaced whole by
each `directory.loaded` (dispatch's snapshot; an older one never replaces a
newer). Read in the caller's connection, so a recording asks dispatch
nothing once the directory has arrived."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, fields

from services.intake.listing import Names


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class ProjectIn(_Lenient):
    id = fields.String(required=True)
    name = fields.String(required=True)
    region_company = fields.String(required=True)
    property_company = fields.String(required=True)
    active = fields.Boolean(required=True)


class PersonIn(_Lenient):
    id = fields.String(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)


class DirectoryIn(_Lenient):
    """What intake reads of a `directory.loaded` (shared/events/dispatch.py)."""
    version = fields.Integer(required=True)
    loaded_at = fields.AwareDateTime(required=True)
    projects = fields.List(fields.Nested(ProjectIn), required=True)
    people = fields.List(fields.Nested(PersonIn), required=True)


_READER = DirectoryIn()


def read_event(data: Any) -> dict[str, Any]:
    """A directory.loaded's data as intake keeps it (ValidationError: a bug to dead-letter)."""
    loaded: dict[str, Any] = _READER.load(data)
    return loaded


def version(conn: Any) -> int | None:
    row = conn.execute("SELECT version FROM intake.directory_state WHERE id = 1").fetchone()
    return int(row["version"]) if row else None


def replace(conn: Any, data: Mapping[str, Any]) -> bool:
    """Keep this directory unless a newer one is kept; whether it was applied."""
    conn.execute("LOCK TABLE intake.directory_state IN EXCLUSIVE MODE")
    current = version(conn)
    if current is not None and current >= data["version"]:
        return False
    conn.execute("DELETE FROM intake.directory_projects")
    conn.execute("DELETE FROM intake.directory_people")
    with conn.cursor() as cursor:
        cursor.executemany(
            """INSERT INTO intake.directory_projects
                   (id, name, region_company, property_company, active)
               VALUES (%(id)s, %(name)s, %(region_company)s, %(property_company)s, %(active)s)""",
            data["projects"])
        cursor.executemany(
            """INSERT INTO intake.directory_people (id, name, roles, active)
               VALUES (%(id)s, %(name)s, %(roles)s, %(active)s)""", data["people"])
    conn.execute(
        """INSERT INTO intake.directory_state (id, version, loaded_at)
           VALUES (1, %(version)s, %(loaded_at)s)
           ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version,
                                          loaded_at = EXCLUDED.loaded_at""", data)
    return True


def project(conn: Any, project_id: str) -> tuple[bool, dict[str, Any] | None]:
    """(whether a directory is kept, the project or None), in one statement."""
    row = conn.execute(
        """SELECT s.version, p.id, p.name, p.region_company, p.property_company, p.active
             FROM intake.directory_state s
             LEFT JOIN intake.directory_projects p ON p.id = %(id)s
            WHERE s.id = 1""", {"id": project_id}).fetchone()
    if row is None:
        return False, None
    if row["id"] is None:
        return True, None
    return True, {key: row[key] for key in
                  ("id", "name", "region_company", "property_company", "active")}


def people_with_role(conn: Any, role: str) -> list[dict[str, Any]] | None:
    """[{id, active}] of everyone holding `role`; None while no directory is kept."""
    rows = conn.execute(
        """SELECT s.version, p.id, p.active
             FROM intake.directory_state s
             LEFT JOIN intake.directory_people p ON %(role)s = ANY(p.roles)
            WHERE s.id = 1""", {"role": role}).fetchall()
    if not rows:
        return None
    return [{"id": row["id"], "active": row["active"]} for row in rows if row["id"] is not None]


def names(conn: Any) -> Names | None:
    """Every project's and person's name; None while no directory is kept."""
    if version(conn) is None:
        return None
    projects = conn.execute("SELECT id, name FROM intake.directory_projects").fetchall()
    people = conn.execute("SELECT id, name FROM intake.directory_people").fetchall()
    return Names({row["id"]: row["name"] for row in projects},
                 {row["id"]: row["name"] for row in people})
