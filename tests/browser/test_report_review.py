"""The deductions report's review on /reports in real headless Chromium
(issue 13): November's report, issued by itself once sla has fired through
the month's end, flags the handler's ¥5,200 (26 missed progress days at
¥200, Art. 26, 35) as 需总经理确认; the GM confirms it on the page; the
revisions are listed; a closed month's rankings say they are frozen
(Art. 38). At desk size and at 375 px."""
import pytest
from browser_steps import eventually, no_sideways_scroll
from playwright.sync_api import expect

from services.penalty.tests.helpers import at, missed
from shared.outbox import EventPublisher, Outbox, relay_once

pytestmark = pytest.mark.integration


def test_the_gm_confirms_a_heavy_month_on_the_reports_page(suite, open_browser, rabbit_config):
    publisher = EventPublisher(rabbit_config["AMQP_URI"], confirm_timeout=5)
    try:
        with suite.database.transaction() as conn:
            for day in range(1, 27):    # as sla announces a missed progress day
                Outbox("sla", "sla", "GZ").add(conn, "deadline.missed", missed(
                    "progress", at(f"2026-11-{day:02d} 18:00"), 1, person="rcgz-mkt-head",
                    timer=f"pr-{day}", role="handler"), occurred_at=at(f"2026-11-{day:02d} 18:00"),
                    complaint_id="C-GZ-2026-000099")
        relay_once(suite.database, "sla", publisher)
    finally:
        publisher.close()
    eventually(lambda: suite.scalar("SELECT count(*) FROM penalty.deductions") == 26)
    suite.set_clock(at("2026-12-01 00:30"))
    eventually(lambda: suite.scalar("SELECT count(*) FROM penalty.monthly_reports "
                                    "WHERE month = '2026-11'"), timeout=30)

    gm = open_browser(suite.base, suite.tokens["gm"])
    page = gm.goto("/reports?month=2026-11")
    review = page.get_by_role("region", name="需总经理确认（当月扣罚超过 ¥5,000.00）", exact=True)
    expect(review).to_contain_text("¥5,200.00")
    expect(review).to_contain_text("需总经理确认")
    assert "冻结发布" in page.inner_text("main")
    gm.shot("reports-review-1280")
    review.get_by_role("button", name="确认").click()
    expect(review).to_contain_text("总经理已确认")
    expect(review).to_contain_text("全部已确认")
    revisions = page.get_by_role("region", name="历次版本", exact=True)
    expect(revisions).to_contain_text("月初自动出具")
    assert gm.errors == []
    gm.shot("reports-review-confirmed-1280")

    phone = open_browser(suite.base, suite.tokens["hr"], width=375, height=812, mobile=True)
    page = phone.goto("/reports?month=2026-11")
    review = page.get_by_role("region", name="需总经理确认（当月扣罚超过 ¥5,000.00）", exact=True)
    expect(review).to_contain_text("总经理已确认")
    assert review.get_by_role("button", name="确认").count() == 0      # HR does not decide
    assert no_sideways_scroll(page)
    assert phone.errors == []
    phone.shot("reports-review-375")
