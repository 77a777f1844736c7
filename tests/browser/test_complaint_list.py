"""Finding complaints in real headless Chromium (issue 14): the GM finds a
complaint by the customer's phone, filters the overdue ones (sla's count
after the simulation clock passes the completion deadline), the search is
in the URL (the back button returns to it), opens the complaint from its
row, and exports the filtered list: the CSV and the XLSX open with the
right rows. At 1366 px and on a 375 px phone."""
import csv
import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from browser_steps import eventually, no_sideways_scroll, photo_png
from openpyxl import load_workbook
from playwright.sync_api import expect

pytestmark = pytest.mark.integration


def record(suite, phone, room, category="maintenance_repair", days=1, sign=True):
    api = suite.api
    now = suite.clock.now()
    body = {"project_id": "GZ-P01", "room": room, "customer_name": "钱女士",
            "customer_phone": phone, "channel": "phone", "demand": f"{room} 的问题",
            "category": category,
            "requested_completion_at": (now + timedelta(days=days)).isoformat(),
            "contact_ended_at": (now - timedelta(minutes=3)).isoformat()}
    if sign:
        body["channel"] = "visit"
        body["customer_signature_media_id"] = api["spec"].call(
            "POST", "/api/media", data={"kind": "signature"},
            files={"file": ("s.png", photo_png(32, 24), "image/png")}).json()["id"]
    cid = api["spec"].post("/api/complaints", body)["id"]
    if sign:
        api["spec"].post(f"/api/complaints/{cid}/order/submit")
        api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
        api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"})
        eventually(lambda: api["staff"].get(f"/api/complaints/{cid}")["handler_id"])
    return cid


def query_of(page):
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def rows_of(page):
    return page.locator("main table tbody tr")


def test_the_gm_finds_filters_and_exports_complaints(suite, open_browser):
    late = record(suite, "13700002222", "1-1-0101", days=1)
    record(suite, "13800003333", "2-2-0202", days=20)                  # in work, not late
    drafted = record(suite, "13900004444", "3-3-0303", category="leasing", sign=False)
    suite.advance("P2D")            # the first is past its completion deadline (sla's count)
    eventually(lambda: suite.api["gm"].get("/api/complaints", overdue="true")["total"] == 1,
               timeout=20)

    gm = open_browser(suite.base, suite.tokens["gm"], width=1366, height=900)
    page = gm.goto("/complaints")
    expect(page.get_by_role("link", name="投诉查询")).to_have_attribute("aria-current", "page")
    expect(rows_of(page)).to_have_count(3)
    assert "共 3 条" in page.locator("main").inner_text()

    # by the customer's phone, typed as people type it
    page.get_by_label("搜索").fill("137 0000 2222")
    page.get_by_role("button", name="查询").click()
    expect(rows_of(page)).to_have_count(1)
    assert query_of(page)["q"] == "137 0000 2222"
    row = rows_of(page).first
    expect(row.get_by_role("link", name=late)).to_be_visible()
    cells = row.inner_text()
    assert "温嘉欣" in cells and "物业公司" in cells and "pcgz-head" not in cells   # names
    assert "GZ-P01" not in cells                                              # the project's name
    gm.shot("complaints-search-1366")

    # the overdue ones, then back to the phone search with the browser's back button
    page.get_by_label("搜索").fill("")
    page.get_by_label("只看超期").check()
    page.get_by_role("button", name="查询").click()
    expect(rows_of(page)).to_have_count(1)
    assert query_of(page) == {"overdue": "true"}
    expect(rows_of(page).first.get_by_role("link", name=late)).to_be_visible()
    page.go_back()
    expect(page.get_by_label("搜索")).to_have_value("137 0000 2222")
    expect(page.get_by_label("只看超期")).not_to_be_checked()
    expect(rows_of(page)).to_have_count(1)

    # a shared link opens the same list; a filter by category and a bad date range
    page = gm.goto("/complaints?category=leasing")
    expect(rows_of(page)).to_have_count(1)
    expect(rows_of(page).first.get_by_role("link", name=drafted)).to_be_visible()
    expect(page.get_by_label("类别")).to_have_value("leasing")
    page = gm.goto("/complaints?from=2026-12-01&to=2026-11-01")
    expect(page.locator('.field[data-name="to"] .field-error')).to_contain_text(
        "结束日期不能早于开始日期")

    # export what the filter shows: every in-work complaint (two), as CSV and XLSX
    page = gm.goto("/complaints?status=order_signed&limit=20")
    expect(rows_of(page)).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 CSV").click()
    table = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert table[0][0] == "投诉编号" and "责任人" in table[0]
    assert sorted(r[0] for r in table[1:]) == sorted(
        rows_of(page).locator("td:first-child a").all_inner_texts())
    assert late in {r[0] for r in table[1:]} and drafted not in {r[0] for r in table[1:]}
    page.get_by_text("已导出 2 条").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 XLSX").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    exported = list(sheet.iter_rows(values_only=True))
    assert exported[0][0] == "投诉编号" and len(exported) == 3
    assert {r[0] for r in exported[1:]} == {r[0] for r in table[1:]}
    gm.shot("complaints-export-1366")

    # the row opens the complaint's page
    rows_of(page).get_by_role("link", name=late).click()
    expect(page).to_have_url(re.compile(f"/complaints/{late}$"))
    gm.ready()
    assert gm.errors == []

    # on a phone: the same list, one record per block, nothing wider than the screen
    phone = open_browser(suite.base, suite.tokens["gm"], width=375, height=812, mobile=True)
    page = phone.goto("/complaints?q=13700002222")
    expect(rows_of(page)).to_have_count(1)
    assert no_sideways_scroll(page)
    phone.shot("complaints-375")
    assert phone.errors == []


def test_a_specialist_finds_only_her_desks_complaints_in_english(suite, open_browser):
    record(suite, "13700005555", "6-6-0606", sign=False)
    spec = open_browser(suite.base, suite.tokens["spec"], width=1366, height=900)
    spec.context.add_init_script("localStorage.setItem('ccrm.lang', 'en')")
    page = spec.goto("/complaints")
    expect(page.get_by_role("link", name="Find complaints")).to_be_visible()
    expect(rows_of(page)).to_have_count(1)
    assert "1 found" in page.locator("main").inner_text()
    # her desk's project only, by its name
    expect(page.get_by_label("Project").locator("option")).to_have_count(2)
    spec.shot("complaints-specialist-en-1366")
    assert spec.errors == []
