"""A complaint's whole life through the web console in real headless
Chromium (issue 7): recorded on the desk page with the customer's drawn
signature, the order submitted, reviewed and signed on the complaint page,
the visit recorded on the department's phone page (a photo from the camera
input, the plan, the agreed date, the customer's signature), progress and
the closure application on the phone, then verified, reviewed and approved
to closure. A phone complaint's customer signs and rates through the
one-time link on a phone. Every page is photographed (var/artefacts/
screenshots/) and its script weighed against the budget (200 KB on the wire)."""
import json
from datetime import datetime, timedelta

import pytest
from browser_steps import (
    ARTEFACTS,
    NOW,
    SCRIPT_BUDGET,
    draw_signature,
    eventually,
    field_error,
    no_sideways_scroll,
    open_action,
    photo_png,
    state_badge,
    submit,
)

pytestmark = pytest.mark.integration

CID = "C-GZ-2026-000001"
LOCAL = "+08:00"


def local_input(moment):
    """A datetime-local value in the group's zone."""
    return moment.astimezone(datetime.fromisoformat("2026-01-01T00:00" + LOCAL).tzinfo) \
        .strftime("%Y-%m-%dT%H:%M")


def weigh(browser, page_name, budget):
    sizes = browser.scripts()
    total = sum(decoded for decoded, _ in sizes.values())
    budget[page_name] = {"bytes": total, "gzipped": sum(g for _, g in sizes.values()),
                         "files": len(sizes)}
    assert budget[page_name]["gzipped"] < SCRIPT_BUDGET, f"{page_name} loads {budget[page_name]}"


def test_a_complaint_from_the_desk_through_a_phone_visit_to_closure(suite, open_browser, tmp_path):
    budget = {}
    spec = open_browser(suite.base, suite.tokens["spec"])

    # -- the desk: a field error beside its field, then the record ------------------------
    page = spec.goto("/desk")
    weigh(spec, "desk", budget)
    desk = page.locator("main form").first
    page.select_option("[name=category]", "maintenance_repair")
    page.fill("[name=room]", "3-2-1801")
    page.fill("[name=customer_name]", "王小明")
    page.fill("[name=customer_phone]", "12345")
    page.fill("[name=demand]", "客厅天花板漏水，要求一周内修复。")
    page.fill("[name=requested_completion_at]", local_input(NOW + timedelta(days=7)))
    draw_signature(page)
    submit(desk)
    error = field_error(desk, "customer_phone")
    error.wait_for()
    assert "电话号码格式不正确" in error.inner_text()
    assert page.get_attribute("[name=customer_phone]", "aria-invalid") == "true"
    spec.shot("desk-field-error-1280")

    page.fill("[name=customer_phone]", "13812345678")
    submit(desk)
    page.get_by_text(f"已登记投诉 {CID}").first.wait_for()
    spec.shot("desk-recorded-1280")
    rating = page.locator("main form").first
    rating.locator("input[name=score][value='5']").check()
    submit(rating)
    page.get_by_text("已记录评价").wait_for()

    # -- the order's chain on the complaint page -------------------------------------------
    page = spec.goto(f"/complaints/{CID}")
    weigh(spec, "complaint", budget)
    assert state_badge(page) == "督办单待提交"
    page.get_by_role("button", name="提交督办单").click()
    page.get_by_text("已保存").wait_for()
    assert state_badge(page) == "督办单待审核"
    suite.advance("PT15M")

    deputy = open_browser(suite.base, suite.tokens["deputy"])
    page = deputy.goto("/")
    weigh(deputy, "home", budget)
    deputy.shot("home-deputy-1280")
    page.locator("section", has_text="待审核的督办单").get_by_role("link", name=CID).click()
    deputy.ready()
    review = open_action(page, "审核督办单")
    review.locator("input[name=decision][value=approve]").check()   # a choice, none pre-selected
    submit(review)
    page.get_by_text("已保存").wait_for()
    assert state_badge(page) == "督办单待签发"
    suite.advance("PT20M")

    gm = open_browser(suite.base, suite.tokens["gm"])
    page = gm.goto(f"/complaints/{CID}")
    sign = open_action(page, "签发督办单")
    sign.locator("input[name=decision][value=approve]").check()
    sign.locator("[name=reason]").fill("同意派单")
    submit(sign)
    page.get_by_text("已保存").wait_for()
    eventually(lambda: suite.api["staff"].get(f"/api/complaints/{CID}")["handler_id"])
    page = gm.goto(f"/complaints/{CID}")
    assert "温嘉欣" in page.locator("section", has_text="责任人与责任部门").inner_text()
    deadlines = page.locator("section", has_text="时限").first
    assert deadlines.locator(".countdown").count() >= 1         # the visit's hour runs
    gm.shot("complaint-order-signed-1280")

    # -- the department's phone: its work with the next deadline counting down, then the visit --
    head = open_browser(suite.base, suite.tokens["head"], width=375, height=812, mobile=True)
    page = head.goto("/")
    mine = page.get_by_role("region", name="本部门处理中的投诉")
    mine.locator(".countdown").first.wait_for()
    assert "剩余" in mine.locator(".countdown").first.inner_text()
    assert "2026-11-10 11:35" in mine.inner_text()      # signed 10:35, the visit's hour, local
    head.shot("home-head-375")
    mine.get_by_role("link", name=CID).click()
    head.ready()
    page.get_by_role("link", name="在手机上登记回访、进展或结案").click()
    head.ready()
    assert page.url.endswith(f"/visit/{CID}")
    weigh(head, "visit", budget)
    assert no_sideways_scroll(page)
    visit = page.locator("section", has_text="登记上门回访").locator("form")
    visit.locator("[name=plan]").fill("更换防水层并修补天花板")
    now = datetime.fromisoformat(suite.api["admin"].get("/api/admin/clock")["now"])
    visit.locator("[name=agreed_completion_at]").fill(local_input(now + timedelta(days=3)))
    photo = tmp_path / "before.png"
    photo.write_bytes(photo_png())
    camera = visit.locator("input[type=file]")
    assert camera.get_attribute("accept") == "image/*"
    assert camera.get_attribute("capture") is not None      # the phone opens its camera
    camera.set_input_files(str(photo))
    visit.get_by_text("已上传").wait_for()
    draw_signature(page, "section:has(h2:text('登记上门回访'))")
    head.shot("visit-mobile-375")
    submit(visit)
    page.get_by_text("回访已登记").first.wait_for()

    suite.advance("PT3H")
    page = head.goto(f"/visit/{CID}")
    progress = page.locator("section", has_text="今日处理进展").locator("form")
    progress.locator("[name=note]").fill("防水层已更换，待干燥")
    submit(progress)
    page.get_by_text("进展已登记").wait_for()

    suite.advance("P1D")
    page = head.goto(f"/visit/{CID}")
    closure = page.locator("section", has_text="申请结案").locator("form")
    closure.locator("[name=work_done]").fill("已更换防水层并修补天花板")
    material = tmp_path / "completion-form.png"
    material.write_bytes(photo_png(200, 260))
    closure.locator("input[type=file]").set_input_files(str(material))
    closure.get_by_text("已上传").wait_for()
    draw_signature(page, "section:has(h2:text('申请结案'))")
    head.shot("closure-apply-mobile-375")
    submit(closure)
    page.get_by_text("结案申请已提交").wait_for()
    eventually(lambda: suite.api["staff"].get(f"/api/complaints/{CID}")["state"]
               == "closure_applied")

    # -- the centre closes it ------------------------------------------------------------------
    suite.advance("PT20M")
    page = spec.goto(f"/complaints/{CID}")
    verify = open_action(page, "结案核查")
    verify.locator("input[name=decision][value=approve]").check()
    verify.locator("input[name=satisfaction][value='5']").check()
    verify.locator("[name=comment]").fill("客户确认已修好")
    submit(verify)
    page.get_by_text("已保存").wait_for()
    assert state_badge(page) == "结案已回访"

    page = deputy.goto(f"/complaints/{CID}")
    closure_review = open_action(page, "结案审核")
    closure_review.locator("input[name=decision][value=approve]").check()
    submit(closure_review)
    page.get_by_text("已保存").wait_for()
    page = gm.goto(f"/complaints/{CID}")
    closure_approve = open_action(page, "结案审批")
    closure_approve.locator("input[name=decision][value=approve]").check()
    submit(closure_approve)
    page.get_by_text("已保存").wait_for()
    assert state_badge(page) == "已关闭"

    def with_every_picture():       # media hears of the closure's files by event
        shown = gm.goto(f"/complaints/{CID}")
        return shown if shown.locator(".gallery img").count() >= 5 else None

    page = eventually(with_every_picture)
    timeline = page.locator("section", has_text="处理经过").inner_text()
    for step in ("登记投诉", "签发督办单", "派单", "登记回访", "处理进展", "申请结案", "结案审批"):
        assert step in timeline
    work = page.locator("section", has_text="责任部门处理情况").inner_text()
    assert "更换防水层并修补天花板" in work and "防水层已更换" in work
    assert page.locator("section", has_text="时限").first.get_by_text("按时完成").count() >= 1
    gm.shot("complaint-closed-1280")
    phone = open_browser(suite.base, suite.tokens["gm"], width=375, height=812, mobile=True)
    page = phone.goto(f"/complaints/{CID}")
    assert no_sideways_scroll(page)
    phone.shot("complaint-closed-375")

    for person in (spec, deputy, gm, head, phone):
        assert person.errors == []
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "script-budget-walk.json").write_text(json.dumps(budget, indent=1))


def test_the_customer_signs_and_rates_through_the_one_time_link_on_a_phone(suite, open_browser):
    phone_complaint = {
        "project_id": "GZ-P01", "room": "5-1-0702", "customer_name": "陈美玲",
        "customer_phone": "13900001111", "channel": "phone", "demand": "物业费账单有误，要求更正。",
        "category": "property_service",
        "requested_completion_at": (NOW + timedelta(days=3)).isoformat(),
        "contact_ended_at": (NOW - timedelta(minutes=2)).isoformat()}
    cid = suite.api["spec"].post("/api/complaints", phone_complaint)["id"]
    path = eventually(lambda: suite.scalar(
        "SELECT body::jsonb -> 'data' ->> 'link_path' FROM intake.outbox "
        "WHERE routing_key = 'complaint.signature_requested'"))
    customer = open_browser(suite.base, None, width=375, height=812, mobile=True)
    page = customer.goto(path)
    assert customer.wire_bytes() < SCRIPT_BUDGET
    assert "物业费账单有误" in page.inner_text("main")
    assert no_sideways_scroll(page)
    submit(page.locator("main form"))                 # nothing drawn: said beside the pad
    assert "请先签名" in field_error(page, "signature_media_id").inner_text()
    draw_signature(page)
    customer.shot("customer-link-sign-375")
    submit(page.locator("main form"))
    page.get_by_text("请对本次接待评分").first.wait_for()      # the rating link, next
    customer.ready()
    page.locator("input[name=score][value='4']").check()
    customer.shot("customer-link-rate-375")
    submit(page.locator("main form"))
    page.get_by_text("感谢您的评价").wait_for()
    shown = suite.api["staff"].get(f"/api/complaints/{cid}")
    assert shown["signature_status"] == "signed" and shown["rating"]["score"] == 4
    page = customer.goto(path)                        # used up
    assert "该链接无效、已使用或已过期" in page.inner_text("main")
    assert customer.errors == []
