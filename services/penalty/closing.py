"""The monthly close (service layer, Art. 16, 36): the month's cut, the
bottom-ten tracking, the report for HR and Finance with its files stored in
media, and at a quarter's end the systemic-issue analysis.

Every step is idempotent and runs in its own transaction under a lock of the
month; sla's `monthly_report.due` is recorded in the inbox with the report,
so a redelivery after a crash redoes only what is missing.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.penalty import ledger, months, rankings, readmodel, sanctions, views
from services.penalty import report as report_mod
from services.penalty.access import REPORT_ISSUERS, REPORT_READERS, Actor, require
from services.penalty.assessment import issue_analysis
from services.penalty.charging import open_cases, record
from services.penalty.context import SCHEMA, Penalty, new_id
from services.penalty.repository import lines as line_store
from services.penalty.repository import reports as report_store
from shared import roles
from shared.contracts.penalty.forms import ReportQuery
from shared.errors import NotFound
from shared.inbox import first_delivery
from shared.validation import load_input

log = logging.getLogger(__name__)

DUE_HANDLER = "monthly_report.due"
BOTTOM_TEN_HISTORY_MONTHS = 24
REPORT_RECIPIENT_ROLES = (roles.HR, roles.FINANCE)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Json = dict[str, Any]


def report_due(ctx: Penalty, month: str, envelope: Mapping[str, Any]) -> None:
    """sla's `monthly_report.due`: the close, unless this event was applied."""
    with ctx.db.connection() as conn:
        if report_store.seen(conn, DUE_HANDLER, envelope["event_id"]):
            return
    monthly_close(ctx, month, None, DUE_HANDLER, ctx.now(), envelope)


def issue_on_demand(ctx: Penalty, actor: Actor, month: str) -> Json | None:
    require(actor, REPORT_ISSUERS, "出具月度扣罚报表")
    months.parse_month(month)
    return monthly_close(ctx, month, actor.person_id, "on_demand", ctx.now())


def monthly_close(ctx: Penalty, month: str, actor_id: str | None, trigger: str, now: datetime,
                  envelope: Mapping[str, Any] | None = None) -> Json | None:
    """The month's cut, the bottom-ten tracking, then the report (a new
    revision only if something changed), and at a quarter's end the
    systemic-issue analysis. None: this event's report was issued already."""
    months.require_month_ended(month, now, ctx.zone)
    cut(ctx, month, now)
    track_bottom_ten(ctx, month, now)
    result = issue_report(ctx, month, actor_id, trigger, now, envelope)
    quarter = months.quarter_of_month(month)
    if quarter is not None and trigger == DUE_HANDLER:
        issue_analysis(ctx, quarter, None, now)
    return result


def cut(ctx: Penalty, month: str, now: datetime) -> None:
    """Steps never done: charge the blocks accrued by the month's end."""
    _, end = months.month_bounds(month, ctx.zone)
    with ctx.db.transaction() as conn:
        report_store.lock(conn, f"penalty:cut:{month}")
        for miss in line_store.open_misses_before(conn, end):
            already = line_store.blocks_charged(conn, miss.timer_id, miss.rule)
            charges = ledger.cut_charges(miss, month, ctx.rulebook, ctx.zone, already)
            record(ctx, conn, charges, now)


def track_bottom_ten(ctx: Penalty, month: str, now: datetime) -> None:
    """Art. 16: record the month's bottom ten; a specialist there three
    months running gets a sanction case."""
    start, end = months.month_bounds(month, ctx.zone)
    rule = ctx.rulebook.at(months.last_instant(end), ctx.zone).sanctions["bottom_ten"]
    size, running = int(rule.settings["size"]), int(rule.settings["months_running"])
    history_months = [month]
    while len(history_months) < BOTTOM_TEN_HISTORY_MONTHS:
        history_months.insert(0, months.previous_month(history_months[0]))
    with ctx.db.transaction() as conn:
        report_store.lock(conn, f"penalty:bottom_ten:{month}")
        inputs = readmodel.ranking_inputs(conn, start, end)
        ranking = rankings.specialist_ranking(
            inputs["ratings"], readmodel.all_people(conn), start, end, size,
            int(rule.settings.get("min_ranked", size + 1)))
        bottom = [e for e in ranking["entries"] if e["bottom_ten"]]
        report_store.replace_bottom_ten(conn, month, bottom)
        history = report_store.bottom_ten_months(conn, [e["person_id"] for e in bottom],
                                                 history_months)
        for entry in bottom:
            ranks = history.get(entry["person_id"], {})
            due, _ = sanctions.bottom_ten_streak(set(ranks), history_months, running)
            if not due:
                continue
            counted = history_months[-running:]
            case = sanctions.bottom_ten_case(
                entry["person_id"], counted, {m: ranks[m] for m in counted},
                ctx.rulebook, ctx.zone, now, new_id)
            open_cases(ctx, conn, [case], now)


def issue_report(ctx: Penalty, month: str, actor_id: str | None, trigger: str, now: datetime,
                 envelope: Mapping[str, Any] | None = None) -> Json | None:
    """A new revision when the month's lines changed since the last one: its
    files uploaded to media, announced, HR and Finance notified."""
    with ctx.db.transaction() as conn:
        report_store.lock(conn, f"penalty:report:{month}")
        if envelope is not None and not first_delivery(
                conn, SCHEMA, DUE_HANDLER, envelope["event_id"], envelope["type"]):
            return None
        report = report_mod.build(month, line_store.report_rows(conn, month))
        snapshot = report.snapshot()
        previous = report_store.latest_report(conn, month)
        if previous is not None and previous["snapshot"] == snapshot:
            return views.report_view(previous, ctx.zone, changed=False)
        csv_bytes, xlsx_bytes = report_mod.render_csv(report), report_mod.render_xlsx(report)
        revision = previous["revision"] + 1 if previous else 1
        csv_media = _upload(ctx, csv_bytes, f"deductions-{month}-r{revision}.csv", actor_id)
        xlsx_media = _upload(ctx, xlsx_bytes, f"deductions-{month}-r{revision}.xlsx", actor_id)
        row = {"month": month, "revision": revision, "issued_at": now, "issued_by": actor_id,
               "trigger": trigger, "snapshot": snapshot, "totals": report.totals(),
               "line_count": report.line_count, "csv_media_id": csv_media["id"],
               "xlsx_media_id": xlsx_media["id"],
               "csv_sha256": hashlib.sha256(csv_bytes).hexdigest(),
               "xlsx_sha256": hashlib.sha256(xlsx_bytes).hexdigest(),
               "changes": report_mod.diff(previous["snapshot"], snapshot) if previous else None}
        report_store.insert_report(conn, row)
        ctx.outbox.add(conn, "monthly_report.issued", views.issued_event(row), occurred_at=now)
        recipients = readmodel.people_with_roles(conn, REPORT_RECIPIENT_ROLES)
        ctx.outbox.add(conn, "notification.requested",
                       views.report_notification(row, recipients), occurred_at=now)
    return views.report_view(row, ctx.zone, changed=True)


def _upload(ctx: Penalty, content: bytes, filename: str, actor_id: str | None) -> Json:
    """The file into media (Unavailable when media does not answer: the report
    is not issued, the transaction rolls back)."""
    stored: Json = ctx.media().upload(base64.b64encode(content).decode("ascii"), filename,
                                      "report", uploaded_by=actor_id, step="monthly_report")
    return stored


def read_report(ctx: Penalty, actor: Actor, month: str, query: Any) -> Json:
    """The latest (or a given) revision: JSON, or the CSV / XLSX file
    rebuilt from it (its SHA-256 is checked against the one issued)."""
    require(actor, REPORT_READERS, "查看月度扣罚报表")
    months.parse_month(month)
    wanted = load_input(ReportQuery, query or {})
    months.require_month_ended(month, ctx.now(), ctx.zone)
    with ctx.db.connection() as conn:
        row = report_store.latest_report(conn, month, wanted["revision"])
    if row is None:
        raise NotFound(f"{month} 月度扣罚报表尚未出具 (not issued yet: POST "
                       f"/api/reports/monthly/{month}/issue)")
    if wanted["format"] == "json":
        return views.report_view(row, ctx.zone, changed=False)
    report = views.report_from_snapshot(row["snapshot"])
    if wanted["format"] == "csv":
        content, digest, kind = report_mod.render_csv(report), row["csv_sha256"], "text/csv"
    else:
        content, digest, kind = report_mod.render_xlsx(report), row["xlsx_sha256"], XLSX
    if hashlib.sha256(content).hexdigest() != digest:
        log.error("monthly report %s r%s no longer renders to its issued bytes", month,
                  row["revision"])
    return {"filename": f"deductions-{month}-r{row['revision']}.{wanted['format']}",
            "content_type": kind, "sha256": hashlib.sha256(content).hexdigest(),
            "content_b64": base64.b64encode(content).decode("ascii")}
