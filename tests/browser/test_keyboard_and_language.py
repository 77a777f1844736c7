"""The console by keyboard alone, in English, on a phone's width (issue 7):
sign in with the token field and Enter, reach the language switch by Tab,
and do a step on the complaint page (open the action, send it) without a
mouse; the skip link comes first."""
from datetime import timedelta

import pytest
from browser_steps import NOW, no_sideways_scroll

pytestmark = pytest.mark.integration


def tab_to(page, text, limit=40):
    """Press Tab until the focused element reads `text` (what a keyboard user does)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.innerText || document.activeElement.value || ''") \
                .strip() == text:
            return
    raise AssertionError(f"{text!r} not reached by Tab")


def test_sign_in_switch_to_english_and_submit_an_order_by_keyboard(suite, open_browser):
    cid = suite.api["spec"].post("/api/complaints", {
        "project_id": "GZ-P01", "room": "8-1-0301", "customer_name": "林女士",
        "customer_phone": "020-12345678", "channel": "letter", "demand": "车位划线不清。",
        "category": "property_service",
        "requested_completion_at": (NOW + timedelta(days=5)).isoformat(),
        "contact_ended_at": (NOW - timedelta(minutes=1)).isoformat()})["id"]

    person = open_browser(suite.base, None, width=375, height=812, mobile=True)
    page = person.goto("/")       # not signed in: the sign-in page (issue 14), number first
    page.get_by_role("heading", name="手机验证码登录").wait_for()
    assert page.evaluate("document.activeElement.name") == "mobile"    # focused for typing
    page.locator("details.token-signin summary").click()    # an operator's API token
    page.locator("[name=token]").focus()
    page.keyboard.type("not-a-token")
    page.keyboard.press("Enter")
    page.get_by_text("登录凭证无效").first.wait_for()      # beside the field
    page.locator("[name=token]").fill("")
    page.keyboard.type(suite.tokens["spec"])
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="我的工作 · 李思琪").wait_for()    # back at "/"
    person.ready()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert no_sideways_scroll(page)
    person.shot("home-specialist-375")

    tab_to(page, "English")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="My work · 李思琪").wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"
    person.shot("home-specialist-en-375")

    page = person.goto(f"/complaints/{cid}")
    tab_to(page, "Submit the order")                 # a step with no fields is one button
    page.keyboard.press("Enter")
    page.get_by_text("Saved.").wait_for()
    assert page.locator("main h1 .badge").first.inner_text() == "Order submitted"
    assert no_sideways_scroll(page)
    person.shot("complaint-en-375")
    assert person.errors == []
