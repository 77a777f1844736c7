"""Events not about one complaint (pure): the directory (people sla must
reach, desk assignments -> rotation, Art. 43) and the quarterly systemic
analysis (Art. 42)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from services.sla.calendar import as_date, at_local
from services.sla.decision import Work
from services.sla.firing import fire_step
from services.sla.model import ARMED, Directory, Event, Message, Outcome, Person, Timer
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


def measures_key(quarter: str, unit_id: str | None, head: str) -> str:
    """One `systemic_measures` deadline per quarter, department and head: a
    head of two named departments files for each. (Timers armed before
    `analysis.issued` named the unit are keyed `analysis:<quarter>:<head>`.)"""
    return f"analysis:{quarter}:{unit_id}:{head}" if unit_id else f"analysis:{quarter}:{head}"


def _legacy_timer(work: Work, quarter: str, head: str, department: str | None) -> Timer | None:
    """A deadline armed per head only (before the unit was in the key), for
    this department: the one it stands for."""
    timer = work.get(f"analysis:{quarter}:{head}")
    if timer is None or timer.rule != "systemic_measures":
        return None
    armed_for = timer.details.get("department")
    return timer if armed_for in (None, department) or department is None else None


def on_analysis_issued(event: Event, timers: Iterable[Timer], now: datetime,
                       settings: Settings) -> Outcome:
    """Art. 42: the heads of the departments the quarter's analysis names
    file their improvement measures within 15 days (escalated to the GM if
    not), one deadline per department and head. A revision arms only
    departments and heads not named before."""
    data = event.data
    quarter = data["quarter"]
    work = Work(None, timers, now, settings)
    heads = [(department.get("department"), department.get("unit_id"), head)
             for department in data.get("departments") or ()
             for head in department.get("head_person_ids") or ()]
    if not heads:
        work.problem("missing_data", f"系统性问题分析 {quarter} 未列出责任部门负责人 "
                                     "(the analysis names no department heads)")
    for department, unit_id, head in heads:
        if unit_id and _legacy_timer(work, quarter, head, department) is not None:
            continue            # armed before the unit was in the key: that one stands
        work.arm("systemic_measures", measures_key(quarter, unit_id, head),
                 data["issued_at"] + settings.systemic_measures, head, roles.HEAD,
                 complaint=False, details={"quarter": quarter,
                                           "revision": data.get("revision"),
                                           "department": department, "unit_id": unit_id})
    return work.outcome()


def on_measures_filed(event: Event, timers: Iterable[Timer], now: datetime,
                      settings: Settings, directory: Directory | None = None) -> Outcome:
    """Art. 42: a named department's measures were filed (penalty's
    `measures.filed`): the `systemic_measures` deadline of each of its heads
    is met at `filed_at`, or missed by then (a miss already escalated stays;
    a late filing whose deadline had not fired yet is escalated now). Their
    pending warnings end with them."""
    data = event.data
    quarter, unit_id = data["quarter"], data["unit_id"]
    work = Work(None, timers, now, settings, directory)
    heads = sorted({*(data.get("head_person_ids") or ()), *filter(None, [data.get(
        "head_person_id")])})
    found = [timer for timer in (work.get(measures_key(quarter, unit_id, head))
                                 or _legacy_timer(work, quarter, head, data.get("department"))
                                 for head in heads) if timer is not None]
    if not found:
        work.problem("unknown_deadline", f"{quarter} {unit_id} 的优化措施已报备，但没有对应的"
                                         "报备时限 (measures filed for no systemic_measures "
                                         "deadline: analysis.issued not received?)")
    details = {"filed_by": data.get("head_person_id"), "filed_unit_id": unit_id}
    for timer in found:
        if timer.state == ARMED and data["filed_at"] > timer.due_at:
            fire_step(work, timer, None)      # late, and its deadline had not fired yet
        work.resolve(timer.key, data["filed_at"], details=details)
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
