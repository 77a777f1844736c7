"""Issue 13's acts on the complaint page, in Chromium at desk size and on a
375 px phone: the customer's signature still pending (客户未签名) with the
re-send action, a void by the deputy GM, and a stated time accepted."""
from datetime import datetime, timedelta

import pytest
from browser_steps import (
    NOW,
    SCREENSHOTS,
    eventually,
    no_sideways_scroll,
    open_action,
    state_badge,
    submit,
)

CID = "C-GZ-2026-000001"


pytestmark = pytest.mark.integration


def record(suite, **changes):
    body = {"project_id": "GZ-P01", "room": "3-2-1801", "customer_name": "王小明",
            "customer_phone": "13812345678", "channel": "phone",
            "demand": "客厅天花板漏水，要求一周内修复。", "category": "maintenance_repair",
            "requested_completion_at": (NOW + timedelta(days=7)).isoformat(),
            "contact_ended_at": (NOW - timedelta(minutes=5)).isoformat()}
    body.update(changes)
    return suite.api["spec"].post("/api/complaints", body)["id"]


def test_unsigned_re_send_and_void_on_the_complaint_page(suite, open_browser):
    cid = record(suite)
    spec = open_browser(suite.base, suite.tokens["spec"])
    page = spec.goto(f"/complaints/{cid}")
    head = page.locator(".card.head")
    assert "客户未签名" in head.inner_text() and "签名链接已发送 1 次" in head.inner_text()
    spec.shot("fair-unsigned-1280")
    page.get_by_role("button", name="重新发送签名链接").click()
    page.get_by_text("已保存").wait_for()
    assert "签名链接已发送 2 次" in page.locator(".card.head").inner_text()

    phone = open_browser(suite.base, suite.tokens["spec"], width=375, height=812, mobile=True)
    page = phone.goto(f"/complaints/{cid}")
    assert "客户未签名" in page.locator(".card.head").inner_text()
    assert no_sideways_scroll(page)
    phone.shot("fair-unsigned-375")
    page.locator(".card.head").screenshot(path=str(SCREENSHOTS / "fair-unsigned-head-375.png"))

    deputy = open_browser(suite.base, suite.tokens["deputy"])
    page = deputy.goto(f"/complaints/{cid}")
    void = open_action(page, "作废投诉")
    submit(void)                                     # the reason is required
    assert void.locator("[name=reason]").get_attribute("aria-invalid") == "true" or \
        void.locator(".field-error").count() >= 1
    void.locator("[name=reason]").fill("与 C-GZ-2026-000002 重复登记")
    submit(void)
    page.get_by_text("已保存").wait_for()
    assert state_badge(page) == "已作废"
    assert "此投诉已作废" in page.locator(".card.head").inner_text()
    assert page.locator("details.action").count() == 0
    assert "作废投诉" in page.locator("ol.timeline").inner_text()
    assert "→ 已作废" in page.locator("ol.timeline").inner_text()
    deputy.shot("fair-voided-1280")


def test_the_deputy_gm_accepts_a_late_stated_time_on_the_page(suite, open_browser):
    cid = record(suite)
    api = suite.api
    api["spec"].post(f"/api/complaints/{cid}/order/submit")
    api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    signed = api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"})
    eventually(lambda: api["staff"].get(f"/api/complaints/{cid}")["handler_id"])
    signed_at = datetime.fromisoformat(signed["order"]["signed_at"])
    suite.advance("PT4H")
    api["head"].post(f"/api/complaints/{cid}/visits", {
        "outcome": "blocked", "attempted_at": (signed_at + timedelta(minutes=5)).isoformat(),
        "reason": "客户拒绝开门"})

    deputy = open_browser(suite.base, suite.tokens["deputy"])
    page = deputy.goto(f"/complaints/{cid}")
    work = page.locator("section", has_text="按登记时间计时")
    assert work.count() >= 1
    accept = open_action(page, "认可陈述时间")
    accept.locator("[name=reason]").fill("地下室无信号，回办公室补登")
    submit(accept)
    page.get_by_text("已保存").wait_for()
    assert "陈述时间已认可：地下室无信号，回办公室补登" in page.locator("main").inner_text()
    assert page.locator("details.action", has_text="认可陈述时间").count() == 0
    deputy.shot("fair-accepted-1280")

    phone = open_browser(suite.base, suite.tokens["deputy"], width=375, height=812, mobile=True)
    page = phone.goto(f"/complaints/{cid}")
    assert no_sideways_scroll(page)
    phone.shot("fair-accepted-375")
    visit = page.locator("article.item", has_text="陈述时间已认可")
    visit.screenshot(path=str(SCREENSHOTS / "fair-accepted-visit-375.png"))
