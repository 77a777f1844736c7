"""The GM's confirmation of a heavy month (service layer, issue 13): the
report's answer with each flagged person's standing (pending / confirmed /
referred to case N), and the GM's two decisions. Rules in `review`."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.penalty import months, readmodel, sanctions, views
from services.penalty import review as review_mod
from services.penalty.access import Actor, require
from services.penalty.charging import open_cases
from services.penalty.context import Penalty, new_id
from services.penalty.ledger import Person
from services.penalty.repository import cases as case_store
from services.penalty.repository import closes as close_store
from services.penalty.repository import reports as report_store
from shared import roles
from shared.contracts.penalty.access import REPORT_REVIEWERS
from shared.contracts.penalty.forms import ReviewForm
from shared.errors import NotFound
from shared.validation import load_input

Json = dict[str, Any]
REPORT_RECIPIENT_ROLES = (roles.HR, roles.FINANCE)


def _statuses(ctx: Penalty, conn: Any, row: Mapping[str, Any]) -> list[review_mod.Status]:
    report = views.report_from_snapshot(row["snapshot"])
    limit = report.threshold if report.threshold is not None \
        else review_mod.threshold(ctx.config)
    decided = {person: [review_mod.Decision(d["decision"], Decimal(d["amount"]), d["revision"],
                                            d["case_id"], d["decided_by"], d["decided_at"],
                                            d["note"]) for d in found]
               for person, found in close_store.reviews(conn, row["month"]).items()}
    out = []
    for status in review_mod.statuses(((p.person_id, p.name, p.amount) for p in report.people),
                                      limit, decided):
        if status.case_id is not None:
            case = case_store.get_case(conn, status.case_id)
            status = replace(status, case_status=case.status if case else None)
        out.append(status)
    return out


def report_answer(ctx: Penalty, conn: Any, row: Mapping[str, Any], changed: bool) -> Json:
    """The report's view with `review`: the threshold, each person above it
    with their standing, and `final` (HR may take it as final)."""
    answer = views.report_view(row, ctx.zone, changed=changed)
    found = _statuses(ctx, conn, row)
    limit = row["snapshot"].get("threshold") or str(review_mod.threshold(ctx.config))
    answer["review"] = {"threshold": limit,
                        "people": [_local(s.as_json(), ctx) for s in found],
                        "final": review_mod.is_final(found)}
    return answer


def _local(status: Json, ctx: Penalty) -> Json:
    if status["decided_at"]:
        status["decided_at"] = datetime.fromisoformat(status["decided_at"]).astimezone(
            ctx.zone).isoformat()
    return status


def confirm(ctx: Penalty, actor: Actor, month: str, person_id: str, form: Any) -> Json:
    """The GM confirms the person's month at the latest revision's amount."""
    return _decide(ctx, actor, month, person_id, form, review_mod.CONFIRMED)


def refer(ctx: Penalty, actor: Actor, month: str, person_id: str, form: Any) -> Json:
    """The GM refers the person's month to a sanction case (kind monthly_review)."""
    return _decide(ctx, actor, month, person_id, form, review_mod.REFERRED)


def _decide(ctx: Penalty, actor: Actor, month: str, person_id: str, form: Any,
            decision: str) -> Json:
    require(actor, REPORT_REVIEWERS, "确认超过阈值的月度扣罚 (only the centre GM)")
    months.parse_month(month)
    data = load_input(ReviewForm, form or {})
    now = ctx.now()
    with ctx.db.transaction() as conn:
        report_store.lock(conn, f"penalty:report:{month}")
        row = report_store.latest_report(conn, month)
        if row is None:
            raise NotFound(f"{month} 月度扣罚报表尚未出具 (not issued yet)")
        current = next((s for s in _statuses(ctx, conn, row) if s.person_id == person_id), None)
        limit = views.report_from_snapshot(row["snapshot"]).threshold \
            or review_mod.threshold(ctx.config)
        current = review_mod.check_decision(current, person_id, month, decision, limit)
        case_id = None
        if decision == review_mod.REFERRED:
            case = sanctions.review_case(person_id, month, current.amount, limit,
                                         row["revision"], data["note"], actor.person_id or "",
                                         ctx.rulebook, ctx.zone, now, new_id)
            open_cases(ctx, conn, [case], now)
            case_id = case.id
        close_store.insert_review(conn, {
            "id": new_id(), "month": month, "person_id": person_id, "decision": decision,
            "amount": current.amount, "revision": row["revision"], "case_id": case_id,
            "note": data["note"], "decided_by": actor.person_id, "decided_at": now})
        ctx.outbox.add(conn, "monthly_report.reviewed", {
            "month": month, "person_id": person_id, "decision": decision,
            "amount": current.amount, "revision": row["revision"], "case_id": case_id,
            "note": data["note"], "decided_by": actor.person_id, "decided_at": now},
            occurred_at=now)
        recipients = readmodel.people_with_roles(conn, REPORT_RECIPIENT_ROLES)
        ctx.outbox.add(conn, "notification.requested", _decided_notification(
            month, current, decision, case_id, row["revision"], recipients), occurred_at=now)
        answer = report_answer(ctx, conn, row, changed=False)
    return answer


def _recipients(people: Iterable[Person]) -> list[Json]:
    return [{"person_id": p.id, "name": p.name, "mobile": p.mobile} for p in people]


def _decided_notification(month: str, status: review_mod.Status, decision: str,
                          case_id: str | None, revision: int, people: Iterable[Person]) -> Json:
    who = status.name or status.person_id
    what = "已经总经理确认，可作为最终结果" if decision == review_mod.CONFIRMED \
        else f"已由总经理移交处分案件（{case_id}），待案件决定"
    return {"key": f"monthly_review:{month}:{status.person_id}:{decision}:r{revision}",
            "source": "monthly_report", "template": "monthly_report_reviewed",
            "recipients": _recipients(people),
            "params": {"month": month, "person_id": status.person_id,
                       "amount": str(status.amount), "decision": decision, "case_id": case_id},
            "text": f"{month} 月度扣罚报表：{who} 当月扣罚 {status.amount} 元{what}。"}


def gm_notification(row: Mapping[str, Any], pending: list[Json],
                    people: Iterable[Person]) -> Json:
    """The GM is told who needs the confirmation in this revision."""
    names = "、".join(f"{p['name'] or p['person_id']}（{p['amount']} 元）" for p in pending)
    return {"key": f"monthly_review:{row['month']}:r{row['revision']}",
            "source": "monthly_report", "template": "monthly_report_needs_gm",
            "recipients": _recipients(people),
            "params": {"month": row["month"], "revision": row["revision"],
                       "people": [p["person_id"] for p in pending]},
            "text": f"{row['month']} 月度扣罚报表（第 {row['revision']} 版）中 {len(pending)} 人"
                    f"当月扣罚超过阈值，需总经理确认或移交处分案件：{names}。"}
