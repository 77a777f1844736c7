"""The complaint list's gateway side (SPEC §10, issue 14): its query forms,
the `overdue` filter, and the CSV / XLSX export of the filtered list.

Intake finds complaints (`list_complaints`, `export_complaints`) and says who
may see which. `overdue=true` is sla's knowledge, not intake's (the
completion deadline is the earlier of the order's time and the time agreed
at the visit, and only sla has both): the gateway asks sla about every
complaint in work that matches the other filters (at most OVERDUE_SCAN_MAX
of them) in one call to sla's `list_overdue`, as the overdue board does, and
hands intake the overdue ones' ids. The files are written here from
intake's rows: zh-CN headers, names beside the ids, times in the group's
zone, and no cell that a spreadsheet would run as a formula.
"""
import csv
import io
from datetime import datetime

from marshmallow import ValidationError, validates
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from shared.contracts.intake import forms as intake_forms
from shared.contracts.intake.vocabulary import ESCALATION_LEVELS, ORDER_SIGNED
from shared.contracts.sla import OVERDUE_MAX_LIMIT, SlaClient
from shared.errors import CCRMError, InvalidInput, Unavailable
from shared.validation import choice

OVERDUE_SCAN_MAX = 1000       # complaints in work asked of sla for one overdue list
OVERDUE_PAGE = 100
EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_MAX_ROWS = 10_000      # intake's bound (services.intake.finding.EXPORT_MAX_ROWS)
GATEWAY_ONLY = ("overdue", "format")


class ComplaintQuery(intake_forms.ListFilters):
    """The list's filters (SPEC §10): q (id, customer name, phone, room; partial, any
    case), status, project_id, category, channel, department_id, handler_id, from / to
    (YYYY-MM-DD), due=today (in work, asked to be complete today), overdue=true, sort;
    limit (1-100, default 20) and offset (page and
    page_size: deprecated aliases)."""

    class Meta:
        exclude = ("ids",)

    overdue = intake_forms.flag(load_default=None, metadata={
        "description": "true: only complaints past their completion deadline (sla's count)"})

    @validates("overdue")
    def only_true(self, value, **kwargs):
        if value is False:
            raise ValidationError("只支持 overdue=true (only overdue=true is supported)")


class ComplaintExportQuery(ComplaintQuery):
    """The list's filters and `format` (csv or xlsx); paging is ignored: every row
    matching, at most 10,000 (more is refused: narrow the filters)."""
    format = choice(EXPORT_FORMATS, "格式", load_default="csv")


def intake_filters(request):
    """The query string as it came, for intake to load again (dates stay text)."""
    return {key: value for key, value in request.args.to_dict().items()
            if key not in GATEWAY_ONLY}


# -- overdue: sla's deadlines of the complaints in work --------------------------------------

def in_work_ids(intake, actor, filters):
    """Ids of the complaints in work (order signed, closure not applied) that
    match the other filters and the actor may see."""
    state = filters.get("status") or filters.get("state")
    if state not in (None, ORDER_SIGNED):
        return []
    query = {key: value for key, value in filters.items()
             if key not in ("limit", "offset", "page", "page_size", "sort", "status", "state")}
    found, offset = [], 0
    while True:
        answer = intake.list_complaints(actor, dict(
            query, state=ORDER_SIGNED, sort="id", limit=OVERDUE_PAGE, offset=offset))
        found += [item["id"] for item in answer["items"]]
        offset += OVERDUE_PAGE
        if offset >= answer["total"]:
            return found
        if offset >= OVERDUE_SCAN_MAX:
            raise InvalidInput({"overdue": [
                f"在办投诉超过 {OVERDUE_SCAN_MAX} 件，请先按项目、部门或日期缩小范围 "
                f"(more than {OVERDUE_SCAN_MAX} complaints in work: narrow the filters first)"]})


def overdue_ids(sla_proxy, timeout, candidates):
    """The candidates sla counts as overdue, in one call (sla's `list_overdue`);
    Unavailable if sla cannot say."""
    if not candidates:
        return []
    if sla_proxy is None:
        raise Unavailable("时限服务未部署，无法按超期筛选 (sla is not deployed)")
    try:
        answer = SlaClient(sla_proxy, timeout).list_overdue(
            list(candidates), limit=min(len(candidates), OVERDUE_MAX_LIMIT))
    except CCRMError as exc:
        raise Unavailable(f"时限服务未答复，无法按超期筛选 (sla did not answer: {exc.message})") \
            from None
    late = {item["complaint_id"] for item in answer.get("items") or ()}
    return [cid for cid in candidates if cid in late]


# -- the files ---------------------------------------------------------------------------

YES, NO = "是", "否"
COLUMNS = (   # (header, row -> value); times as the group's wall clock
    ("投诉编号", lambda r: r["id"]),
    ("项目", lambda r: r.get("project_name") or r["project_id"]),
    ("项目编号", lambda r: r["project_id"]),
    ("房号", lambda r: r["room"]),
    ("客户姓名", lambda r: r["customer_name"]),
    ("客户电话", lambda r: r["customer_phone"]),
    ("渠道", lambda r: r.get("channel_label") or r["channel"]),
    ("类别", lambda r: r.get("category_label") or r["category"]),
    ("状态", lambda r: r.get("state_label") or r["state"]),
    ("客户诉求", lambda r: r.get("demand")),
    ("登记人", lambda r: r.get("recorded_by_name") or r.get("recorded_by")),
    ("登记时间", lambda r: _time(r.get("recorded_at"))),
    ("要求完成时间", lambda r: _time(r.get("requested_completion_at"))),
    ("责任部门", lambda r: r.get("department_label")),
    ("责任单位", lambda r: r.get("unit_name")),
    ("责任人", lambda r: r.get("handler_name") or r.get("handler_id")),
    ("责任人编号", lambda r: r.get("handler_id")),
    ("当前经办人", lambda r: r.get("holder_name") or (r.get("holder") or {}).get("person_id")),
    ("升级", lambda r: ESCALATION_LEVELS.get(r.get("escalation_level") or "", "")),
    ("再次投诉次数", lambda r: r.get("reopen_count") or 0),
    ("待中心回访", lambda r: YES if r.get("callback_due") else NO),
    ("关闭时间", lambda r: _time(r.get("closed_at"))),
)
HEADERS = tuple(name for name, _ in COLUMNS)
WIDTHS = (18, 16, 10, 10, 10, 14, 8, 20, 14, 40, 10, 17, 17, 12, 18, 10, 14, 12, 10, 8, 8, 17)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _time(value):
    """An ISO time with its offset (intake's, in the group's zone) as wall-clock time."""
    return datetime.fromisoformat(value).replace(tzinfo=None) if value else None


def _safe(value):
    """Text a spreadsheet would run as a formula is kept as text (a leading ')."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def rows(items):
    for item in items:
        yield [_safe(get(item)) for _, get in COLUMNS]


def render_csv(items):
    """UTF-8 with a BOM (Excel opens the Chinese text right), CRLF lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows(items):
        writer.writerow(["" if v is None else (v.strftime("%Y-%m-%d %H:%M")
                                               if isinstance(v, datetime) else v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render_xlsx(items, title):
    """One sheet, bold headers, times as date cells (write-only: rows are streamed)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("投诉清单")
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[_column(index)].width = width
    bold = Font(bold=True)
    header = []
    for name in HEADERS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows(items):
        cells = []
        for value in row:
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    workbook.properties.creator = "CCRM"
    workbook.properties.title = title
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _column(index):
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(items, file_format, title):
    return render_csv(items) if file_format == "csv" else render_xlsx(items, title)
