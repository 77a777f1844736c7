"""The monthly close (service layer, Art. 16, 36, 38): the month's cut, the
bottom-ten tracking, the report for HR and Finance with its files stored in
media, the month's frozen rankings, and at a quarter's end the
systemic-issue analysis.

Every fine reaches HR, once (issue 13):
- sla's `monthly_report.due` is recorded as a waiting close; the close runs
  only when sla's `timers.fired_through` mark has reached the month's end
  (every timer due in the month has fired), from the event or, when the mark
  arrives later, from the service's timer (`close_waiting`);
- each revision records the ledger lines it first carries
  (`penalty.report_lines`), so the latest revision of a month carries every
  line of it; a line that arrives for a reported month issues a new revision
  at once (`revise_late`, on the service's timer), listing the lines added,
  with HR and Finance notified.

Every step is idempotent and runs in its own transaction under a lock of the
month; a crash between steps redoes only what is missing.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.penalty import (
    assessment,
    ledger,
    months,
    rankings,
    readmodel,
    reviewing,
    sanctions,
    views,
)
from services.penalty import report as report_mod
from services.penalty import review as review_mod
from services.penalty.access import REPORT_ISSUERS, REPORT_READERS, Actor, require
from services.penalty.charging import open_cases, record
from services.penalty.context import Penalty, new_id
from services.penalty.incoming import FiredThroughIn, MonthlyReportDueIn, load_event_data
from services.penalty.quarterly import issue_analysis
from services.penalty.repository import closes as close_store
from services.penalty.repository import lines as line_store
from services.penalty.repository import reports as report_store
from shared import roles
from shared.contracts.penalty.forms import ReportQuery
from shared.errors import Conflict, NotFound
from shared.validation import load_input

log = logging.getLogger(__name__)

DUE_HANDLER = "monthly_report.due"
LATE_LINE = "late_line"
BOTTOM_TEN_HISTORY_MONTHS = 24
REPORT_RECIPIENT_ROLES = (roles.HR, roles.FINANCE)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Json = dict[str, Any]


# -- sla's mark and the waiting closes -------------------------------------------------------

def apply_fired_through(ctx: Penalty, conn: Any, envelope: Mapping[str, Any],
                        now: datetime) -> None:
    data = load_event_data(FiredThroughIn, envelope["data"])
    close_store.record_fired_through(conn, data["fired_through"], now)


def apply_report_due(ctx: Penalty, conn: Any, envelope: Mapping[str, Any],
                     now: datetime) -> None:
    """sla's `monthly_report.due`: the month waits for its close."""
    data = load_event_data(MonthlyReportDueIn, envelope["data"])
    close_store.request_close(conn, data["month"], data["due_at"], now, envelope["event_id"])


def behind_mark(conn: Any, month: str, ctx: Penalty) -> tuple[bool, datetime | None]:
    """Whether sla has fired every timer due before the month's end."""
    _, end = months.month_bounds(month, ctx.zone)
    mark = close_store.fired_through(conn)
    return mark is not None and mark >= end, mark


def close_waiting(ctx: Penalty) -> list[str]:
    """Close every waiting month the mark has passed, oldest first (a month
    whose close fails, e.g. media down, is tried again next time)."""
    closed = []
    now = ctx.now()
    with ctx.db.connection() as conn:
        waiting = close_store.waiting_closes(conn)
        ready = [m for m in waiting if behind_mark(conn, m, ctx)[0]
                 and months.month_bounds(m, ctx.zone)[1] <= now]
    for month in ready:
        now = ctx.now()
        monthly_close(ctx, month, None, DUE_HANDLER, now)
        with ctx.db.transaction() as conn:
            close_store.mark_closed(conn, month, now)
        closed.append(month)
    return closed


def revise_late(ctx: Penalty) -> list[Json]:
    """A new revision of each reported month a line arrived for since."""
    with ctx.db.connection() as conn:
        due = close_store.months_to_revise(conn)
    out = []
    for month in due:
        issued = issue_report(ctx, month, None, LATE_LINE, ctx.now())
        if issued is not None and issued["changed"]:
            out.append(issued)
    return out


def issue_on_demand(ctx: Penalty, actor: Actor, month: str) -> Json | None:
    require(actor, REPORT_ISSUERS, "出具月度扣罚报表")
    months.parse_month(month)
    now = ctx.now()
    months.require_month_ended(month, now, ctx.zone)
    with ctx.db.connection() as conn:
        ready, mark = behind_mark(conn, month, ctx)
    if not ready:
        shown = mark.astimezone(ctx.zone).isoformat() if mark else "尚无 (none yet)"
        raise Conflict(f"sla 尚未触发完 {month} 月到期的全部计时器（已处理至 {shown}），"
                       f"报表将在其完成后自动出具 (sla has not yet fired every timer due in "
                       f"{month}; the report is issued by itself once it has)")
    return monthly_close(ctx, month, actor.person_id, "on_demand", now)


def monthly_close(ctx: Penalty, month: str, actor_id: str | None, trigger: str,
                  now: datetime) -> Json | None:
    """The month's cut, the bottom-ten tracking, then the report (a new
    revision only if lines arrived), the frozen rankings (Art. 38), and at a
    quarter's end the systemic-issue analysis."""
    months.require_month_ended(month, now, ctx.zone)
    cut(ctx, month, now)
    track_bottom_ten(ctx, month, now)
    result = issue_report(ctx, month, actor_id, trigger, now)
    assessment.publish_rankings(ctx, month, now)
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


def issue_report(ctx: Penalty, month: str, actor_id: str | None, trigger: str,
                 now: datetime) -> Json:
    """A new revision when lines of the month arrived that no revision
    carries yet (the first revision always): its files uploaded to media,
    announced, HR and Finance notified (and the GM when someone's month
    needs the GM's confirmation)."""
    limit = review_mod.threshold(ctx.config)
    with ctx.db.transaction() as conn:
        report_store.lock(conn, f"penalty:report:{month}")
        previous = report_store.latest_report(conn, month)
        added = close_store.unreported_line_ids(conn, month)
        if previous is not None and not added:
            return reviewing.report_answer(ctx, conn, previous, changed=False)
        report = report_mod.build(month, line_store.report_rows(conn, month, added), limit)
        snapshot = report.snapshot()
        csv_bytes, xlsx_bytes = report_mod.render_csv(report), report_mod.render_xlsx(report)
        revision = previous["revision"] + 1 if previous else 1
        csv_media = _upload(ctx, csv_bytes, f"deductions-{month}-r{revision}.csv", actor_id)
        xlsx_media = _upload(ctx, xlsx_bytes, f"deductions-{month}-r{revision}.xlsx", actor_id)
        changes = None
        if previous:
            changes = dict(report_mod.diff(previous["snapshot"], snapshot),
                           added_lines=_brief(close_store.lines_brief(conn, added), ctx))
        row = {"month": month, "revision": revision, "issued_at": now, "issued_by": actor_id,
               "trigger": trigger, "snapshot": snapshot, "totals": report.totals(),
               "line_count": report.line_count, "csv_media_id": csv_media["id"],
               "xlsx_media_id": xlsx_media["id"],
               "csv_sha256": hashlib.sha256(csv_bytes).hexdigest(),
               "xlsx_sha256": hashlib.sha256(xlsx_bytes).hexdigest(), "changes": changes}
        report_store.insert_report(conn, row)
        close_store.carry_lines(conn, month, revision, added)
        answer = reviewing.report_answer(ctx, conn, row, changed=True)
        flagged = [p["person_id"] for p in answer["review"]["people"]]
        ctx.outbox.add(conn, "monthly_report.issued",
                       dict(views.issued_event(row), needs_gm_confirmation=flagged),
                       occurred_at=now)
        recipients = readmodel.people_with_roles(conn, REPORT_RECIPIENT_ROLES)
        ctx.outbox.add(conn, "notification.requested",
                       views.report_notification(row, recipients), occurred_at=now)
        pending = [p for p in answer["review"]["people"] if p["status"] == review_mod.PENDING]
        if pending:
            ctx.outbox.add(conn, "notification.requested", reviewing.gm_notification(
                row, pending, readmodel.people_with_roles(conn, (roles.CENTRE_GM,))),
                occurred_at=now)
    return answer


def _brief(rows: list[dict[str, Any]], ctx: Penalty) -> list[Json]:
    return [dict(r, charged_at=r["charged_at"].astimezone(ctx.zone).isoformat()) for r in rows]


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
            return reviewing.report_answer(ctx, conn, row, changed=False)
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


def list_revisions(ctx: Penalty, actor: Actor, month: str) -> list[Json]:
    """Every revision of the month, oldest first: when, why, totals, what changed."""
    require(actor, REPORT_READERS, "查看月度扣罚报表")
    months.parse_month(month)
    with ctx.db.connection() as conn:
        rows = close_store.list_revisions(conn, month)
    if not rows:
        raise NotFound(f"{month} 月度扣罚报表尚未出具 (not issued yet)")
    return [{"month": r["month"], "revision": r["revision"],
             "issued_at": r["issued_at"].astimezone(ctx.zone).isoformat(),
             "issued_by": r["issued_by"], "trigger": r["trigger"], "totals": r["totals"],
             "line_count": r["line_count"],
             "lines_added": (r["changes"] or {}).get("lines_added", r["line_count"]),
             "summary": (r["changes"] or {}).get("summary")} for r in rows]
