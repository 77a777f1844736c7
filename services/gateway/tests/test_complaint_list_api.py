"""Finding complaints through the gateway (SPEC §10, issue 14): q, filters,
sort, limit / offset with the total, field-by-field 400s, who sees what,
names beside the ids, the CSV / XLSX export opened as a spreadsheet would,
and the one paging convention of the other lists. Gateway, intake, dispatch
and media on the real broker, database and S3 server (sla is not running:
overdue=true says so)."""
import csv
import io

import pytest
from openpyxl import load_workbook

from services.gateway.tests.test_dispatch_api import (
    error,
    ok,
    running_suite,  # noqa: F401 - the `api` fixture
    signed_order,
)
from services.intake.tests.helpers import form

pytestmark = pytest.mark.integration


@pytest.fixture
def complaints(api):
    """A phone complaint, a letter (with a name a spreadsheet would run as a
    formula), and a visit whose order was signed and routed to the property
    company's head."""
    phoned = ok(api["spec"].post("/api/complaints", form()), 201)["id"]
    written = ok(api["spec"].post("/api/complaints", form(
        customer_name="=Li_Lei 100%", customer_phone="020-12345678", room="5-1-0502",
        channel="letter", category="leasing")), 201)["id"]
    routed, _ = signed_order(api, customer_name="赵先生", customer_phone="13700002222",
                             room="8-8-0808")
    return phoned, written, routed


def ids(response):
    return [c["id"] for c in ok(response)["items"]]


def test_the_gm_finds_complaints_by_text_filters_and_sort(api, complaints):
    phoned, written, routed = complaints
    gm = api["gm"]
    assert ids(gm.get("/api/complaints", params={"q": "138 1234 5678"})) == [phoned]
    assert ids(gm.get("/api/complaints", params={"q": "LI_LEI"})) == [written]
    assert ids(gm.get("/api/complaints", params={"q": "%"})) == [written]
    assert ids(gm.get("/api/complaints", params={"q": "0808"})) == [routed]
    assert ids(gm.get("/api/complaints", params={"q": "x' OR '1'='1"})) == []
    assert ids(gm.get("/api/complaints", params={"status": "order_signed"})) == [routed]
    assert ids(gm.get("/api/complaints", params={"state": "order_signed"})) == [routed]
    assert ids(gm.get("/api/complaints", params={"channel": "letter"})) == [written]
    assert ids(gm.get("/api/complaints", params={"category": "leasing"})) == [written]
    assert ids(gm.get("/api/complaints", params={"department_id": "property"})) == [routed]
    assert ids(gm.get("/api/complaints", params={"handler_id": "pcgz-head"})) == [routed]
    assert ids(gm.get("/api/complaints", params={"sort": "id"})) == [phoned, written, routed]
    assert ids(gm.get("/api/complaints", params={"sort": "-id"})) == [routed, written, phoned]
    assert ids(gm.get("/api/complaints", params={"from": "2026-11-27", "to": "2026-11-27",
                                                 "sort": "id"})) == [phoned, written, routed]
    assert ids(gm.get("/api/complaints", params={"from": "2026-11-28"})) == []


def test_rows_carry_names_beside_the_ids(api, complaints):
    row = next(c for c in ok(api["gm"].get("/api/complaints"))["items"]
               if c["id"] == complaints[2])
    assert row["handler_id"] == "pcgz-head" and row["handler_name"]
    assert (row["department"], row["department_label"]) == ("property", "物业公司")
    assert row["project_name"] and row["recorded_by_name"] and row["state_label"] == "督办单已签发"
    assert row["channel_label"] == "来访" and row["category_label"] == "维保修类"


def test_pages_are_limit_and_offset_with_the_total(api, complaints):
    gm = api["gm"]
    page = ok(gm.get("/api/complaints", params={"limit": 2, "sort": "id"}))
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 0, 2)
    rest = ok(gm.get("/api/complaints", params={"limit": 2, "offset": 2, "sort": "id"}))
    assert [c["id"] for c in page["items"] + rest["items"]] == list(complaints)
    old = ok(gm.get("/api/complaints", params={"page": 2, "page_size": 2, "sort": "id"}))
    assert (old["page"], old["page_size"], old["offset"], old["total"]) == (2, 2, 2, 3)
    assert ok(gm.get("/api/complaints", params={"offset": 10}))["items"] == []


@pytest.mark.parametrize("params, field", [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": "ten"}, "limit"),
    ({"offset": -1}, "offset"), ({"limit": 5, "page_size": 5}, "page_size"),
    ({"page_size": 1000}, "page_size"), ({"from": "2026-11-28", "to": "2026-11-27"}, "to"),
    ({"from": "11/27/2026"}, "from"), ({"status": "lost"}, "status"), ({"sort": "name"}, "sort"),
    ({"channel": "fax"}, "channel"), ({"department_id": "it"}, "department_id"),
    ({"category": "x"}, "category"), ({"overdue": "false"}, "overdue"),
    ({"overdue": "maybe"}, "overdue"), ({"due": "tomorrow"}, "due"), ({"q": " "}, "q"),
    ({"ids": "C-1"}, "ids"),
    ({"bogus": 1}, "bogus"),
])
def test_each_filter_is_checked_on_its_own(api, params, field):
    body = error(api["gm"].get("/api/complaints", params=params), 400, "invalid_input")
    assert list(body["fields"]) == [field]


def test_each_person_finds_what_they_may_see(api, complaints):
    phoned, written, routed = complaints
    assert len(ids(api["spec"].get("/api/complaints"))) == 3            # the desk's project
    assert ids(api["head"].get("/api/complaints")) == [routed]          # routed to him
    assert ids(api["head"].get("/api/complaints", params={"q": "王小明"})) == []
    assert ids(api["outsider"].get("/api/complaints")) == []
    error(api["outsider"].get("/api/complaints", params={"project_id": "GZ-P01"}), 403)
    error(api["public"].get("/api/complaints"), 401)
    error(api["public"].get("/api/complaints/export"), 401)


def test_overdue_needs_sla_and_asks_it_only_of_complaints_in_work(api, complaints):
    # nothing in work matches: no need to ask sla
    assert ok(api["gm"].get("/api/complaints", params={"overdue": "true",
                                                      "status": "order_drafted"}))["total"] == 0
    assert ok(api["gm"].get("/api/complaints", params={"overdue": "true",
                                                      "channel": "letter"}))["total"] == 0
    # the routed one is in work and sla does not answer here: 503, not a wrong empty list
    error(api["gm"].get("/api/complaints", params={"overdue": "true"}), 503)


def test_due_today_lists_what_the_gms_watch_counts_and_exports_the_same(api, complaints):
    """The routed complaint of the fixture is asked for in 7 days; this one
    tonight (the shared clock is Nov 27, 10:10 in the group's zone)."""
    tonight, _ = signed_order(api, customer_name="钱女士",
                              requested_completion_at="2026-11-27T22:00:00+08:00")
    page = ok(api["gm"].get("/api/complaints", params={"due": "today", "limit": 1}))
    assert page["total"] == 1 and [c["id"] for c in page["items"]] == [tonight]
    assert ids(api["head"].get("/api/complaints", params={"due": "today"})) == [tonight]
    assert ids(api["outsider"].get("/api/complaints", params={"due": "today"})) == []
    exported = api["gm"].get("/api/complaints/export", params={"due": "today"})
    assert exported.status_code == 200 and "钱女士" in exported.content.decode("utf-8-sig")
    assert "赵先生" not in exported.content.decode("utf-8-sig")


def test_the_export_opens_as_csv_and_xlsx_with_the_filtered_rows(api, complaints):
    phoned, written, routed = complaints
    answer = api["gm"].get("/api/complaints/export", params={"format": "csv", "sort": "id",
                                                             "limit": 1})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in answer.headers["Content-Disposition"]
    assert answer.headers["X-Total-Count"] == "3" and answer.headers["X-Export-Max-Rows"]
    assert answer.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert table[0][:6] == ["投诉编号", "项目", "项目编号", "房号", "客户姓名", "客户电话"]
    assert [r[0] for r in table[1:]] == [phoned, written, routed]     # paging ignored
    by_id = {r[0]: dict(zip(table[0], r, strict=True)) for r in table[1:]}
    assert by_id[written]["客户姓名"] == "'=Li_Lei 100%"             # never a formula
    assert by_id[routed]["责任部门"] == "物业公司" and by_id[routed]["责任人编号"] == "pcgz-head"
    assert by_id[routed]["责任人"] not in ("", "pcgz-head")          # the name
    assert by_id[phoned]["状态"] == "督办单待提交" and by_id[phoned]["渠道"] == "来电"

    xlsx = api["gm"].get("/api/complaints/export", params={"format": "xlsx", "q": "13700002222"})
    assert xlsx.status_code == 200 and xlsx.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "投诉编号" and [r[0] for r in rows[1:]] == [routed]
    assert rows[1][5] == "13700002222" and rows[1][11].year == 2026     # a date cell

    # the export follows the same access rules and checks the same filters
    head = api["head"].get("/api/complaints/export", params={"format": "csv"})
    assert [r[0] for r in list(csv.reader(io.StringIO(head.content.decode("utf-8-sig"))))[1:]] \
        == [routed]
    assert "format" in error(api["gm"].get("/api/complaints/export",
                                           params={"format": "pdf"}), 400)["fields"]
    assert "to" in error(api["gm"].get("/api/complaints/export", params={
        "from": "2026-12-01", "to": "2026-11-01"}), 400)["fields"]


def test_every_list_answers_items_total_limit_and_offset(api, complaints):
    projects = ok(api["gm"].get("/api/projects"))
    assert {"items", "total", "limit", "offset"} <= set(projects)
    assert any(p["id"] == "GZ-P01" and p["name"] for p in projects["items"])
    errors = ok(api["admin"].get("/api/dispatch/routing-errors", params={"limit": 5}))
    assert (errors["items"], errors["total"], errors["limit"], errors["offset"]) == ([], 0, 5, 0)
    assert "limit" in error(api["admin"].get("/api/dispatch/routing-errors",
                                             params={"limit": 1000}), 400)["fields"]
    spec = ok(api["public"].get("/api/openapi.json"))
    for path in ("/api/complaints", "/api/notifications", "/api/deductions", "/api/appeals",
                 "/api/sanction-cases", "/api/dispatch/routing-errors", "/api/projects",
                 "/api/reports/monthly/{month}/revisions"):
        names = {p["name"] for p in spec["paths"][path]["get"]["parameters"]
                 if p["in"] == "query"}
        assert {"limit", "offset"} <= names, path
    assert "/api/complaints/export" in spec["paths"]
