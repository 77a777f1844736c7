"""The monthly deductions report for HR and Finance (Art. 36): per person
and per rule, with totals, as CSV and XLSX (pure).

The files are a function of the month's ledger lines only, never of the time
they are made: re-issuing an unchanged month gives the same bytes (the XLSX
has fixed document properties and zip timestamps). A re-issue after a late
line is a new revision, with a summary of what changed.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

ZERO = Decimal("0.00")
RULE_ZH = {
    "order_submit": "督办令报批超时", "order_sign": "督办令签发超时",
    "visit": "未按时上门回访", "plan": "未按要求录入处理方案",
    "progress": "未按时更新处理进展", "overdue": "投诉处理超期",
    "overdue_catchup": "超期按档补扣",
    "sanction_overdue": "超期15天以上处分", "sanction_bottom_ten": "满意度连续倒数后十名处分",
    "sanction_reception_attitude": "服务态度处分", "sanction_concealed": "瞒报漏报处分",
}
FLAG_ZH = {"person_not_in_directory": "已不在组织架构", "person_inactive": "已离职",
           "no_person": "责任人空缺", "bonus_unknown": "奖金未知待折算",
           "adjustment": "跨月调整", "needs_gm": "需总经理确认"}
HEADER = ["月份 month", "人员编号 person_id", "姓名 name", "单位 unit", "规则 rule",
          "规则说明 rule (zh)", "条款 article", "笔数 lines", "扣罚金额(元) amount CNY",
          "待折算奖金比例(%) bonus % pending", "备注 notes"]
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class RuleRow:
    rule: str
    article: str
    lines: int
    amount: Decimal
    bonus_percent_pending: Decimal
    flags: tuple[str, ...]


@dataclass(frozen=True)
class PersonRows:
    person_id: str | None
    name: str | None
    unit_name: str | None
    rules: tuple[RuleRow, ...]
    flags: tuple[str, ...]

    @property
    def lines(self) -> int:
        return sum(r.lines for r in self.rules)

    @property
    def amount(self) -> Decimal:
        return sum((r.amount for r in self.rules), ZERO)

    @property
    def bonus_percent_pending(self) -> Decimal:
        return sum((r.bonus_percent_pending for r in self.rules), ZERO)


@dataclass(frozen=True)
class MonthlyReport:
    month: str
    people: tuple[PersonRows, ...]
    threshold: Decimal | None = None    # above it a person's month needs the GM (issue 13)

    def needs_gm(self, person: PersonRows) -> bool:
        return self.threshold is not None and person.person_id is not None \
            and person.amount > self.threshold

    @property
    def line_count(self) -> int:
        return sum(p.lines for p in self.people)

    @property
    def total_amount(self) -> Decimal:
        return sum((p.amount for p in self.people), ZERO)

    @property
    def total_bonus_percent_pending(self) -> Decimal:
        return sum((p.bonus_percent_pending for p in self.people), ZERO)

    def totals(self) -> dict[str, Any]:
        by_rule: dict[str, dict[str, Any]] = {}
        for person in self.people:
            for row in person.rules:
                entry = by_rule.setdefault(row.rule, {"lines": 0, "amount": ZERO})
                entry["lines"] += row.lines
                entry["amount"] += row.amount
        return {"amount": str(self.total_amount), "lines": self.line_count,
                "people": len(self.people),
                "bonus_percent_pending": str(self.total_bonus_percent_pending),
                "by_rule": {rule: {"lines": v["lines"], "amount": str(v["amount"])}
                            for rule, v in sorted(by_rule.items())}}

    def snapshot(self) -> dict[str, Any]:
        """What a revision is compared on (JSON-able, amounts as strings)."""
        out = {"month": self.month, "line_count": self.line_count,
               "total_amount": str(self.total_amount),
               "rows": [[p.person_id, p.name, p.unit_name, r.rule, r.article, r.lines,
                         str(r.amount), str(r.bonus_percent_pending), list(r.flags)]
                        for p in self.people for r in p.rules]}
        if self.threshold is not None:
            out["threshold"] = str(self.threshold)
        return out


def build(month: str, rows: Iterable[Mapping[str, Any]],
          threshold: Decimal | None = None) -> MonthlyReport:
    """rows: the month's aggregate per person and rule (repository
    `report_rows`), any order."""
    people: dict[str | None, list[Mapping[str, Any]]] = {}
    for row in rows:
        people.setdefault(row["person_id"], []).append(row)
    out = []
    for person_id in sorted(people, key=lambda p: (p is None, p or "")):
        group = sorted(people[person_id], key=lambda r: r["rule"])
        rules = tuple(RuleRow(r["rule"], r["article"], int(r["lines"]),
                              Decimal(r["amount"] or 0).quantize(ZERO),
                              Decimal(r["bonus_percent_pending"] or 0).quantize(ZERO),
                              tuple(sorted(r["flags"] or ())))
                      for r in group)
        flags = tuple(sorted({f for r in rules for f in r.flags}))
        out.append(PersonRows(person_id, max(r["person_name"] or "" for r in group) or None,
                              max(r["unit_name"] or "" for r in group) or None, rules, flags))
    return MonthlyReport(month, tuple(out), threshold)


def _notes(flags: Iterable[str]) -> str:
    return "；".join(FLAG_ZH.get(f, f) for f in flags)


def table(report: MonthlyReport) -> list[list[Any]]:
    """The report as rows of cells: per person and rule, a total per
    person, the grand total last."""
    rows: list[list[Any]] = []
    for person in report.people:
        for r in person.rules:
            rows.append([report.month, person.person_id or "", person.name or "",
                         person.unit_name or "", r.rule, RULE_ZH.get(r.rule, r.rule), r.article,
                         r.lines, r.amount, r.bonus_percent_pending or None, _notes(r.flags)])
        notes = _notes(person.flags)
        if report.needs_gm(person):
            notes = "；".join(n for n in (FLAG_ZH["needs_gm"], notes) if n)
        rows.append([report.month, person.person_id or "", person.name or "",
                     person.unit_name or "", "小计 subtotal", "", "", person.lines, person.amount,
                     person.bonus_percent_pending or None, notes])
    rows.append([report.month, "", "", "", "总计 total", f"{len(report.people)} 人", "",
                 report.line_count, report.total_amount,
                 report.total_bonus_percent_pending or None, ""])
    return rows


def render_csv(report: MonthlyReport) -> bytes:
    """UTF-8 with a BOM (Excel opens the Chinese text right), CRLF lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in table(report):
        writer.writerow(["" if v is None else (f"{v:.2f}" if isinstance(v, Decimal) else v)
                         for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render_xlsx(report: MonthlyReport) -> bytes:
    """openpyxl's write-only mode: rows are streamed, not held as cell objects."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("扣罚明细")
    for column, width in zip("ABCDEFGHIJK", (9, 16, 10, 18, 16, 20, 9, 7, 14, 14, 20),
                             strict=True):
        sheet.column_dimensions[column].width = width
    sheet.append([_cell(sheet, v, bold=True) for v in HEADER])
    for row in table(report):
        sheet.append([_cell(sheet, v) for v in row])
    summary = workbook.create_sheet("按规则汇总")
    summary.append([_cell(summary, v, bold=True)
                    for v in ("规则 rule", "规则说明", "笔数 lines", "扣罚金额(元) amount CNY")])
    for rule, entry in report.totals()["by_rule"].items():
        summary.append([rule, RULE_ZH.get(rule, rule), entry["lines"],
                        _cell(summary, Decimal(entry["amount"]))])
    # Fixed properties: the file depends on the lines, not on when it was made.
    stamp = datetime(int(report.month[:4]), int(report.month[5:]), 1)
    props = workbook.properties
    props.creator = props.lastModifiedBy = "CCRM"
    props.title = f"月度扣罚报表 {report.month}"
    props.created = props.modified = stamp
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    return _fixed_zip(raw.getvalue())


_BOLD = Font(bold=True)


def _cell(sheet: Any, value: Any, bold: bool = False) -> Any:
    if not bold and not isinstance(value, Decimal):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if bold:
        cell.font = _BOLD
    if isinstance(value, Decimal):
        cell.number_format = "#,##0.00"
    return cell


def _fixed_zip(content: bytes) -> bytes:
    """The same archive with fixed entry timestamps and attributes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            fixed.create_system = 0
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def diff(previous: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """What changed between two snapshots of a month (a late line arrived,
    an appeal was upheld in the month...)."""
    def index(snapshot: Mapping[str, Any]) -> dict[tuple[str | None, str], list[Any]]:
        return {(row[0], row[3]): row for row in snapshot["rows"]}

    before, after = index(previous), index(current)
    changes: list[dict[str, Any]] = []
    for key in sorted(set(before) | set(after), key=lambda k: (k[0] or "", k[1])):
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and old[5:8] == new[5:8]:
            continue
        changes.append({"person_id": key[0], "rule": key[1],
                        "lines_before": old[5] if old else 0, "lines_after": new[5] if new else 0,
                        "amount_before": old[6] if old else "0.00",
                        "amount_after": new[6] if new else "0.00"})
    added = current["line_count"] - previous["line_count"]
    delta = Decimal(current["total_amount"]) - Decimal(previous["total_amount"])
    people = sorted({c["person_id"] or "-" for c in changes})
    summary = (f"较上一版新增 {added} 笔扣罚，合计金额变化 {delta:+.2f} 元，涉及 {len(people)} 人"
               f"（{'、'.join(people)}） (added {added} lines, total {delta:+.2f} CNY, "
               f"{len(people)} people)")
    return {"lines_added": added, "amount_change": f"{delta:.2f}",
            "total_before": previous["total_amount"], "total_after": current["total_amount"],
            "changes": changes, "summary": summary}
