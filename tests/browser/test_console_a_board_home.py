"""The overdue board and "我的工作" (issue 16, item 9), in real headless
Chromium at 1366x900 and on a 375x812 phone: the board says at which step
each late complaint stands and filters by project, department and step with
the filters in the URL (a reload or a shared link keeps them); "我的工作"
pages through everything waiting on the person instead of stopping at a
count."""
from datetime import timedelta

import pytest
from browser_steps import eventually, no_sideways_scroll, photo_png
from playwright.sync_api import expect
from test_board_and_reports import record_and_sign

pytestmark = pytest.mark.integration


def test_the_board_names_the_late_step_and_filters_in_the_url(suite, open_browser):
    marketing = record_and_sign(suite, "sales_contract", "2-2-0202", days=1)
    property_ = record_and_sign(suite, "maintenance_repair", "1-1-0101", days=1)
    suite.advance("P3D")
    eventually(lambda: suite.api["gm"].get("/api/complaints", overdue="true")["total"] == 2,
               timeout=30)
    gm = open_browser(suite.base, suite.tokens["gm"], width=1366, height=900)
    page = gm.goto("/board")
    heading = page.get_by_role("heading", name="超期投诉", exact=True)
    rows = page.locator("main section", has=heading).locator("tbody tr")
    expect(rows).to_have_count(2)
    row = rows.filter(has=page.get_by_role("link", name=marketing))
    step = row.locator('td[data-label="超期环节"]')
    expect(step).to_contain_text("已派单待回访")                    # never visited
    expect(step).to_contain_text("完成时限已超")

    page.locator("select[name=department]").select_option(label="营销部")
    expect(rows).to_have_count(1)
    assert "department=marketing" in page.url
    expect(rows.first.get_by_role("link", name=marketing)).to_be_visible()
    expect(page.get_by_text("显示 1 / 2 宗")).to_be_visible()
    gm.shot("console-a-board-filtered-1366")
    page = gm.goto("/board?department=marketing&step=routed")       # a shared link
    expect(page.locator("select[name=department]")).to_have_value("marketing")
    expect(page.locator("select[name=step]")).to_have_value("routed")
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="清除筛选").click()
    expect(rows).to_have_count(2)
    assert "department" not in page.url
    page.locator("select[name=project]").select_option("GZ-P01")
    expect(rows).to_have_count(2)
    assert property_ and "project=GZ-P01" in page.url

    phone = open_browser(suite.base, suite.tokens["gm"], width=375, height=812, mobile=True)
    page = phone.goto("/board?department=property")
    page.get_by_role("link", name=property_).wait_for()
    assert page.get_by_role("link", name=marketing).count() == 0
    assert no_sideways_scroll(page)
    phone.shot("console-a-board-filtered-375")
    assert gm.errors == [] and phone.errors == []


def test_my_work_pages_through_everything_waiting(suite, open_browser):
    api = suite.api
    now = suite.clock.now()
    ids = []
    for n in range(23):
        signature = api["spec"].call("POST", "/api/media", data={"kind": "signature"}, files={
            "file": ("s.png", photo_png(32, 24), "image/png")}).json()["id"]
        ids.append(api["spec"].post("/api/complaints", {
            "project_id": "GZ-P01", "room": f"9-1-{n:04d}", "customer_name": "钱先生",
            "customer_phone": "13700009999", "channel": "visit", "demand": f"第 {n} 宗",
            "category": "maintenance_repair",
            "requested_completion_at": (now + timedelta(days=3)).isoformat(),
            "contact_ended_at": (now - timedelta(minutes=3)).isoformat(),
            "customer_signature_media_id": signature})["id"])
    spec = open_browser(suite.base, suite.tokens["spec"], width=1366, height=900)
    page = spec.goto("/")
    queue = page.locator("section", has_text="待提交的督办单").first
    expect(queue.locator("tbody tr")).to_have_count(20)
    expect(queue).to_contain_text("第 1/2 页，共 23 宗")
    seen = set(queue.locator("tbody a").all_inner_texts())
    queue.get_by_role("button", name="下一页").click()
    expect(queue.locator("tbody tr")).to_have_count(3)
    seen |= set(queue.locator("tbody a").all_inner_texts())
    assert seen == set(ids)                                          # every one reachable
    expect(queue.get_by_role("button", name="下一页")).to_be_disabled()
    spec.shot("console-a-my-work-paged-1366")
    phone = open_browser(suite.base, suite.tokens["spec"], width=375, height=812, mobile=True)
    page = phone.goto("/")
    queue = page.locator("section", has_text="待提交的督办单").first
    queue.get_by_role("button", name="下一页").click()
    expect(queue.locator("tbody tr")).to_have_count(3)
    assert no_sideways_scroll(page)
    phone.shot("console-a-my-work-paged-375")
    assert spec.errors == [] and phone.errors == []
