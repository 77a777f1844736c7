"""The department's phone page after saving (issue 16, item 1), in real
headless Chromium on a 375x812 phone and at the 1366x900 desk: each
confirmation is inside the viewport right after the save (not above the
screen where the handler scrolled from), and the page shows what was saved
(the plan, the agreed date, the progress so far, what was done), so nobody
sees an empty form and sends it again. 处理方案 and the agreed date are marked
required; the closure application asks what was done; the customer's phone
is a tel: link."""
from datetime import datetime, timedelta

import pytest
from browser_steps import draw_signature, eventually, field_error, no_sideways_scroll, photo_png
from playwright.sync_api import expect
from test_board_and_reports import record_and_sign

pytestmark = pytest.mark.integration


def local_input(moment):
    return moment.astimezone(datetime.fromisoformat("2026-01-01T00:00+08:00").tzinfo) \
        .strftime("%Y-%m-%dT%H:%M")


def in_viewport(page, selector):
    """The element's box lies inside the window (the person sees it without scrolling)."""
    return page.evaluate("""(selector) => {
        const box = document.querySelector(selector)?.getBoundingClientRect();
        return Boolean(box) && box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight
            && box.left >= 0 && box.right <= window.innerWidth;
    }""", selector)


def scroll_to_bottom(page):
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")


@pytest.mark.parametrize("width,height,mobile", [(375, 812, True), (1366, 900, False)],
                         ids=["phone", "desk"])
def test_every_save_is_confirmed_in_sight_and_shows_what_was_saved(
        suite, open_browser, tmp_path, width, height, mobile):
    cid = record_and_sign(suite, "maintenance_repair", "3-2-1801", days=5)   # property company
    name = "phone" if mobile else "desk"
    head = open_browser(suite.base, suite.tokens["head"], width=width, height=height, mobile=mobile)
    page = head.goto(f"/visit/{cid}")
    assert no_sideways_scroll(page)
    expect(page.locator('main a[href="tel:13700002222"]')).to_have_text("13700002222")

    visit = page.locator("section", has_text="登记上门回访").locator("form")
    for required in ("plan", "agreed_completion_at"):           # marked, not only refused
        expect(visit.locator(f'.field[data-name="{required}"] .req')).to_have_count(1)
    visit.locator("[name=plan]").fill("更换防水层并修补天花板")
    now = datetime.fromisoformat(suite.api["admin"].get("/api/admin/clock")["now"])
    agreed = now + timedelta(days=3)
    visit.locator("[name=agreed_completion_at]").fill(local_input(agreed))
    photo = tmp_path / "before.png"
    photo.write_bytes(photo_png())
    visit.locator("input[type=file]").set_input_files(str(photo))
    visit.get_by_text("已上传").wait_for()
    draw_signature(page, "section:has(h2:text('登记上门回访'))")
    visit.locator("button[type=submit]").scroll_into_view_if_needed()
    visit.locator("button[type=submit]").click()

    toast = page.locator(".ca-toast")
    expect(toast).to_contain_text("回访已登记")
    assert in_viewport(page, ".ca-toast"), "the confirmation is out of sight"
    saved = page.locator("section", has_text="本轮已登记")
    expect(saved).to_contain_text("更换防水层并修补天花板")
    expect(saved).to_contain_text(local_input(agreed).replace("T", " "))
    assert page.locator("section", has_text="登记上门回访").locator("form").count() == 0
    head.shot(f"console-a-visit-saved-{name}")

    # progress, sent from the bottom of a long page: the confirmation is still in sight
    progress = page.locator("section", has_text="今日处理进展").locator("form")
    progress.locator("[name=note]").fill("防水层已更换，待干燥")
    scroll_to_bottom(page)
    progress.locator("button[type=submit]").click()
    expect(page.locator(".ca-toast")).to_contain_text("进展已登记")
    assert in_viewport(page, ".ca-toast")
    expect(page.locator("section", has_text="本轮已登记")).to_contain_text("防水层已更换，待干燥")
    note = page.locator("section", has_text="今日处理进展").locator("[name=note]")
    expect(note).to_have_value("")
    head.shot(f"console-a-progress-saved-{name}")

    # the closure application: what was done is asked for, then shown as saved
    closure = page.locator("section", has_text="申请结案").locator("form")
    expect(closure.locator('.field[data-name="work_done"] .req')).to_have_count(1)
    material = tmp_path / "completion-form.png"
    material.write_bytes(photo_png(200, 260))
    closure.locator("input[type=file]").set_input_files(str(material))
    closure.get_by_text("已上传").wait_for()
    draw_signature(page, "section:has(h2:text('申请结案'))")
    closure.locator("button[type=submit]").click()
    expect(field_error(closure, "work_done")).to_have_text("必填")
    closure.locator("[name=work_done]").fill("已更换防水层并修补天花板，客户验收无渗漏")
    closure.locator("button[type=submit]").click()
    expect(page.locator(".ca-toast")).to_contain_text("结案申请已提交")
    assert in_viewport(page, ".ca-toast")
    expect(page.locator("section", has_text="本轮已登记")).to_contain_text("客户验收无渗漏")
    head.shot(f"console-a-closure-saved-{name}")
    shown = eventually(lambda: suite.api["staff"].get(f"/api/complaints/{cid}/dispatch")
                       ["applications"] or None)
    assert shown[0]["work_done"] == "已更换防水层并修补天花板，客户验收无渗漏"
    page.locator(".ca-toast button").click()
    expect(page.locator(".ca-toast")).to_have_count(0)
    assert head.errors == []
