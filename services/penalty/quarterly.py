"""The quarterly systemic-issue analysis (service layer, Art. 42).

Issued at the close of a quarter's last month (or on demand by the GM): it
names only the departments with a systemic problem (`analysis.criteria`,
settings PENALTY_ANALYSIS_CATEGORY_MIN and PENALTY_ANALYSIS_REPEAT_ROOM_ABOVE),
announces itself (`analysis.issued`: sla arms `systemic_measures` for each
named head) and asks sla to text the heads of each newly named department
(`notification.requested`, template `systemic_measures_requested`). The head
of a named department files its improvement measures once (`file_measures`,
event `measures.filed`, which meets that deadline); the analysis shows where
each department stands.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.penalty import analysis, months, readmodel
from services.penalty.access import (
    ANALYSIS_ISSUERS,
    ANALYSIS_READERS,
    MEASURES_FILERS,
    RANKING_READERS,
    Actor,
    require,
)
from services.penalty.context import Penalty
from services.penalty.repository import reports as report_store
from shared import roles
from shared.contracts.penalty.forms import MeasuresForm
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.validation import load_input

Json = dict[str, Any]


def issue_on_demand(ctx: Penalty, actor: Actor, quarter: str) -> Json:
    require(actor, ANALYSIS_ISSUERS, "出具季度系统性问题分析")
    months.parse_quarter(quarter)
    return issue_analysis(ctx, quarter, actor.person_id, ctx.now(), actor)


def get_analysis(ctx: Penalty, actor: Actor, quarter: str) -> Json:
    require(actor, ANALYSIS_READERS, "查看季度系统性问题分析")
    months.parse_quarter(quarter)
    with ctx.db.connection() as conn:
        row = report_store.latest_analysis(conn, quarter)
        if row is None:
            raise NotFound(f"{quarter} 系统性问题分析尚未出具 (not issued yet)")
        return _present(ctx, conn, row, actor)


def issue_analysis(ctx: Penalty, quarter: str, actor_id: str | None, now: datetime,
                   actor: Actor | None = None) -> Json:
    """A new revision when the quarter's figures changed, announced for sla's
    `systemic_measures` deadline; the heads of each department named for the
    first time (or a head new to a named department) are texted."""
    months.require_quarter_ended(quarter, now, ctx.zone)
    start, end = months.quarter_bounds(quarter, ctx.zone)
    rules = analysis.criteria(ctx.config)
    with ctx.db.transaction() as conn:
        report_store.lock(conn, f"penalty:analysis:{quarter}")
        inputs = readmodel.ranking_inputs(conn, start, end)
        directory = analysis.Directory(
            readmodel.heads(conn), {u: r["name"] for u, r in readmodel.units(conn).items()},
            {p: r["name"] for p, r in readmodel.projects(conn).items()})
        previous = report_store.latest_analysis(conn, quarter)
        before = previous["data"] if previous else None
        data = analysis.carry_named_at(analysis.systemic_analysis(
            quarter, inputs["complaints"], inputs["reopens"], start, end, rules, directory),
            before, now.astimezone(ctx.zone))
        if previous is not None and previous["data"] == data:
            return dict(_present(ctx, conn, previous, actor), changed=False)
        revision = previous["revision"] + 1 if previous else 1
        report_store.insert_analysis(conn, quarter, revision, now, actor_id, data)
        ctx.outbox.add(conn, "analysis.issued", _issued_event(data, revision, now),
                       occurred_at=now)
        _notify_heads(ctx, conn, quarter, revision, data, before, now)
        row = {"quarter": quarter, "revision": revision, "issued_at": now, "data": data}
        return dict(_present(ctx, conn, row, actor), changed=True)


def _issued_event(data: Mapping[str, Any], revision: int, now: datetime) -> Json:
    departments = [dict(d, named_at=datetime.fromisoformat(d["named_at"]),
                        measures_due_at=datetime.fromisoformat(d["measures_due_at"]))
                   for d in data["departments"]]
    return dict(data, departments=departments, revision=revision, issued_at=now)


def _notify_heads(ctx: Penalty, conn: Any, quarter: str, revision: int, data: Mapping[str, Any],
                  before: Mapping[str, Any] | None, now: datetime) -> None:
    told = {d["unit_id"]: set(d.get("head_person_ids") or ())
            for d in (before or {}).get("departments") or () if d.get("unit_id")}
    mobiles = {p.id: p.mobile for p in readmodel.people(
        conn, [h["person_id"] for d in data["departments"] for h in d["heads"]]).values()}
    for department in data["departments"]:
        new = [h for h in department["heads"]
               if h["person_id"] not in told.get(department["unit_id"], set())]
        if not new:
            continue
        message = analysis.head_notification(quarter, department)
        message["key"] += f":r{revision}"
        message["recipients"] = [dict(h, mobile=mobiles.get(h["person_id"])) for h in new]
        ctx.outbox.add(conn, "notification.requested", message, occurred_at=now)


def _present(ctx: Penalty, conn: Any, row: Mapping[str, Any], actor: Actor | None) -> Json:
    """The issued analysis with each named department's measures: filed (the
    text and files for the centre and the department), pending or overdue."""
    data = analysis.upgrade(row["data"], row["issued_at"])
    filed = report_store.measures(conn, row["quarter"])
    heads_now = readmodel.heads(conn)
    now = ctx.now()
    departments = []
    for d in data["departments"]:
        current = [person for person, _ in heads_now.get(d["unit_id"]) or ()]
        mine = actor is not None and actor.any_of(MEASURES_FILERS) and \
            analysis.may_file(actor.person_id, d, current)
        status = analysis.measures_status(d, filed.get(d["unit_id"]), now)
        sees = actor is None or actor.any_of(RANKING_READERS) or mine
        record = filed.get(d["unit_id"])
        status["filed"] = _filed(ctx, record, status["late"], sees) if record else None
        departments.append(dict(d, mine=mine, measures=status))
    return dict(data, departments=departments, revision=row["revision"],
                issued_at=row["issued_at"].astimezone(ctx.zone).isoformat(),
                may_file=[d["unit_id"] for d in departments
                          if d["mine"] and d["measures"]["filed"] is None])


def _filed(ctx: Penalty, record: Mapping[str, Any], late: bool, sees: bool) -> Json:
    return {"quarter": record["quarter"], "unit_id": record["unit_id"],
            "department": record["department"], "company_id": record["company_id"],
            "analysis_revision": record["analysis_revision"], "filed_by": record["filed_by"],
            "filed_by_name": record["filed_by_name"],
            "filed_at": record["filed_at"].astimezone(ctx.zone).isoformat(), "late": late,
            "text": record["text"] if sees else None,
            "media_ids": list(record["media_ids"]) if sees else None}


# -- the measures (Art. 42) ------------------------------------------------------------------------

def file_measures(ctx: Penalty, actor: Actor, quarter: str, form: Any) -> Json:
    """The head of a named department files its measures, once: 404 when the
    analysis is not issued or does not name the department, 403 for anyone
    but its head, 409 when filed already."""
    require(actor, MEASURES_FILERS, "报备系统性问题优化措施")
    person_id = str(actor.person_id)        # a signed-in person (Actor.from_dict)
    months.parse_quarter(quarter)
    data = load_input(MeasuresForm, form or {})
    unit_id = data["unit_id"]
    with ctx.db.connection() as conn:
        row = report_store.latest_analysis(conn, quarter)
        if row is None:
            raise NotFound(f"{quarter} 系统性问题分析尚未出具 (the analysis is not issued yet)")
        department = next((d for d in analysis.upgrade(row["data"], row["issued_at"])
                           ["departments"] if d["unit_id"] == unit_id), None)
        if department is None:
            raise NotFound(f"{quarter} 系统性问题分析未列出 {unit_id} "
                           f"(the analysis does not name this department)")
        current = [person for person, _ in readmodel.heads(conn).get(unit_id) or ()]
        if not analysis.may_file(actor.person_id, department, current):
            raise Forbidden(f"只有 {department['unit_name']} 的一把手可以报备其优化措施 "
                            f"(only the department's head may file its measures)")
        _refuse_twice(ctx, conn, quarter, department)
    described = _describe(ctx, data["media_ids"])
    errors = analysis.attachment_errors(described, actor.person_id)
    if errors:
        raise InvalidInput({"media_ids": errors})
    now = ctx.now()
    with ctx.db.transaction() as conn:
        report_store.lock(conn, f"penalty:measures:{quarter}:{unit_id}")
        _refuse_twice(ctx, conn, quarter, department)
        record = {"quarter": quarter, "unit_id": unit_id, "department": department["department"],
                  "company_id": department.get("company_id"), "analysis_revision": row["revision"],
                  "filed_by": person_id, "filed_by_name": actor.name, "filed_at": now,
                  "text": data["text"], "media_ids": data["media_ids"]}
        report_store.insert_measures(conn, record)
        late = analysis.measures_status(department, record, now)["late"]
        ctx.outbox.add(conn, "measures.filed", dict(
            record, head_person_id=actor.person_id,
            head_person_ids=sorted({*department["head_person_ids"], record["filed_by"]}),
            due_at=datetime.fromisoformat(department["measures_due_at"]), late=late),
            occurred_at=now)
        centre = readmodel.people_with_roles(conn, (roles.CENTRE_GM, roles.CENTRE_DEPUTY_GM))
        if centre:
            ctx.outbox.add(conn, "notification.requested",
                           _filed_notification(quarter, department, actor, late, centre),
                           occurred_at=now)
        return _filed(ctx, record, late, sees=True)


def _refuse_twice(ctx: Penalty, conn: Any, quarter: str, department: Mapping[str, Any]) -> None:
    filed = report_store.measures(conn, quarter).get(department["unit_id"])
    if filed is not None:
        when = filed["filed_at"].astimezone(ctx.zone)
        raise Conflict(f"{department['unit_name']}{analysis.quarter_zh(quarter)}的优化措施已于 "
                       f"{when:%Y-%m-%d %H:%M} 由 {filed['filed_by_name'] or filed['filed_by']} "
                       f"报备，不能重复报备 (the measures are already filed)")


def _describe(ctx: Penalty, media_ids: list[str]) -> dict[str, Any]:
    described: dict[str, Any] = {}
    for media_id in media_ids:
        try:
            described[media_id] = ctx.media().get(media_id)
        except NotFound:
            described[media_id] = None
    return described


def _filed_notification(quarter: str, department: Mapping[str, Any], actor: Actor, late: bool,
                        centre: list[Any]) -> Json:
    when = "（已超过 15 天期限）" if late else ""
    return {"key": f"measures:{quarter}:{department['unit_id']}", "source": "analysis",
            "template": "systemic_measures_filed",
            "recipients": [{"person_id": p.id, "name": p.name, "mobile": p.mobile}
                           for p in centre],
            "params": {"quarter": quarter, "unit_id": department["unit_id"],
                       "filed_by": actor.person_id, "late": late},
            "text": f"{department['unit_name']}{actor.name or actor.person_id}已报备"
                    f"{analysis.quarter_zh(quarter)}系统性问题优化措施{when}，"
                    f"请在客诉系统“排名与报表”页查看。"}
