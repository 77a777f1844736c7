"""The sign-in page's "使用集团账号登录" button in real headless Chromium
(issue 14): the gateway and dispatch with OIDC configured against a small
provider on a local HTTP server (services/gateway/tests/oidc_provider.py).
The button goes to the provider and back, the page trades the one-time code
for the session and keeps it as a sign-in by SMS code does; a person the
directory does not know reads why in zh-CN, with no session. At 1366 px and
on a 375 px phone."""
import re

import pytest
import requests
from browser_steps import no_sideways_scroll
from playwright.sync_api import expect

from services.gateway.tests.oidc_provider import ProviderProcess
from services.gateway.tests.test_oidc_sign_in import SPEC, start_gateway  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture
def provider():
    made = ProviderProcess({"preferred_username": SPEC["id"], "name": SPEC["name"]})
    yield made
    made.close()


def test_the_group_account_button_signs_in_and_an_unknown_account_is_told_why(
        start_gateway, provider, open_browser):  # noqa: F811
    base = start_gateway(provider.config)
    desk = open_browser(base, width=1366, height=900)
    page = desk.goto("/signin?next=/complaints")
    button = page.get_by_role("link", name="使用集团账号登录")
    expect(button).to_be_visible()
    desk.shot("oidc-signin-1366")
    button.click()
    expect(page).to_have_url(re.compile(r"/complaints$"), timeout=20000)
    token = page.evaluate("sessionStorage.getItem('ccrm.token')")
    me = requests.get(base + "/api/me", headers={"Authorization": f"Bearer {token}"},
                      timeout=10).json()
    assert me["person_id"] == SPEC["id"]
    assert "oidc=" not in page.url

    provider.change_user(preferred_username="nobody-here")
    phone = open_browser(base, width=375, height=812, mobile=True)
    page = phone.goto("/signin")
    page.get_by_role("link", name="使用集团账号登录").click()
    expect(page).to_have_url(re.compile(r"/signin$"), timeout=20000)
    phone.ready()
    expect(page.get_by_role("alert").first).to_contain_text("未对应组织架构中的在职人员")
    assert page.evaluate("sessionStorage.getItem('ccrm.token')") is None
    assert no_sideways_scroll(page)
    phone.shot("oidc-signin-unknown-375")
    assert phone.errors == []
