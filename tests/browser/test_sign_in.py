"""Signing in on the web console in real headless Chromium (issue 14): a
specialist asks for the SMS code, reads it from the SMS the provider
received, signs in, records a complaint at the desk and signs out; five
wrong codes on a phone lock the number and the page says until when; the
simulation mode's picker signs a demo person in with one click.

sla sends through its real `http` SMS gateway to a real HTTP server playing
the provider (services/gateway/tests/sms_inbox.py): the config's choice of
gateway is pointed there before the suite starts."""
from datetime import timedelta, timezone

import pytest
from browser_steps import (
    NOW,
    SCRIPT_BUDGET,
    draw_signature,
    eventually,
    field_error,
    no_sideways_scroll,
    submit,
)

from services.gateway.tests.sms_inbox import SmsInbox
from services.sla import sms

pytestmark = pytest.mark.integration

SPEC_MOBILE = "15902010001"           # 李思琪, specialist of GZ-P01
GM_MOBILE = "13902000101"             # 周明华, the centre's GM


@pytest.fixture
def inbox(monkeypatch):
    made = SmsInbox()
    monkeypatch.setattr(sms, "gateway_from_config",
                        lambda config: sms.HttpSmsGateway(made.url, signature="恒大售后"))
    yield made
    made.close()


@pytest.fixture
def world(inbox, suite):        # the inbox first: sla's SMS gateway is made at its start
    return suite


def at(page, path, search=""):
    """Wait until the page is at `path` (asked of the page: page.wait_for_url
    does not always return under eventlet, and the CSP forbids
    wait_for_function's eval)."""
    def where():
        try:
            return page.evaluate("[location.pathname, location.search]")
        except Exception:       # noqa: BLE001 - the page is navigating right now
            return None
    eventually(lambda: where() == [path, search])


def ask_code(page, mobile):
    page.fill("input[name=mobile]", mobile)
    page.get_by_role("button", name="获取验证码").click()
    page.locator("main").get_by_text("验证码已发送").wait_for()


def test_a_specialist_signs_in_with_the_sms_code_records_a_complaint_and_signs_out(
        world, inbox, open_browser):
    spec = open_browser(world.base)
    page = spec.goto("/desk")                   # not signed in: to the sign-in page, and back
    at(page, "/signin", "?next=%2Fdesk")
    spec.ready()
    assert page.get_by_role("heading", name="手机验证码登录").is_visible()
    assert page.get_by_role("heading", name="模拟模式：选择演示人员").is_visible()
    assert spec.wire_bytes() < SCRIPT_BUDGET
    spec.shot("signin-1280")

    ask_code(page, SPEC_MOBILE)
    assert page.get_by_role("button", name="秒后可重新获取").is_disabled()
    code = eventually(lambda: inbox.to(SPEC_MOBILE) and inbox.code(SPEC_MOBILE))
    page.fill("input[name=code]", code)
    spec.shot("signin-code-sent-1280")
    page.get_by_role("button", name="登录", exact=True).click()
    at(page, "/desk")
    spec.ready()
    assert "李思琪" in page.locator("header .who").inner_text()

    # records a complaint at the desk, as signed in
    page.select_option("[name=category]", "maintenance_repair")
    page.fill("[name=room]", "3-2-1801")
    page.fill("[name=customer_name]", "王小明")
    page.fill("[name=customer_phone]", "13812345678")
    page.fill("[name=demand]", "客厅天花板漏水，要求一周内修复。")
    later = (NOW + timedelta(days=7)).astimezone(timezone(timedelta(hours=8)))
    page.fill("[name=requested_completion_at]", later.strftime("%Y-%m-%dT%H:%M"))
    draw_signature(page)
    submit(page.locator("main form").first)
    page.get_by_text("已登记投诉 C-GZ-2026-000001").first.wait_for()
    assert world.scalar("SELECT recorded_by FROM intake.complaints") == "p01-spec-1"

    # signs out: the session is revoked, the console is back at the sign-in page
    page.locator("header").get_by_role("button", name="退出").click()
    at(page, "/signin")
    spec.ready()
    assert page.evaluate("sessionStorage.getItem('ccrm.token')") is None
    assert world.scalar("SELECT count(*) FROM gateway.tokens WHERE kind = 'session' "
                        "AND revoked_at IS NOT NULL") == 1
    assert world.scalar("SELECT count(*) FROM gateway.tokens WHERE kind = 'session' "
                        "AND revoked_at IS NULL") == 0
    spec.goto("/")
    at(page, "/signin")
    assert not spec.errors, spec.errors


def test_five_wrong_codes_lock_the_number_and_the_phone_page_says_until_when(
        world, inbox, open_browser):
    phone = open_browser(world.base, width=375, height=800, mobile=True)
    page = phone.goto("/signin")
    assert no_sideways_scroll(page)
    phone.shot("signin-375")
    ask_code(page, GM_MOBILE)
    code = eventually(lambda: inbox.to(GM_MOBILE) and inbox.code(GM_MOBILE))
    wrong = "000000" if code != "000000" else "111111"
    form = page.locator("main form").first
    for left in (4, 3, 2, 1):
        page.fill("input[name=code]", wrong)
        submit(form)
        error = field_error(form, "code")
        page.locator('.field[data-name="code"] .field-error',
                     has_text=f"还可尝试 {left} 次").wait_for()
        assert "验证码错误" in error.inner_text()
    page.fill("input[name=code]", wrong)
    submit(form)
    locked = field_error(form, "mobile")
    locked.wait_for()
    text = locked.inner_text()
    assert "已锁定至 2026-11-10 10:15" in text, text
    assert page.get_attribute("input[name=mobile]", "aria-invalid") == "true"
    assert no_sideways_scroll(page)
    phone.shot("signin-locked-375")

    # the right code is refused too while locked, and the page says so again
    page.fill("input[name=code]", code)
    submit(form)
    page.locator('.field[data-name="mobile"] .field-error', has_text="已锁定至").wait_for()
    assert world.scalar("SELECT count(*) FROM gateway.tokens WHERE kind = 'session'") == 0
    assert not phone.errors, phone.errors


def test_the_simulation_picker_signs_a_demo_person_in_with_one_click(world, open_browser):
    desk = open_browser(world.base)
    page = desk.goto("/signin")
    group = page.locator("details.demo-group", has=page.locator("summary",
                                                                has_text="售后服务中心总经理"))
    group.locator("summary").click()
    group.get_by_role("button", name="以周明华的身份登录").click()
    page.get_by_role("heading", name="我的工作 · 周明华").wait_for()
    assert page.evaluate("location.pathname") == "/"
    assert world.scalar("SELECT count(*) FROM gateway.tokens WHERE person_id = 'centre-gm' "
                        "AND kind = 'demo' AND revoked_at IS NULL") == 1
    desk.shot("signin-picked-home-1280")
    assert not desk.errors, desk.errors
