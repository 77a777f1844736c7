"""The centre's overdue board and the rankings in real headless Chromium, with
the simulation clock advanced by the admin (issue 7): the board, open before
the deadline passes, fills by itself (it polls) with the complaint that is 10
days overdue, tier 2, under its company and department; after the month ends,
the rankings draw their charts (ECharts on a canvas) with the same numbers in
tables, the deductions report is there for HR with its CSV, and the admin's
clock card moves the clock."""
import json
from datetime import timedelta

import pytest
from browser_steps import ARTEFACTS, SCRIPT_BUDGET, eventually, no_sideways_scroll, photo_png
from playwright.sync_api import expect

pytestmark = pytest.mark.integration


def record_and_sign(suite, category, room, days):
    api = suite.api
    signature = api["spec"].call("POST", "/api/media", data={"kind": "signature"}, files={
        "file": ("s.png", _png(), "image/png")}).json()["id"]
    now = suite.clock.now()
    cid = api["spec"].post("/api/complaints", {
        "project_id": "GZ-P01", "room": room, "customer_name": "赵先生",
        "customer_phone": "13700002222", "channel": "visit", "demand": f"{room} 的问题",
        "category": category, "requested_completion_at": (now + timedelta(days=days)).isoformat(),
        "contact_ended_at": (now - timedelta(minutes=3)).isoformat(),
        "customer_signature_media_id": signature})["id"]
    api["spec"].post(f"/api/complaints/{cid}/order/submit")
    api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"})
    eventually(lambda: api["staff"].get(f"/api/complaints/{cid}")["handler_id"])
    return cid


def apply_closure_on_time(suite, cid):
    """The property company visits and applies at once (on time)."""
    head = suite.api["head"]
    now = suite.clock.now()

    def upload(kind):
        return head.call("POST", "/api/media", data={"kind": kind, "complaint_id": cid}, files={
            "file": ("x.png", _png(), "image/png")}).json()["id"]

    head.post(f"/api/complaints/{cid}/visits", {
        "outcome": "done", "visited_at": now.isoformat(), "plan": "当天修复",
        "agreed_completion_at": (now + timedelta(hours=6)).isoformat(),
        "customer_signature_media_id": upload("signature")})
    head.post(f"/api/complaints/{cid}/closure/apply", {
        "material_media_ids": [upload("material")],
        "customer_signature_media_id": upload("signature")})


def _png():
    return photo_png(32, 24)


def test_the_overdue_board_fills_live_and_the_rankings_draw_after_the_month(suite, open_browser):
    on_time = record_and_sign(suite, "maintenance_repair", "1-1-0101", days=2)   # property
    apply_closure_on_time(suite, on_time)
    late = record_and_sign(suite, "sales_contract", "2-2-0202", days=1)          # marketing

    # the board, open and polling every 2 s, before anything is overdue
    gm = open_browser(suite.base, suite.tokens["gm"])
    page = gm.goto("/board?every=2")
    budget = {"board": gm.wire_bytes()}
    assert "目前没有超期的投诉" in page.inner_text("main")

    suite.advance("P10D")            # day 10 past the completion deadline (started 24 h)
    row = page.locator("tbody tr", has=page.get_by_role("link", name=late))
    # no click: the board polls (sla accrues the ten days one tick after another)
    expect(row.locator("td").nth(1)).to_have_text("10", timeout=20000)
    cells = row.locator("td").all_inner_texts()
    assert cells[2] == "第二档"
    assert "恒大地产集团广州公司" in cells[4] and "营销部" in cells[5]
    assert page.locator(".tier-2 .count").inner_text() == "1"
    assert page.get_by_role("link", name=on_time).count() == 0
    assert gm.errors == []
    gm.shot("board-1280")
    phone = open_browser(suite.base, suite.tokens["gm"], width=375, height=812, mobile=True)
    page = phone.goto("/board")
    page.get_by_role("link", name=late).wait_for()
    assert no_sideways_scroll(page)
    phone.shot("board-375")

    # December: November's rankings, its report for HR, drawn and downloadable
    admin = open_browser(suite.base, suite.tokens["admin"])
    page = admin.goto("/")
    clock = page.locator("section", has_text="模拟时钟")
    clock.locator("[name=now]").fill("2026-12-01T00:30")
    clock.locator("button[type=submit]").click()
    page.get_by_text("2026-12-01 00:30").wait_for()
    admin.shot("home-admin-clock-1280")

    page = gm.goto("/reports?month=2026-11")
    budget["reports"] = gm.wire_bytes()
    assert budget["reports"] < SCRIPT_BUDGET, budget
    chart = page.locator(".chart canvas").first
    chart.wait_for()
    assert chart.bounding_box()["width"] > 300
    companies = page.get_by_role("region", name="公司按时完成率", exact=True)
    text = companies.inner_text()
    assert "金碧物业广州公司" in text and "100.0% (1/1)" in text
    assert "恒大地产集团广州公司" in text and "0.0% (0/1)" in text
    drawn = page.evaluate("""() => {
        const canvas = document.querySelector('.chart canvas');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let inked = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked += 1;
        return inked;
    }""")
    assert drawn > 1000, "the chart canvas is empty"
    assert gm.errors == []
    gm.shot("reports-1280")

    hr = open_browser(suite.base, suite.tokens["hr"])

    def issued():             # sla's 00:00 job asks penalty to issue the month
        shown = hr.goto("/").locator("section", has_text="月度扣罚报表 2026-11")
        return shown if "¥" in shown.inner_text() else None

    report = eventually(issued, timeout=30, interval=1)
    with hr.page.expect_download() as download:
        report.get_by_role("button", name="下载 CSV").click()
    saved = download.value.path()
    assert "营销部" in saved.read_text(encoding="utf-8-sig")
    report.get_by_text("已下载").wait_for()        # the progress bar ends "done"
    hr.shot("home-hr-1280")
    assert hr.errors == [] and admin.errors == []

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "script-budget-reports.json").write_text(json.dumps(budget, indent=1))
