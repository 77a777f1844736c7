"""Reading the organisation file (SPEC §1): the YAML document, its people
perhaps in a CSV file beside it, validated all-or-nothing.

Read by dispatch's loader (the directory), by the gateway's token command
(demo tokens for the file's people) and by the local run; none of them needs
the dispatch service running.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from shared.errors import InvalidInput
from shared.organisation_file.schema import OrganisationSchema
from shared.organisation_file.yaml_file import error_places, read_bytes, read_mapping


@dataclass(frozen=True)
class OrganisationFile:
    document: dict[str, Any]
    source: str
    sha256: str


def invalid(fields_by_place: dict[str, list[str]]) -> InvalidInput:
    return InvalidInput(fields_by_place, "组织架构文件有误，未加载任何内容 "
                                         "(organisation file refused; nothing loaded)")


def read_organisation(path: str | Path) -> OrganisationFile:
    """Read and validate an organisation file; raise InvalidInput (nothing loaded)."""
    path = Path(path)
    raw, data = read_mapping(path, invalid)
    digest = hashlib.sha256(raw)
    people_csv = None
    if isinstance(data.get("people"), str):
        people_csv = data["people"]
        csv_raw = read_bytes(path.parent / people_csv, invalid, "people")
        digest.update(csv_raw)
        data["people"] = _people_rows(csv_raw, people_csv)
    try:
        document = OrganisationSchema().load(data)
    except ValidationError as err:
        raise invalid(error_places(err.messages, people_csv)) from None
    return OrganisationFile(document, str(path), digest.hexdigest())


def people_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The people of a validated file with their roles and the projects they
    serve (the desks a specialist is on, the project a project GM runs), as
    the directory will hold them once loaded: [{id, name, roles, project_ids}]."""
    projects: dict[str, set[str]] = {}
    for project in document["projects"]:
        for assignment in project["desk"]["specialists"]:
            projects.setdefault(assignment["person"], set()).add(project["id"])
        if project.get("project_gm"):
            projects.setdefault(project["project_gm"], set()).add(project["id"])
    return [{"id": p["id"], "name": p["name"], "roles": sorted(p["roles"]),
             "project_ids": sorted(projects.get(p["id"], ()))} for p in document["people"]]


def _people_rows(raw: bytes, name: str) -> list[dict[str, Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid({"people": [f"{name} 须为 UTF-8 编码 (must be UTF-8)"]}) from None
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        record: dict[str, Any] = {(key or "").strip(): (value or "").strip()
                                  for key, value in row.items() if key is not None}
        if "roles" in record:
            record["roles"] = [r for r in re.split(r"[;|,\s]+", record["roles"]) if r]
        if record.get("bonus") == "":
            record["bonus"] = None
        rows.append(record)
    return rows

