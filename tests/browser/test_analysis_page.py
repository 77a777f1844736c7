"""Art. 42 on /reports in real headless Chromium: the GM issues the third
quarter's analysis, which names the property company (room 8-801 of 恒大山水城
complained about twice) and the regional engineering department (three
维保修类 complaints), not marketing (two complaints, two rooms). The property
company's head files the measures with a PDF on her phone (375 x 812); the
GM's list at desk size (1366 x 900) shows them filed, engineering pending."""
import pytest
from browser_steps import eventually, no_sideways_scroll
from playwright.sync_api import expect

from services.media.tests import samples
from services.penalty import readmodel
from services.penalty.tests.helpers import at

pytestmark = pytest.mark.integration

QUARTER = "2026-Q3"
MEASURES = "一、每周巡查 8 栋公共区域；二、维修工单 24 小时内上门；三、每月回访维修质量。"


def seed(database):
    rows = [("1", "GZ-P01", "engineering", "maintenance_repair", "1-101", "07-03"),
            ("2", "GZ-P01", "engineering", "maintenance_repair", "2-202", "08-12"),
            ("3", "GZ-P02", "engineering", "maintenance_repair", "3-303", "09-20"),
            ("4", "GZ-P02", "property", "property_service", "8-801", "07-15"),
            ("5", "GZ-P02", "property", "property_service", "8-801", "09-02"),
            ("6", "GZ-P01", "marketing", "sales_contract", "5-501", "08-01"),
            ("7", "GZ-P01", "marketing", "sales_contract", "6-601", "09-01")]
    with database.transaction() as conn:
        for n, project, department, category, room, day in rows:
            recorded, cid = at(f"2026-{day} 10:00"), f"C-GZ-2026-00009{n}"
            readmodel.apply_intake_facts(conn, {
                "complaint_id": cid, "project_id": project, "region_company_id": "rc-gz",
                "property_company_id": "pc-gz", "category": category, "channel": "visit",
                "room": room, "order_round": 1, "specialist_id": "p01-spec-1",
                "recorded_at": recorded, "first_submitted_at": None, "signed_at": None,
                "department": department, "escalation_level": None, "reopen_count": 0,
                "holders": [], "resolved_on_spot": False}, recorded)
            readmodel.apply_routing(conn, {"complaint_id": cid, "department": department},
                                    recorded)


def test_a_named_head_files_measures_and_the_gm_sees_them(suite, open_browser):
    seed(suite.database)
    issued = suite.api["gm"].post(f"/api/analyses/{QUARTER}/issue")
    assert sorted(d["unit_id"] for d in issued["departments"]) == ["pc-gz", "rc-gz.engineering"]

    head = open_browser(suite.base, suite.tokens["head"], width=375, height=812, mobile=True)
    page = head.goto(f"/reports?quarter={QUARTER}")
    assert page.locator("h1").inner_text() == "季度系统性问题分析"
    filing = page.get_by_role("region", name="报备优化措施：金碧物业广州公司")
    expect(filing).to_contain_text("8-801 重复投诉 2 次")
    head.shot("analysis-head-form-375")
    filing.locator("textarea[name=text]").fill("太短")
    filing.locator("input[type=file]").set_input_files(
        {"name": "整改方案.pdf", "mimeType": "application/pdf", "buffer": samples.PDF})
    expect(filing).to_contain_text("已上传")
    filing.get_by_role("button", name="提交优化措施").click()
    expect(filing).to_contain_text("至少 10 个字")            # the API's message beside the field
    filing.locator("textarea[name=text]").fill(MEASURES)
    filing.get_by_role("button", name="提交优化措施").click()
    expect(page.locator("main")).to_contain_text("已报备 金碧物业广州公司 的优化措施")
    assert page.get_by_role("region", name="报备优化措施：金碧物业广州公司").count() == 0
    expect(page.locator("main")).to_contain_text(MEASURES)
    assert no_sideways_scroll(page)
    assert head.errors == []
    head.shot("analysis-head-filed-375")
    filed = eventually(lambda: suite.scalar(
        "SELECT media_ids FROM penalty.measures WHERE unit_id = 'pc-gz'"))
    assert len(filed) == 1

    gm = open_browser(suite.base, suite.tokens["gm"], width=1366, height=900)
    page = gm.goto(f"/reports?month=2026-11&quarter={QUARTER}")
    section = page.get_by_role("region", name="季度系统性问题分析 · 2026年第3季度")
    section.scroll_into_view_if_needed()            # loaded as it comes into view
    named = section.get_by_role("region", name="列入的部门")
    expect(named).to_contain_text("金碧物业广州公司")
    expect(named).to_contain_text("恒大地产集团广州公司工程部")
    assert "营销部" not in named.inner_text()
    expect(named).to_contain_text("已报备")
    expect(named).to_contain_text("待报备")
    expect(section).to_contain_text(MEASURES)
    expect(section.get_by_role("link", name="附件 1")).to_be_visible()
    assert section.get_by_role("button", name="提交优化措施").count() == 0
    assert no_sideways_scroll(page)
    assert gm.errors == []
    gm.shot("analysis-gm-1366")
