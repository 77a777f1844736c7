"""The reports page and HR's card (issue 16, item 8), in real headless
Chromium at 1366x900 and on a 375x812 phone: a month with nothing due shows
no chart (no 100 % bar over "暂无数据") but each table's heading and why it is
empty; the 出具 button is disabled while the month runs, with the time it can
be issued written for people (no raw ISO timestamp); after the month, the
handling time reads in units, the axis labels are laid out whole, and HR's
card labels every figure, groups the money's digits and drills down from
the card to the people and each one's lines."""
import re
from datetime import UTC, datetime

import pytest
from browser_steps import SCREENSHOTS, eventually, no_sideways_scroll
from playwright.sync_api import expect
from test_board_and_reports import apply_closure_on_time, record_and_sign

pytestmark = pytest.mark.integration

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
MONEY = re.compile(r"^¥\d{1,3}(,\d{3})*\.\d\d$")


def test_a_running_month_shows_no_empty_charts_and_says_when_to_issue(suite, open_browser):
    gm = open_browser(suite.base, suite.tokens["gm"], width=1366, height=900)
    page = gm.goto("/reports?month=2026-11")
    companies = page.get_by_role("region", name="公司按时完成率", exact=True)
    expect(companies.get_by_role("heading", name="地区公司")).to_be_visible()
    expect(companies).to_contain_text("本月没有到期的投诉")
    assert companies.locator(".chart").count() == 0                 # no bar over no data
    issue = page.get_by_role("button", name="出具 / 重新出具报表")
    expect(issue).to_be_disabled()
    why = page.locator(".ca-why")
    expect(why).to_have_text("本月尚未结束，须在 2026-12-01 00:00 之后出具。")
    assert issue.get_attribute("aria-describedby") == why.get_attribute("id")
    assert not ISO.search(page.inner_text("main")), "a raw timestamp on the page"
    gm.shot("console-a-reports-empty-1366")
    phone = open_browser(suite.base, suite.tokens["gm"], width=375, height=812, mobile=True)
    page = phone.goto("/reports?month=2026-11")
    expect(page.locator(".ca-why")).to_be_visible()
    assert no_sideways_scroll(page)
    phone.shot("console-a-reports-empty-375")
    assert gm.errors == [] and phone.errors == []


def test_after_the_month_figures_are_labelled_and_drill_down_to_lines(suite, open_browser):
    on_time = record_and_sign(suite, "maintenance_repair", "1-1-0101", days=2)
    apply_closure_on_time(suite, on_time)
    late = record_and_sign(suite, "sales_contract", "2-2-0202", days=1)
    suite.advance("P10D")
    eventually(lambda: suite.api["gm"].get("/api/complaints", overdue="true")["total"] == 1,
               timeout=30)
    suite.set_clock(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))      # 12-01 00:30 in Shanghai

    hr = open_browser(suite.base, suite.tokens["hr"], width=1366, height=900)

    def issued():
        shown = hr.goto("/").locator("section", has_text="月度扣罚报表 2026-11")
        return shown if shown.locator(".ca-totals").count() else None

    card = eventually(issued, timeout=40, interval=1)
    totals = card.locator(".ca-totals")
    for label in ("扣罚合计", "涉及人数", "明细条数"):             # every figure named
        expect(totals.locator("dt", has_text=label)).to_have_count(1)
    assert MONEY.match(totals.locator("dd.amount").inner_text()), totals.inner_text()
    assert hr.page.evaluate("""async () => (await import('/static/js/report.js'))
        .money('1855456800.00')""") == "¥1,855,456,800.00"
    hr.shot("console-a-home-hr-card-1366")
    card.get_by_role("link", name=re.compile("人的扣罚及明细")).click()
    hr.ready()
    page = hr.page
    assert page.url.endswith("/reports?month=2026-11#report-people")
    people = page.locator("#report-people")
    person = people.locator("tbody button").first
    person.click()
    expect(person).to_have_attribute("aria-expanded", "true")
    lines = people.locator("tr.ca-lines")
    expect(lines.get_by_role("link", name=late).first).to_be_visible()   # the complaint of the line
    hr.shot("console-a-reports-drilldown-1366")

    gm = open_browser(suite.base, suite.tokens["gm"], width=1366, height=900)
    page = gm.goto("/reports?month=2026-11")
    page.locator(".chart canvas").first.wait_for()
    companies = page.get_by_role("region", name="公司按时完成率", exact=True)
    times = companies.locator('td[data-label="处理时效（中位数）"]').all_inner_texts()
    assert times, times
    assert all(re.fullmatch(r"–|\d+ 分钟|\d+\.\d 小时|\d+\.\d 天", x) for x in times), times
    labels = page.evaluate("""() => [...document.querySelectorAll('.chart')]
        .filter((el) => el._chart).map((el) => el._chart.getOption().xAxis[0].axisLabel)""")
    assert labels and all(a.get("overflow") != "truncate" for a in labels), labels
    assert not ISO.search(page.inner_text("main"))
    gm.shot("console-a-reports-1366")
    phone = open_browser(suite.base, suite.tokens["hr"], width=375, height=812, mobile=True)
    page = phone.goto("/reports?month=2026-11")
    page.locator("#report-people tbody button").first.click()
    page.locator("tr.ca-lines a").first.wait_for()
    assert no_sideways_scroll(page)
    page.locator("#report-people tbody button").first.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)      # the screen, not the 50-line page
    page.screenshot(path=str(SCREENSHOTS / "console-a-reports-drilldown-375.png"))
    assert hr.errors == [] and gm.errors == [] and phone.errors == []
