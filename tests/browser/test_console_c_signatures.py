"""A typed-name signature is known by what it is, not by its file's name
(issue 16, item 9's 键入签名), in real headless Chromium: the pad's "type your
name" uploads with signature_kind=typed (media keeps it) and the complaint
page reads 键入签名; a drawn one reads 已签名, even when its file happens to
be called typed-signature.png; the customer's own link does the same on a
phone."""
import re
from datetime import timedelta

import pytest
from browser_steps import draw_signature, eventually, photo_png, submit
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

LINK = re.compile(r"/sign/[A-Za-z0-9_-]+")


def type_a_name(page, name, scope="body"):
    """The pad's way for someone who cannot draw: the name typed, written into the pad."""
    pad = page.locator(f"{scope} details.typed").first
    pad.locator("summary").click()
    pad.locator("input[type=text]").fill(name)
    pad.get_by_role("button", name="生成签名").click()


def record_at_the_desk(page, room, sign):
    page.fill("[name=room]", room)
    page.fill("[name=customer_name]", "周女士")
    page.fill("[name=customer_phone]", "13912345678")
    page.locator("[name=category]").select_option("maintenance_repair")
    page.fill("[name=demand]", "厨房下水管渗水。")
    later = page.evaluate("""() => { const d = new Date(Date.now() + 3 * 864e5);
        d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
        return d.toISOString().slice(0, 16); }""")
    page.fill("[name=requested_completion_at]", later)
    sign(page)
    submit(page.locator("main form").first)
    recorded = page.get_by_text(re.compile(r"已登记投诉 C-GZ-2026-\d+")).first
    recorded.wait_for()
    return re.search(r"C-GZ-2026-\d+", recorded.inner_text()).group(0)


def signature_of(suite, cid):
    complaint = suite.api["spec"].get(f"/api/complaints/{cid}")
    media_id = complaint["signature"]["media_id"]
    return suite.api["spec"].get(f"/api/media/{media_id}")


def signature_cell(page):
    return page.locator(".card.head dt", has_text="客户签名").locator(
        "xpath=following-sibling::dd[1]")


def test_a_typed_name_reads_typed_and_a_drawn_one_signed_whatever_the_file_name(
        suite, open_browser):
    spec = open_browser(suite.base, suite.tokens["spec"], width=1366, height=900)
    page = spec.goto("/desk")
    typed = record_at_the_desk(page, "5-1-0901", lambda p: type_a_name(p, "周小梅"))
    page = spec.goto("/desk")
    drawn = record_at_the_desk(page, "5-1-0902", draw_signature)
    assert signature_of(suite, typed)["signature_kind"] == "typed"
    assert signature_of(suite, drawn)["signature_kind"] == "drawn"
    # the console names every pad's file alike: the name tells nothing
    assert signature_of(suite, typed)["filename"] == signature_of(suite, drawn)["filename"]

    page = spec.goto(f"/complaints/{typed}")
    expect(signature_cell(page)).to_have_text("键入签名")
    expect(page.locator("figure.media", has_text="键入签名")).to_have_count(1)
    spec.shot("console-c-signature-typed-1366")
    page = spec.goto(f"/complaints/{drawn}")
    expect(signature_cell(page)).to_have_text("已签名")
    assert "键入签名" not in page.inner_text("main")

    # a drawn signature uploaded as typed-signature.png (the old file-name rule) is drawn
    now = suite.clock.now()
    media = suite.api["spec"].call("POST", "/api/media", data={
        "kind": "signature", "signature_kind": "drawn"}, files={
        "file": ("typed-signature.png", photo_png(300, 60), "image/png")}).json()
    cid = suite.api["spec"].post("/api/complaints", {
        "project_id": "GZ-P01", "room": "5-1-0903", "customer_name": "吴先生",
        "customer_phone": "13700004444", "channel": "visit", "demand": "门禁卡失灵",
        "category": "maintenance_repair",
        "requested_completion_at": (now + timedelta(days=3)).isoformat(),
        "contact_ended_at": (now - timedelta(minutes=3)).isoformat(),
        "customer_signature_media_id": media["id"]})["id"]
    page = spec.goto(f"/complaints/{cid}")
    expect(signature_cell(page)).to_have_text("已签名")
    refused = suite.api["spec"].call("POST", "/api/media", data={
        "kind": "signature", "signature_kind": "stamped"}, files={
        "file": ("s.png", photo_png(30, 20), "image/png")})
    assert refused.status_code == 400 and "signature_kind" in refused.json()["error"]["fields"]
    assert spec.errors == []


def test_the_customer_types_a_name_on_the_link_page_and_staff_read_typed(suite, open_browser):
    now = suite.clock.now()
    cid = suite.api["spec"].post("/api/complaints", {
        "project_id": "GZ-P01", "room": "7-1-0701", "customer_name": "郑女士",
        "customer_phone": "13700005555", "channel": "phone", "demand": "电梯异响",
        "category": "maintenance_repair",
        "requested_completion_at": (now + timedelta(days=3)).isoformat(),
        "contact_ended_at": (now - timedelta(minutes=3)).isoformat()})["id"]

    def link():
        sent = suite.api["admin"].get("/api/notifications", complaint_id=cid,
                                      template="signing_link")["items"]
        return LINK.search(sent[0]["text"]).group(0) if sent else None

    path = eventually(link)
    customer = open_browser(suite.base, width=375, height=812, mobile=True)
    page = customer.goto(path)
    type_a_name(page, "郑丽")
    customer.shot("console-c-sign-typed-375")
    submit(page.locator("main form").first)
    page.wait_for_url(re.compile(r"/sign/"))
    eventually(lambda: suite.api["spec"].get(f"/api/complaints/{cid}")["signature"]["status"]
               == "signed")
    assert signature_of(suite, cid)["signature_kind"] == "typed"
    spec = open_browser(suite.base, suite.tokens["spec"], width=375, height=812, mobile=True)
    page = spec.goto(f"/complaints/{cid}")
    expect(signature_cell(page)).to_have_text("键入签名")
    assert customer.errors == [] and spec.errors == []
