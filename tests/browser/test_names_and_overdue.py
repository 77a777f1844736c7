"""What a person sees of names and overdue clocks, in real headless Chromium
(issue 14): the GM's "我的工作" counts the overdue complaints and those asked to
be complete today, each a link to the filtered list; a past completion
deadline reads red "已超期 N 天", not a green "剩余 …"; the complaint page shows
people's names, never a person's id as text (the id is in the title). At
1366 px and on a 375 px phone."""
import re

import pytest
from browser_steps import eventually, no_sideways_scroll
from playwright.sync_api import expect
from test_complaint_list import record

pytestmark = pytest.mark.integration

PERSON_ID = re.compile(r"\bp[0-9a-z]+-[a-z]+(-\d+)?\b")      # p01-spec-1, pcgz-head


def test_the_gm_sees_overdue_counts_red_clocks_and_names(suite, open_browser):
    late = record(suite, "13700007777", "7-7-0707", days=1)
    suite.advance("P2D")                                   # 10:00 two days on: a day overdue
    eventually(lambda: suite.api["gm"].get("/api/complaints", overdue="true")["total"] == 1,
               timeout=20)
    today = record(suite, "13800008888", "8-8-0808", days=4 / 24)   # asked for by 14:00 today
    gm = open_browser(suite.base, suite.tokens["gm"], width=1366, height=900)
    page = gm.goto("/")
    watch = page.locator("section", has=page.get_by_role("heading", name="超期与今日到期"))
    overdue = watch.get_by_role("link", name=re.compile("件超期投诉"))
    expect(overdue).to_have_attribute("href", "/complaints?overdue=true")
    expect(overdue).to_contain_text("1")
    expect(overdue).to_have_class(re.compile(r"\blate\b"))
    due_today = watch.get_by_role("link", name=re.compile("件今日要求完成"))
    expect(due_today).to_contain_text("1")
    expect(due_today).to_have_attribute("href", "/complaints?due=today")
    gm.shot("names-overdue-home-1366")
    # the due-today link lists exactly what it counted, its filter shown in the form
    due_today.click()
    gm.ready()
    expect(page).to_have_url(re.compile(r"/complaints\?due=today$"))
    expect(page.locator("main table tbody tr")).to_have_count(1)
    expect(page.locator("main table tbody").get_by_role("link", name=today)).to_be_visible()
    expect(page.locator('select[name="due"]')).to_have_value("today")
    page = gm.goto("/")
    overdue = page.get_by_role("link", name=re.compile("件超期投诉"))
    overdue.click()
    gm.ready()
    expect(page).to_have_url(re.compile(r"/complaints\?overdue=true$"))
    expect(page.locator("main table tbody tr")).to_have_count(1)
    expect(page.locator("main table tbody").get_by_role("link", name=late)).to_be_visible()

    # the overdue complaint: its completion clock is red and counts days late
    page = gm.goto(f"/complaints/{late}")
    clocks = page.locator(".countdown.late")
    expect(clocks.first).to_have_text("已超期 1 天")
    assert "剩余" not in clocks.first.inner_text()
    red, green, _ = map(int, re.findall(r"\d+", clocks.first.evaluate(
        "(el) => getComputedStyle(el).color"))[:3])
    assert red > 150 and green < 100
    # names, not ids: no person's id is visible text; the names carry the ids
    text = page.locator("main").inner_text()
    assert not PERSON_ID.search(text), PERSON_ID.search(text)
    assert page.locator("main .person[title]").count() > 0
    gm.shot("names-overdue-complaint-1366")
    assert gm.errors == []

    # on a phone: the same counts and the same page, nothing wider than the screen
    phone = open_browser(suite.base, suite.tokens["gm"], width=375, height=812, mobile=True)
    page = phone.goto("/")
    expect(page.get_by_role("link", name=re.compile("件超期投诉"))).to_be_visible()
    assert no_sideways_scroll(page)
    phone.shot("names-overdue-home-375")
    page = phone.goto(f"/complaints/{late}")
    expect(page.locator(".countdown.late").first).to_have_text("已超期 1 天")
    assert not PERSON_ID.search(page.locator("main").inner_text())
    phone.shot("names-overdue-complaint-375")
    assert phone.errors == []
