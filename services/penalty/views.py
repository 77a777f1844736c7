"""The `data` of penalty's events and its RPC answers (pure): lines,
appeals and cases dumped with the contract's views
(shared.contracts.penalty.views), the report's answer built to its view."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import tzinfo
from decimal import Decimal
from typing import Any, TypeVar

from services.penalty import report as report_mod
from services.penalty.appeals import Appeal
from services.penalty.ledger import Line, Person
from services.penalty.sanctions import Case
from shared.contracts.penalty.views import AppealView, CaseView, LineView

LINE_OUT = LineView()
APPEAL_OUT = AppealView()
CASE_OUT = CaseView()
T = TypeVar("T", Line, Appeal, Case)
Json = dict[str, Any]


def line_event(line: Line, reason: str | None = None) -> Json:
    data = {"deduction_id": line.id, "person_id": line.person_id,
            "person_name": line.person_name, "rule": line.rule, "article": line.article,
            "amount": line.amount, "bonus_percent": line.bonus_percent, "bonus": line.bonus,
            "month": line.month, "complaint_id": line.complaint_id,
            "charged_at": line.charged_at, "evidence": line.evidence,
            "rule_version": line.rule_version, "source_key": line.source_key,
            "flags": list(line.flags)}
    if line.reverses is not None:
        data.update(reverses=line.reverses, reason=reason or line.evidence.get("reason", ""))
    return data


def case_facts(case: Case) -> Json:
    return {"case_id": case.id, "kind": case.kind, "article": case.article,
            "person_id": case.person_id, "role": case.role, "complaint_id": case.complaint_id}


def case_opened(case: Case) -> Json:
    return dict(case_facts(case), evidence=case.evidence, allowed=case.allowed,
                opened_by=case.opened_by, opened_at=case.opened_at)


def case_decided(case: Case) -> Json:
    return dict(case_facts(case), decision=case.decision, decided_by=case.decided_by,
                decided_role=case.decided_role, decided_at=case.decided_at,
                deduction_id=case.deduction_id)


def line_view(line: Line, zone: tzinfo) -> Json:
    return LINE_OUT.dump(_local(line, zone, ("charged_at", "created_at")))


def appeal_view(appeal: Appeal, zone: tzinfo) -> Json:
    return APPEAL_OUT.dump(_local(appeal, zone, ("filed_at", "decided_at")))


def case_view(case: Case, zone: tzinfo) -> Json:
    return CASE_OUT.dump(_local(case, zone, ("opened_at", "decided_at")))


def _local(obj: T, zone: tzinfo, names: Iterable[str]) -> T:
    changes = {n: getattr(obj, n).astimezone(zone) for n in names if getattr(obj, n) is not None}
    return replace(obj, **changes)


def report_from_snapshot(snapshot: Mapping[str, Any]) -> report_mod.MonthlyReport:
    """Rebuild the report an issued revision was made from (the files are a
    function of it: re-rendering gives the stored SHA-256)."""
    rows = [{"person_id": r[0], "person_name": r[1], "unit_name": r[2], "rule": r[3],
             "article": r[4], "lines": r[5], "amount": Decimal(r[6]),
             "bonus_percent_pending": Decimal(r[7]), "flags": r[8]}
            for r in snapshot["rows"]]
    limit = snapshot.get("threshold")
    return report_mod.build(snapshot["month"], rows,
                            Decimal(limit) if limit is not None else None)


def report_people(report: report_mod.MonthlyReport) -> list[Json]:
    return [{"person_id": p.person_id, "name": p.name, "unit_name": p.unit_name,
             "lines": p.lines, "amount": str(p.amount),
             "bonus_percent_pending": str(p.bonus_percent_pending), "flags": list(p.flags),
             "rules": [{"rule": r.rule, "rule_zh": report_mod.RULE_ZH.get(r.rule, r.rule),
                        "article": r.article, "lines": r.lines, "amount": str(r.amount),
                        "bonus_percent_pending": str(r.bonus_percent_pending),
                        "flags": list(r.flags)} for r in p.rules]}
            for p in report.people]


def report_view(row: Mapping[str, Any], zone: tzinfo, changed: bool) -> Json:
    report = report_from_snapshot(row["snapshot"])
    return {"month": row["month"], "revision": row["revision"],
            "issued_at": row["issued_at"].astimezone(zone).isoformat(),
            "issued_by": row["issued_by"], "trigger": row["trigger"], "totals": row["totals"],
            "line_count": row["line_count"], "people": report_people(report),
            "csv_media_id": row["csv_media_id"], "xlsx_media_id": row["xlsx_media_id"],
            "sha256s": {"csv": row["csv_sha256"], "xlsx": row["xlsx_sha256"]},
            "changes": row["changes"], "changed": changed}


def issued_event(row: Mapping[str, Any]) -> Json:
    return {"month": row["month"], "revision": row["revision"], "issued_at": row["issued_at"],
            "trigger": row["trigger"], "totals": row["totals"], "line_count": row["line_count"],
            "csv_media_id": row["csv_media_id"], "xlsx_media_id": row["xlsx_media_id"],
            "sha256s": {"csv": row["csv_sha256"], "xlsx": row["xlsx_sha256"]},
            "changes": row["changes"]}


def report_notification(row: Mapping[str, Any], recipients: Iterable[Person]) -> Json:
    totals = row["totals"]
    revision = row["revision"]
    again = f"（第 {revision} 版，{row['changes']['summary']}）" if row.get("changes") else ""
    text = (f"{row['month']} 月度扣罚报表已出具{again}：共 {totals['people']} 人、"
            f"{row['line_count']} 笔，合计 {totals['amount']} 元，请登录 CCRM 查收。")
    return {"key": f"monthly_report:{row['month']}:r{revision}", "source": "monthly_report",
            "template": "monthly_report_issued",
            "recipients": [{"person_id": p.id, "name": p.name, "mobile": p.mobile}
                           for p in recipients],
            "params": {"month": row["month"], "revision": revision,
                       "amount": totals["amount"], "lines": row["line_count"],
                       "people": totals["people"]},
            "text": text}
