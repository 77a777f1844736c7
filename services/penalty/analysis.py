"""The quarterly systemic-issue analysis (Art. 42), pure: complaints by
category x project, repeat complaints per room, and the departments it names
as having a systemic problem, whose heads file improvement measures within
15 days (sla's `systemic_measures` deadline).

A department is named only when, in the quarter (both settings, `Criteria`):
- it received at least `category_min` complaints of one category
  (PENALTY_ANALYSIS_CATEGORY_MIN, default 3), or
- one room of its complaints was complained about more than
  `repeat_room_above` times (PENALTY_ANALYSIS_REPEAT_ROOM_ABOVE, default 1:
  a second complaint, or a closed one raised again, makes a repeat).
A department is a regional company's department, or a property company.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.categories import category_label
from shared.organisation import DEPARTMENT_NAMES_ZH, PROPERTY, department_unit_id

Row = Mapping[str, Any]
Json = dict[str, Any]

CATEGORY_MIN_SETTING = "PENALTY_ANALYSIS_CATEGORY_MIN"
REPEAT_ROOM_SETTING = "PENALTY_ANALYSIS_REPEAT_ROOM_ABOVE"
MEASURES_DAYS = 15          # Art. 42: 相关部门于15天内提出优化措施
CATEGORY, REPEAT_ROOM = "category", "repeat_room"
FILED, PENDING, OVERDUE = "filed", "pending", "overdue"
STATUS_ZH = {FILED: "已报备", PENDING: "待报备", OVERDUE: "已逾期未报备"}


@dataclass(frozen=True)
class Criteria:
    category_min: int = 3
    repeat_room_above: int = 1

    def as_dict(self) -> Json:
        return asdict(self)


def _whole(config: Mapping[str, Any], name: str, default: int, least: int) -> int:
    raw = config.get(name, default)
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{name}: {raw!r} is not a whole number") from None
    if value < least:
        raise ValueError(f"{name}: {raw!r} must be at least {least}")
    return value


def criteria(config: Mapping[str, Any] | None) -> Criteria:
    """The settings (config.yaml); a value that is not a whole number >= 1 is refused."""
    config = config if isinstance(config, Mapping) else {}
    default = Criteria()
    return Criteria(_whole(config, CATEGORY_MIN_SETTING, default.category_min, 1),
                    _whole(config, REPEAT_ROOM_SETTING, default.repeat_room_above, 1))


@dataclass(frozen=True)
class Directory:
    """What the analysis names people and places with: the heads of each
    unit (active people with the `head` role in it), unit and project names."""
    heads: Mapping[str, Sequence[tuple[str, str | None]]]
    unit_names: Mapping[str, str]
    project_names: Mapping[str, str]


def _in(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def _company(c: Row) -> str | None:
    company: str | None = c.get("property_company_id") if c.get("department") == PROPERTY \
        else c.get("region_company_id")
    return company


def _room_entries(received: Sequence[Row], reopens: Iterable[Row], by_id: Mapping[str, Row],
                  start: datetime, end: datetime) -> list[tuple[Row, str]]:
    """(complaint, its id) once per complaint received in the quarter and once
    per reopening in it: each is a complaint about the room."""
    out = [(c, c["id"]) for c in received]
    for r in reopens:
        reopened = by_id.get(r["complaint_id"])
        if reopened is not None and _in(r["reopened_at"], start, end):
            out.append((reopened, reopened["id"]))
    return out


def _rooms(entries: Iterable[tuple[Row, str]]) -> dict[tuple[str, str | None], Json]:
    rooms: dict[tuple[str, str | None], Json] = {}
    for c, cid in entries:
        entry = rooms.setdefault((c["project_id"], c.get("room")),
                                 {"complaints": set(), "count": 0})
        entry["complaints"].add(cid)
        entry["count"] += 1
    return rooms


def _repeat_rooms(rooms: Mapping[tuple[str, str | None], Json], above: int) -> list[Json]:
    return [{"project_id": project, "room": room, "count": e["count"],
             "complaint_ids": sorted(e["complaints"])}
            for (project, room), e in sorted(rooms.items(), key=lambda kv: (
                -kv[1]["count"], kv[0][0], kv[0][1] or ""))
            if e["count"] > above]


def systemic_analysis(quarter: str, complaints: Sequence[Row], reopens: Iterable[Row],
                      start: datetime, end: datetime, rules: Criteria | None = None,
                      directory: Directory | None = None) -> Json:
    """The quarter's figures and the departments named (only those meeting
    `rules`, default `Criteria()`), each with its heads and why it is named."""
    rules = rules or Criteria()
    directory = directory or Directory({}, {}, {})
    reopens = list(reopens)
    received = [c for c in complaints if _in(c.get("recorded_at"), start, end)]
    cells: dict[tuple[str | None, str], int] = {}
    for c in received:
        key = (c.get("category"), c["project_id"])
        cells[key] = cells.get(key, 0) + 1
    by_category_project = [{"category": category, "project_id": project, "count": count}
                           for (category, project), count in sorted(
                               cells.items(), key=lambda kv: (-kv[1], kv[0][0] or "", kv[0][1]))]
    by_id = {c["id"]: c for c in complaints}
    entries = _room_entries(received, reopens, by_id, start, end)
    repeat_rooms = _repeat_rooms(_rooms(entries), rules.repeat_room_above)

    groups: dict[tuple[str, str], dict[str, list[Any]]] = {}
    for c, cid in entries:
        company = _company(c)
        if not c.get("department") or not company:
            continue
        group = groups.setdefault((company, c["department"]), {"received": [], "rooms": []})
        group["rooms"].append((c, cid))
    for c in received:
        key = (_company(c) or "", c.get("department") or "")
        if key in groups:
            groups[key]["received"].append(c)
    named = [department
             for (company, code), group in sorted(groups.items())
             if (department := _department(company, code, group["received"], group["rooms"],
                                           rules, directory)) is not None]
    return {"quarter": quarter, "complaint_count": len(received), "criteria": rules.as_dict(),
            "by_category_project": by_category_project, "repeat_rooms": repeat_rooms,
            "departments": named}


def _department(company: str, code: str, received: Sequence[Row],
                room_entries: Sequence[tuple[Row, str]], rules: Criteria,
                directory: Directory) -> Json | None:
    """The department's entry when it has a systemic problem, else None."""
    by_category: dict[str, list[Row]] = {}
    for c in received:
        by_category.setdefault(c.get("category") or "", []).append(c)
    reasons: list[Json] = []
    for category, items in sorted(by_category.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if category and len(items) >= rules.category_min:
            reasons.append({"kind": CATEGORY, "category": category,
                            "category_name": category_label(category), "project_id": None,
                            "project_name": None, "room": None, "count": len(items),
                            "complaint_ids": sorted(c["id"] for c in items)})
    for room in _repeat_rooms(_rooms(room_entries), rules.repeat_room_above):
        reasons.append({"kind": REPEAT_ROOM, "category": None, "category_name": None,
                        "project_id": room["project_id"],
                        "project_name": directory.project_names.get(room["project_id"]),
                        "room": room["room"], "count": room["count"],
                        "complaint_ids": room["complaint_ids"]})
    if not reasons:
        return None
    unit_id = department_unit_id(company, code)
    heads = sorted(directory.heads.get(unit_id) or ())
    company_name = directory.unit_names.get(company) or company
    department_name = DEPARTMENT_NAMES_ZH.get(code, code)
    unit_name = directory.unit_names.get(unit_id) or (
        company_name if code == PROPERTY else f"{company_name}{department_name}")
    return {"company_id": company, "company_name": company_name, "department": code,
            "department_name": department_name, "unit_id": unit_id, "unit_name": unit_name,
            "head_person_ids": [person for person, _ in heads],
            "heads": [{"person_id": person, "name": name} for person, name in heads],
            "complaint_count": len(received),
            "categories": sorted(x for x in by_category if x),
            "reasons": reasons, "why": why(reasons, rules)}


def why(reasons: Sequence[Row], rules: Criteria) -> str:
    """The reasons in words (zh-CN), for the page and the heads' SMS."""
    parts = []
    for r in reasons:
        if r["kind"] == CATEGORY:
            parts.append(f"“{r['category_name']}”投诉 {r['count']} 宗"
                         f"（标准：同类 {rules.category_min} 宗及以上）")
        else:
            place = r.get("project_name") or r["project_id"]
            parts.append(f"{place} {r.get('room') or '（未填房号）'} 重复投诉 {r['count']} 次"
                         f"（标准：超过 {rules.repeat_room_above} 次）")
    return "；".join(parts)


def quarter_zh(quarter: str) -> str:
    """'2026-Q3' -> '2026年第3季度'."""
    year, number = quarter.split("-Q")
    return f"{year}年第{number}季度"


# -- revisions: when each department was first named ----------------------------------------------

def carry_named_at(data: Json, previous: Row | None, now: datetime) -> Json:
    """Each department keeps the time it was first named in the quarter (an
    earlier revision's), a newly named one gets `now` (in the group's zone:
    the heads' SMS says the due time as is); its measures are due 15 days
    (Art. 42) after that."""
    earlier = {d["unit_id"]: d.get("named_at") for d in (previous or {}).get("departments") or ()
               if d.get("unit_id")}
    departments = []
    for d in data["departments"]:
        named_at = earlier.get(d["unit_id"]) or now.isoformat()
        due_at = datetime.fromisoformat(named_at) + timedelta(days=MEASURES_DAYS)
        departments.append(dict(d, named_at=named_at, measures_due_at=due_at.isoformat()))
    return dict(data, departments=departments)


def newly_named(data: Row, previous: Row | None) -> list[Json]:
    """The departments this revision names that no earlier one did."""
    before = {d.get("unit_id") for d in (previous or {}).get("departments") or ()}
    return [d for d in data["departments"] if d["unit_id"] not in before]


def head_notification(quarter: str, department: Row) -> Json:
    """The message to a named department's heads (sla sends it by SMS)."""
    due = datetime.fromisoformat(department["measures_due_at"])
    text = (f"{quarter_zh(quarter)}客户投诉系统性问题分析：{department['unit_name']}"
            f"被列为存在系统性问题的部门（{department['why']}）。请于 {due:%Y-%m-%d %H:%M} 前"
            f"在客诉系统“排名与报表”页报备优化措施（第四十二条）。")
    return {"key": f"analysis:{quarter}:{department['unit_id']}",
            "source": "analysis", "template": "systemic_measures_requested",
            "recipients": [dict(h) for h in department["heads"]],
            "params": {"quarter": quarter, "unit_id": department["unit_id"],
                       "department": department["department"],
                       "due_at": department["measures_due_at"]},
            "text": text}


# -- the measures a department filed --------------------------------------------------------------

def measures_status(department: Row, filed: Row | None, now: datetime) -> Json:
    """Filed (on time or late), pending until its due time, then overdue."""
    due = datetime.fromisoformat(department["measures_due_at"])
    if filed is not None:
        status = FILED
    else:
        status = OVERDUE if now > due else PENDING
    return {"status": status, "status_zh": STATUS_ZH[status], "due_at": due.isoformat(),
            "late": filed is not None and filed["filed_at"] > due}


def may_file(actor_id: str | None, department: Row, current_heads: Iterable[str]) -> bool:
    """The heads the analysis named, or whoever heads the unit now."""
    return actor_id is not None and (actor_id in (department.get("head_person_ids") or ())
                                     or actor_id in set(current_heads))


ATTACHMENT_KINDS = ("material", "photo")


def attachment_errors(described: Mapping[str, Row | None], actor_id: str | None) -> list[str]:
    """What is wrong with the files a head attaches (media's descriptions, None
    for no such file): they exist, are material or photos, and are the head's own."""
    errors = []
    for media_id, media in described.items():
        if media is None:
            errors.append(f"文件不存在 (no such media) {media_id}")
        elif media.get("kind") not in ATTACHMENT_KINDS:
            errors.append(f"{media_id} 须为资料或照片（material、photo），实为 {media.get('kind')} "
                          f"(must be a material or photo upload)")
        elif media.get("uploaded_by") != actor_id:
            errors.append(f"{media_id} 不是您本人上传的文件 (not a file you uploaded)")
    return errors


def upgrade(data: Row, issued_at: datetime) -> Json:
    """An analysis issued before departments were named by `Criteria` (every
    department with complaints, no reasons) read in today's shape."""
    if all("unit_id" in d for d in data.get("departments") or ()) and "criteria" in data:
        return dict(data)
    departments = []
    for d in data.get("departments") or ():
        unit_id = d.get("unit_id") or department_unit_id(d.get("company_id") or "", d["department"])
        named_at = d.get("named_at") or issued_at.isoformat()
        departments.append(dict(
            {"company_name": d.get("company_id"),
             "department_name": DEPARTMENT_NAMES_ZH.get(d["department"], d["department"]),
             "unit_id": unit_id, "unit_name": unit_id,
             "heads": [{"person_id": p, "name": None} for p in d.get("head_person_ids") or ()],
             "reasons": [], "why": "（早期版本的分析未记录列入原因）", "named_at": named_at,
             "measures_due_at": (datetime.fromisoformat(named_at)
                                 + timedelta(days=MEASURES_DAYS)).isoformat()}, **d))
    return dict(data, criteria=data.get("criteria") or {"category_min": 0,
                                                          "repeat_room_above": 0},
                departments=departments)
