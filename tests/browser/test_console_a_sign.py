"""The GM signs with the routing in sight, and the complaint page's small
things (issue 16, items 2 and 9), in real headless Chromium at 1366x900 and
on a 375x812 phone: the sign form is open, names the department and the
handler the order will go to (names from dispatch's routing table and
directory) and follows the GM's department override; approve is not
pre-selected; a rejection states what it does and must be confirmed; the
signed order goes to the handler the preview named. The customer's phone is
a tel: link, a typed-name signature reads 键入签名 and signature thumbnails
are shown whole."""
from datetime import timedelta

import pytest
from browser_steps import eventually, field_error, no_sideways_scroll, photo_png, state_badge
from playwright.sync_api import expect

pytestmark = pytest.mark.integration


def reviewed_order(suite, typed=False):
    """A sales complaint on GZ-P01 (marketing, 冯晓东) waiting for the GM's signature."""
    api = suite.api
    # the kind travels as signature_kind, whatever the file is called
    kind = "typed" if typed else "drawn"
    signature = api["spec"].call("POST", "/api/media", data={
        "kind": "signature", "signature_kind": kind}, files={
        "file": ("IMG_0412.png", photo_png(300, 60), "image/png")}).json()["id"]
    now = suite.clock.now()
    cid = api["spec"].post("/api/complaints", {
        "project_id": "GZ-P01", "room": "6-1-0601", "customer_name": "孙女士",
        "customer_phone": "13700006666", "channel": "visit", "demand": "合同约定的车位未交付",
        "category": "sales_contract",
        "requested_completion_at": (now + timedelta(days=5)).isoformat(),
        "contact_ended_at": (now - timedelta(minutes=3)).isoformat(),
        "customer_signature_media_id": signature})["id"]
    api["spec"].post(f"/api/complaints/{cid}/order/submit")
    api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    return cid


def test_the_gm_sees_where_the_order_goes_before_signing(suite, open_browser):
    cid = reviewed_order(suite, typed=True)
    gm = open_browser(suite.base, suite.tokens["gm"], width=1366, height=900)
    page = gm.goto(f"/complaints/{cid}")
    sign = page.locator("details.action", has=page.locator("summary", has_text="签发督办单"))
    expect(sign).to_have_attribute("open", "")                     # open: it is the page's purpose
    preview = sign.locator(".ca-preview")
    expect(preview).to_contain_text("签发后将派至")
    expect(preview).to_contain_text("营销部")
    expect(preview).to_contain_text("冯晓东")                         # the handler by name
    assert "rcgz-mkt-head" not in preview.inner_text()
    assert sign.locator("input[name=decision]:checked").count() == 0   # nothing pre-selected
    escalate = page.locator("details.action", has=page.locator("summary", has_text="升级"))
    if escalate.count():
        assert escalate.get_attribute("open") is None                 # a rarer act stays folded
    gm.shot("console-a-sign-preview-1366")

    # the GM picks another department: the preview follows
    sign.locator("[name=department]").select_option("engineering")
    expect(preview).to_contain_text("工程部")
    expect(preview).to_contain_text("（已调整）")
    sign.locator("[name=department]").select_option("")
    expect(preview).not_to_contain_text("（已调整）")

    # no choice made: said beside the choice, nothing sent
    sign.locator("button[type=submit]").click()
    expect(field_error(sign, "decision")).to_have_text("请选择同意或退回")
    # a rejection: its consequence shown, to be confirmed
    sign.locator("input[name=decision][value=reject]").check()
    expect(sign.locator(".ca-reject")).to_be_visible()
    expect(sign.locator(".ca-reject")).to_contain_text("退回后督办单回到副总经理处重新审核")
    sign.locator("[name=reason]").fill("请补充车位合同")
    sign.locator("button[type=submit]").click()
    expect(field_error(sign, "confirm_reject")).to_have_text("请勾选确认退回")
    assert suite.api["gm"].get(f"/api/complaints/{cid}")["state"] == "order_reviewed"
    gm.shot("console-a-sign-reject-confirm-1366")

    # approve: the order goes where the preview said
    sign.locator("input[name=decision][value=approve]").check()
    expect(sign.locator(".ca-reject")).to_be_hidden()
    sign.locator("[name=reason]").fill("同意派单")
    sign.locator("button[type=submit]").click()
    page.get_by_text("已保存").wait_for()
    routed = eventually(lambda: suite.api["staff"].get(f"/api/complaints/{cid}/dispatch")
                        .get("routing"))
    assert routed["handler"]["name"] == "冯晓东"

    # the complaint page's small things: tel: link, typed signature, whole thumbnails
    page = gm.goto(f"/complaints/{cid}")
    expect(page.locator('main a[href="tel:13700006666"]')).to_have_text("13700006666")
    head = page.locator(".card.head")
    expect(head).to_contain_text("键入签名")
    assert "已签名" not in head.inner_text()
    figure = page.locator("figure.media", has_text="键入签名").first
    expect(figure).to_be_visible()
    fit = figure.locator("img").evaluate("(img) => getComputedStyle(img).objectFit")
    assert fit == "contain"
    assert gm.errors == []


def test_the_sign_form_and_its_preview_on_a_phone(suite, open_browser):
    cid = reviewed_order(suite)
    phone = open_browser(suite.base, suite.tokens["gm"], width=375, height=812, mobile=True)
    page = phone.goto(f"/complaints/{cid}")
    sign = page.locator("details.action", has=page.locator("summary", has_text="签发督办单"))
    preview = sign.locator(".ca-preview")
    expect(preview).to_contain_text("冯晓东")
    preview.scroll_into_view_if_needed()
    assert no_sideways_scroll(page)
    phone.shot("console-a-sign-preview-375")
    # drawn signatures keep their own word
    expect(page.locator(".card.head")).not_to_contain_text("键入签名")
    sign.locator("input[name=decision][value=reject]").check()
    sign.locator("[name=reason]").fill("请重新审核")
    sign.locator("input[name=confirm_reject]").check()
    sign.locator("button[type=submit]").click()
    page.get_by_text("已保存").wait_for()
    assert state_badge(page) == "督办单待审核"
    assert phone.errors == []
