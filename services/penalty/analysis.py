"""The quarterly systemic-issue analysis (Art. 42), pure: complaints by
category x project, repeat complaints per room, and the departments it names
(whose heads file improvement measures within 15 days, sla's
`systemic_measures` deadline)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

Row = Mapping[str, Any]


def _in(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def systemic_analysis(quarter: str, complaints: Sequence[Row], reopens: Iterable[Row],
                      start: datetime, end: datetime, repeat_threshold: int = 2) -> dict[str, Any]:
    received = [c for c in complaints if _in(c.get("recorded_at"), start, end)]
    cells: dict[tuple[str | None, str], int] = {}
    for c in received:
        key = (c.get("category"), c["project_id"])
        cells[key] = cells.get(key, 0) + 1
    by_category_project = [{"category": category, "project_id": project, "count": count}
                           for (category, project), count in sorted(
                               cells.items(), key=lambda kv: (-kv[1], kv[0][0] or "", kv[0][1]))]

    # A room complained about again: several complaints in the quarter, or a
    # closed one raised again (reopened) in it.
    rooms: dict[tuple[str, str | None], dict[str, Any]] = {}
    for c in received:
        entry = rooms.setdefault((c["project_id"], c.get("room")),
                                 {"complaints": set(), "count": 0})
        entry["complaints"].add(c["id"])
        entry["count"] += 1
    by_id = {c["id"]: c for c in complaints}
    for r in reopens:
        reopened = by_id.get(r["complaint_id"])
        if reopened is None or not _in(r["reopened_at"], start, end):
            continue
        entry = rooms.setdefault((reopened["project_id"], reopened.get("room")),
                                 {"complaints": set(), "count": 0})
        entry["complaints"].add(reopened["id"])
        entry["count"] += 1
    repeat_rooms = [{"project_id": project, "room": room, "count": e["count"],
                     "complaint_ids": sorted(e["complaints"])}
                    for (project, room), e in sorted(rooms.items(), key=lambda kv: (
                        -kv[1]["count"], kv[0][0], kv[0][1] or ""))
                    if e["count"] >= repeat_threshold]

    departments: dict[tuple[str | None, str], dict[str, Any]] = {}
    for c in received:
        if not c.get("department"):
            continue
        company = c.get("property_company_id") if c["department"] == "property" else \
            c.get("region_company_id")
        key = (company, c["department"])
        entry = departments.setdefault(key, {"company_id": company, "department": c["department"],
                                             "head_person_ids": set(), "complaint_count": 0,
                                             "categories": set()})
        entry["complaint_count"] += 1
        entry["categories"].add(c.get("category"))
        if c.get("handler_person_id"):
            entry["head_person_ids"].add(c["handler_person_id"])
    named = [dict(e, head_person_ids=sorted(e["head_person_ids"]),
                  categories=sorted(x for x in e["categories"] if x))
             for _, e in sorted(departments.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))]
    return {"quarter": quarter, "complaint_count": len(received),
            "by_category_project": by_category_project, "repeat_rooms": repeat_rooms,
            "departments": named}
