"""Events not about one complaint (pure): the directory (people sla must
reach, desk assignments -> rotation, Art. 43) and the quarterly systemic
analysis (Art. 42)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from services.sla.calendar import as_date, at_local
from services.sla.decision import Work
from services.sla.model import Directory, Event, Message, Outcome, Person, Timer
from services.sla.rules import Settings
from shared import roles


def on_directory_loaded(event: Event, current_version: int | None, timers: Iterable[Timer],
                        now: datetime, settings: Settings) -> Outcome:
    """Keep a copy of the people and project names; arm a rotation notice for
    each active desk assignment, cancel those no longer in the directory."""
    data = event.data
    work = Work(None, timers, now, settings)
    if current_version is not None and data["version"] <= current_version:
        work.problem("stale", f"组织架构版本 {data['version']} 不新于已加载的 {current_version}，"
                              "已忽略 (an older directory version was ignored)")
        return work.outcome()
    people = {p["id"]: Person(p["id"], p["name"], p.get("mobile"), tuple(p.get("roles") or ()),
                              bool(p.get("active", True)))
              for p in data.get("people") or ()}
    projects = {p["id"]: p["name"] for p in data.get("projects") or ()}
    chairmen_of = {p["unit"]: p["id"] for p in data.get("people") or ()
                   if p.get("unit") and p.get("active", True)
                   and roles.CHAIRMAN in (p.get("roles") or ())}
    chairmen = {p["id"]: (chairmen_of.get(p.get("region_company") or ""),
                          chairmen_of.get(p.get("property_company") or ""))
                for p in data.get("projects") or ()}
    work.out.directory = Directory(people, projects, data["version"], chairmen)
    assignments = data.get("desk_assignments")
    if assignments is None:
        work.problem("missing_data", "组织架构事件未带客服专员驻点信息，无法安排轮岗提醒 "
                                     "(directory.loaded has no desk_assignments: rotation "
                                     "notices cannot be armed)")
        return work.outcome()
    wanted: set[str] = set()
    for item in assignments:
        if not item.get("active", True):
            continue
        assigned_on, due_on = as_date(item["assigned_on"]), as_date(item["rotation_due_on"])
        key = f"rotation:{item['project_id']}:{item['person_id']}:{assigned_on.isoformat()}"
        wanted.add(key)
        person = people.get(item["person_id"])
        work.arm("rotation", key, at_local(due_on, settings.rotation_notice_at, settings.zone),
                 item["person_id"], roles.SPECIALIST, complaint=False,
                 details={"project_id": item["project_id"], "assigned_on": assigned_on.isoformat(),
                          "due_on": due_on.isoformat(),
                          "name": person.name if person else None})
    for timer in work.open_timers("rotation"):
        if timer.key not in wanted:
            work.cancel(timer, "assignment_ended")
    return work.outcome()


def on_analysis_issued(event: Event, timers: Iterable[Timer], now: datetime,
                       settings: Settings) -> Outcome:
    """Art. 42: the heads of the departments the quarter's analysis names
    file their improvement measures within 15 days (escalated to the GM if
    not). A revision arms only heads not named before."""
    data = event.data
    work = Work(None, timers, now, settings)
    heads = [(department.get("department"), head)
             for department in data.get("departments") or ()
             for head in department.get("head_person_ids") or ()]
    if not heads:
        work.problem("missing_data", f"系统性问题分析 {data['quarter']} 未列出责任部门负责人 "
                                     "(the analysis names no department heads)")
    for department, head in heads:
        work.arm("systemic_measures", f"analysis:{data['quarter']}:{head}",
                 data["issued_at"] + settings.systemic_measures, head, roles.HEAD,
                 complaint=False, details={"quarter": data["quarter"],
                                           "revision": data.get("revision"),
                                           "department": department})
    return work.outcome()


def on_notification_requested(event: Event, directory: Directory | None, now: datetime,
                              settings: Settings) -> Outcome:
    """Penalty asks for a message (monthly report, analysis): one SMS per
    recipient; a missing mobile is looked up in the directory."""
    data = event.data
    work = Work(None, [], now, settings)
    for recipient in data["recipients"]:
        person = directory.person(recipient["person_id"]) if directory else None
        mobile = recipient.get("mobile") or (person.mobile if person else None)
        name = recipient.get("name") or (person.name if person else None)
        work.send(Message(recipient["person_id"], name, mobile, data["template"],
                          dict(data.get("params") or {}, request_key=data["key"]),
                          _signed(data["text"], settings), None, data["source"]))
    return work.outcome()


def _signed(text: str, settings: Settings) -> str:
    prefix = f"【{settings.sms_signature}】"
    return text if text.startswith("【") else prefix + text


def directory_from_dispatch(health: dict[str, Any], people: Sequence[dict[str, Any]],
                            projects: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """directory.loaded's data rebuilt from dispatch's RPC answers (health,
    list_people, list_projects): for a directory loaded before sla's queue
    existed, whose event sla never received."""
    version = (health.get("directory") or {}).get("version")
    return {
        "version": version,
        "loaded_at": (health.get("directory") or {}).get("loaded_at"),
        "people": [{"id": p["id"], "name": p["name"], "mobile": p.get("mobile"),
                    "roles": p.get("roles") or [], "active": p.get("active", True),
                    "unit": p.get("unit_id")}
                   for p in people],
        "projects": [{"id": p["id"], "name": p["name"],
                      "region_company": (p.get("region_company") or {}).get("id"),
                      "property_company": (p.get("property_company") or {}).get("id")}
                     for p in projects],
        "desk_assignments": [
            {"project_id": p["id"], "person_id": s["person_id"],
             "assigned_on": s["assigned_on"], "rotation_due_on": s["rotation_due_on"],
             "active": True}
            for p in projects for s in (p.get("desk") or {}).get("specialists") or ()],
    }
