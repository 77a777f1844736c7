"""Reading the ledger, appeals and sanction cases (service layer, SPEC §4, §8;
Art. 11, 16, 17, 36.3): the RPC methods people call through the gateway.
Each loads its input with the contract's form, checks who may, decides with
the pure modules and stores in one transaction with its events."""
from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from services.penalty import appeals, months, readmodel, sanctions, views
from services.penalty.access import (
    APPEAL_DECIDERS,
    CASE_READERS,
    LEDGER_READERS,
    Actor,
    ledger_person_filter,
    may_read_line,
    require,
)
from services.penalty.charging import open_cases, record
from services.penalty.context import Penalty, new_id
from services.penalty.ledger import Line
from services.penalty.repository import cases as case_store
from services.penalty.repository import lines as line_store
from services.penalty.repository import reports as report_store
from shared.contracts.penalty.forms import (
    AppealDecisionForm,
    AppealFilters,
    AppealForm,
    CaseDecisionForm,
    CaseFilters,
    CaseForm,
    DeductionFilters,
)
from shared.errors import Conflict, NotFound
from shared.validation import load_input

Json = dict[str, Any]


# -- the ledger ------------------------------------------------------------------------------

def list_deductions(ctx: Penalty, actor: Actor, filters: Any) -> Json:
    query = load_input(DeductionFilters, filters or {})
    person = ledger_person_filter(actor, query["person_id"])
    with ctx.db.connection() as conn:
        lines = line_store.list_lines(conn, query["month"], person, query["rule"],
                                      query["limit"], query["offset"])
        total = line_store.count_lines(conn, query["month"], person, query["rule"])
    return {"items": [views.line_view(line, ctx.zone) for line in lines], "total": total,
            "limit": query["limit"], "offset": query["offset"]}


def get_deduction(ctx: Penalty, actor: Actor, deduction_id: str) -> Json:
    with ctx.db.connection() as conn:
        line = _line(conn, deduction_id)
    if not may_read_line(actor, line):
        require(actor, LEDGER_READERS, "查看他人的扣罚")
    return views.line_view(line, ctx.zone)


def _line(conn: Any, deduction_id: str) -> Line:
    line: Line | None = line_store.get_line(conn, _uuid(deduction_id, "扣罚"))
    if line is None:
        raise NotFound(f"扣罚记录不存在 (no deduction {deduction_id})")
    return line


def _uuid(value: object, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError):
        raise NotFound(f"{what}不存在 (no such {what}: {value})") from None


# -- appeals -----------------------------------------------------------------------------------

def appeal_deduction(ctx: Penalty, actor: Actor, deduction_id: str, form: Any) -> Json:
    data = load_input(AppealForm, form or {})
    now = ctx.now()
    with ctx.db.transaction() as conn:
        line = _line(conn, deduction_id)
        appeal = appeals.file(line, actor, data["reason"], now, new_id(),
                              case_store.appeal_for_line(conn, line.id))
        if not case_store.insert_appeal(conn, appeal):
            raise Conflict("该扣罚已申诉过 (this deduction was already appealed)")
        ctx.outbox.add(conn, "appeal.filed", {
            "appeal_id": appeal.id, "deduction_id": line.id, "person_id": appeal.person_id,
            "reason": appeal.reason, "filed_at": now}, occurred_at=now,
            complaint_id=line.complaint_id)
    return views.appeal_view(appeal, ctx.zone)


def decide_appeal(ctx: Penalty, actor: Actor, appeal_id: str, form: Any) -> Json:
    data = load_input(AppealDecisionForm, form or {})
    now = ctx.now()
    with ctx.db.transaction() as conn:
        appeal = case_store.get_appeal(conn, _uuid(appeal_id, "申诉"), for_update=True)
        if appeal is None:
            raise NotFound(f"申诉不存在 (no appeal {appeal_id})")
        line = _line(conn, appeal.deduction_id)     # there: appeals reference their line
        decided, charge = appeals.decide(appeal, line, actor, data["decision"],
                                         data["reason"], now)
        written = record(ctx, conn, [charge] if charge else [], now, reason="appeal_upheld")
        if written:
            decided = replace(decided, reversal_id=written[0].id)
        case_store.record_appeal_decision(conn, decided)
        ctx.outbox.add(conn, "appeal.decided", {
            "appeal_id": decided.id, "deduction_id": decided.deduction_id,
            "person_id": decided.person_id, "decision": decided.status,
            "decided_by": decided.decided_by, "decided_at": now,
            "reason": decided.decision_reason, "reversal_id": decided.reversal_id},
            occurred_at=now, complaint_id=line.complaint_id)
    return views.appeal_view(decided, ctx.zone)


def list_appeals(ctx: Penalty, actor: Actor, filters: Any) -> list[Json]:
    query = load_input(AppealFilters, filters or {})
    person = query["person_id"]
    if not actor.any_of(APPEAL_DECIDERS | LEDGER_READERS):
        person = ledger_person_filter(actor, person)
    with ctx.db.connection() as conn:
        found = case_store.list_appeals(conn, query["status"], person)
    return [views.appeal_view(a, ctx.zone) for a in found]


# -- sanction cases ---------------------------------------------------------------------------

def list_sanction_cases(ctx: Penalty, actor: Actor, filters: Any) -> list[Json]:
    require(actor, CASE_READERS, "查看处分案件")
    query = load_input(CaseFilters, filters or {})
    with ctx.db.connection() as conn:
        found = case_store.list_cases(conn, query["status"], query["person_id"], query["kind"])
    return [views.case_view(c, ctx.zone) for c in found]


def open_sanction_case(ctx: Penalty, actor: Actor, form: Any) -> Json:
    """Art. 11 / 17: the GM opens a case (Art. 17 counts the person's cases of
    the month, under a lock of the person)."""
    data = load_input(CaseForm, form or {})
    now = ctx.now()
    with ctx.db.transaction() as conn:
        if not readmodel.people(conn, [data["person_id"]]):
            raise NotFound(f"组织架构中没有此人 (unknown person {data['person_id']})")
        report_store.lock(conn, f"penalty:case:{data['person_id']}")
        count = case_store.count_cases(conn, data["person_id"], data["kind"],
                                       months.month_of(now, ctx.zone))
        case = sanctions.manual_case(data["kind"], data["person_id"], data["complaint_id"],
                                     data["note"], data["observed_at"], actor, now,
                                     ctx.rulebook, ctx.zone, new_id, count)
        open_cases(ctx, conn, [case], now)
    return views.case_view(case, ctx.zone)


def decide_sanction_case(ctx: Penalty, actor: Actor, case_id: str, form: Any) -> Json:
    data = load_input(CaseDecisionForm, form or {})
    now = ctx.now()
    with ctx.db.transaction() as conn:
        case = case_store.get_case(conn, _uuid(case_id, "处分案件"), for_update=True)
        if case is None:
            raise NotFound(f"处分案件不存在 (no sanction case {case_id})")
        decided, charge = sanctions.decide(case, actor, data, now, ctx.zone)
        written = record(ctx, conn, [charge] if charge else [], now)
        if written:
            decided = replace(decided, deduction_id=written[0].id)
        case_store.save_case(conn, decided)
        ctx.outbox.add(conn, "sanction_case.decided", views.case_decided(decided),
                       occurred_at=now, complaint_id=decided.complaint_id)
    return views.case_view(decided, ctx.zone)
