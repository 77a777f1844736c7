"""The GM's sign form when the order cannot be routed (issue 16, item 2's
failing case), in real headless Chromium at 1366x900 and on a 375x812 phone:
the test loads a copy of the demo organisation with the marketing
department's head left vacant (a new directory version, as an admin's load
does), and the preview says, in zh-CN, that the order cannot go to 营销部
because nobody holds the post of 部门一把手, and what signing would do."""
import pytest
import yaml
from browser_steps import eventually, no_sideways_scroll
from playwright.sync_api import expect
from test_console_a_sign import reviewed_order

from services.dispatch.load_directory import load_organisation
from shared.config import REPO_ROOT
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

SIZES = pytest.mark.parametrize("width,height,mobile", [(1366, 900, False), (375, 812, True)],
                                ids=["desk", "phone"])
DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
VACANT = "rcgz-mkt-head"        # 冯晓东, head of 广州公司营销部


def load_with_a_vacant_head(suite, tmp_path):
    """The demo organisation without the marketing head (the post stays, unheld)."""
    demo = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    demo["regional_companies"][0]["departments"]["marketing"]["head"] = None
    demo["people"] = [p for p in demo["people"] if p["id"] != VACANT]
    copy = tmp_path / "demo-vacant-head.yaml"
    copy.write_text(yaml.safe_dump(demo, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = load_organisation(suite.database, copy, now=suite.clock.now(),
                               outbox=Outbox("dispatch", "dispatch", "GZ"))
    assert any("营销部" in vacancy for vacancy in result.vacancies), result.vacancies
    return result.version


@SIZES
def test_the_preview_names_the_missing_role_when_a_post_is_vacant(
        suite, open_browser, tmp_path, width, height, mobile):
    cid = reviewed_order(suite)
    version = load_with_a_vacant_head(suite, tmp_path)
    eventually(lambda: suite.scalar("SELECT version FROM sla.directory WHERE id = 1") == version)
    gm = open_browser(suite.base, suite.tokens["gm"], width=width, height=height, mobile=mobile)
    page = gm.goto(f"/complaints/{cid}")
    sign = page.locator("details.action", has=page.locator("summary", has_text="签发督办单"))
    preview = sign.locator(".ca-preview")
    expect(preview).to_contain_text("签发后将派至")
    failure = preview.locator(".notice")
    expect(failure).to_contain_text("按当前组织架构无法派单至营销部")
    expect(failure).to_contain_text("部门一把手岗位空缺")        # the missing role, worded
    expect(failure).to_contain_text("需管理员补齐人员后重新派单")   # what signing would do
    text = preview.inner_text()
    assert "冯晓东" not in text and "head missing" not in text and "rc-gz" not in text
    assert sign.locator("input[name=decision]:checked").count() == 0
    preview.scroll_into_view_if_needed()
    assert no_sideways_scroll(page)
    gm.shot(f"console-c-sign-vacant-{'375' if mobile else '1366'}")

    # another department whose posts are filled: the preview routes again
    sign.locator("[name=department]").select_option("engineering")
    expect(preview).to_contain_text("工程部")
    expect(preview.locator(".notice")).to_have_count(0)
    assert gm.errors == []
