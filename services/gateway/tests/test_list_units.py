"""Unit tests of the lists' gateway side: notifications paged by limit /
offset over sla's page-numbered RPC (a fake subclassing the real client),
and the export's cells (no formula, times as the group's wall clock)."""
import csv
import io

from openpyxl import load_workbook

from services.gateway import complaint_list
from services.gateway.routes.notifications import NotificationQuery, notifications_page
from shared.contracts.sla import SlaClient
from shared.validation import load_input

NOTES = [{"id": str(n)} for n in range(1, 8)]      # newest first, as sla answers


class FakeSla(SlaClient):
    """sla's list_notifications by page and page_size, over seven rows."""

    def __init__(self):
        super().__init__(proxy=None)
        self.asked = []

    def list_notifications(self, actor, filters=None):
        self.asked.append(dict(filters))
        page, size = filters["page"], filters["page_size"]
        return {"items": NOTES[(page - 1) * size:page * size], "total": len(NOTES),
                "page": page, "page_size": size}


def page(**given):
    sla = FakeSla()
    query = load_input(NotificationQuery, {k: str(v) for k, v in given.items()})
    answer = notifications_page(sla, {"person_id": "admin-1"}, query)
    return answer, sla.asked


def test_an_aligned_offset_is_one_page_of_sla():
    answer, asked = page(limit=3, offset=3, status="sent")
    assert [n["id"] for n in answer["items"]] == ["4", "5", "6"]
    assert (answer["total"], answer["limit"], answer["offset"]) == (7, 3, 3)
    assert asked == [{"status": "sent", "page": 2, "page_size": 3}]


def test_an_unaligned_offset_is_cut_from_the_two_pages_it_straddles():
    answer, asked = page(limit=3, offset=2)
    assert [n["id"] for n in answer["items"]] == ["3", "4", "5"] and len(asked) == 2
    tail, _ = page(limit=3, offset=5)
    assert [n["id"] for n in tail["items"]] == ["6", "7"]


def test_the_old_page_names_still_work_with_their_old_bounds():
    answer, asked = page(page=2, page_size=2)
    assert [n["id"] for n in answer["items"]] == ["3", "4"]
    assert (answer["page"], answer["page_size"]) == (2, 2)
    assert load_input(NotificationQuery, {})["limit"] == 50           # as before
    assert load_input(NotificationQuery, {"page_size": "200"})["limit"] == 200


ROW = {"id": "C-GZ-2026-000001", "project_id": "GZ-P01", "project_name": "御景半岛",
       "room": "1-1-0101", "customer_name": "=HYPERLINK(\"http://x\")",
       "customer_phone": "13812345678", "channel": "visit", "channel_label": "来访",
       "category": "leasing", "category_label": "租赁管理类",
       "state": "closed", "state_label": "已关闭", "demand": "+1 漏水", "recorded_by": "p01-spec-1",
       "recorded_by_name": "李思琪", "recorded_at": "2026-11-27T10:42:00+08:00",
       "requested_completion_at": "2026-12-01T18:00:00+08:00", "department_label": "物业公司",
       "handler_id": "pcgz-head", "handler_name": "温嘉欣", "escalation_level": "major",
       "reopen_count": 1, "callback_due": True, "closed_at": None, "holder": None}


def test_the_export_cells_are_never_formulas_and_times_are_wall_clock():
    text = complaint_list.render_csv([ROW]).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    cells = dict(zip(header, row, strict=True))
    assert cells["客户姓名"] == "'=HYPERLINK(\"http://x\")" and cells["客户诉求"] == "'+1 漏水"
    assert cells["登记时间"] == "2026-11-27 10:42" and cells["关闭时间"] == ""
    assert (cells["升级"], cells["待中心回访"], cells["责任人"]) == ("重大投诉", "是", "温嘉欣")
    sheet = load_workbook(io.BytesIO(complaint_list.render_xlsx([ROW], "t"))).active
    header, row = list(sheet.iter_rows(values_only=True))
    cells = dict(zip(header, row, strict=True))
    assert cells["客户姓名"].startswith("'=") and sheet["E2"].data_type == "s"
    assert cells["登记时间"].isoformat() == "2026-11-27T10:42:00"
    assert len(header) == len(complaint_list.WIDTHS)
