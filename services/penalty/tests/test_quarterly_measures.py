"""Art. 42 through the gateway's HTTP API with the simulation clock: gateway,
dispatch, sla, penalty and media on the real broker, database and S3 server.

The third quarter of 2026 on the demo directory (penalty's read-model of
complaints written as intake and dispatch would have it):
- 恒大地产集团广州公司工程部 (rc-gz.engineering): three 维保修类 complaints:
  named (at least 3 of one category, the default);
- 金碧物业广州公司 (pc-gz): room 8-801 of 恒大山水城 complained about twice:
  named (more than once, the default);
- 营销部 (rc-gz.marketing): two 营销签约类 complaints about two rooms: not named.
The admin moves the clock past the quarter's end; sla announces September's
report, penalty closes the month and issues the analysis by itself, and sla
texts the named heads. The engineering head files the measures with a file;
the property company's are still pending, then overdue after 15 days.
"""
import pytest
from nameko.constants import WEB_SERVER_CONFIG_KEY

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.tokens import issue_tokens
from services.media.service import MediaService
from services.penalty import readmodel
from services.penalty.service import PenaltyService
from services.penalty.tests.test_month_scenario import DEMO_FILE, Api, Gateway, at, ok, until
from services.sla.service import SlaService
from shared.clock import SimulationClock
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

PEOPLE = {"gm": "centre-gm", "deputy": "centre-deputy-gm", "admin": "admin-1",
          "spec": "p01-spec-1", "eng": "rcgz-eng-head", "mkt": "rcgz-mkt-head",
          "prop": "pcgz-head"}
QUARTER = "2026-Q3"
ENG, PROP, MKT = "rc-gz.engineering", "pc-gz", "rc-gz.marketing"
MEASURES = "一、每月排查公共区域渗漏点；二、维保工单 24 小时内响应；三、季度回访维修质量。"


@pytest.fixture
def world(ccrm_config, s3_config, web_config, clean_database, runner_factory):
    # runner_factory last: its containers are killed before the vhost is deleted.
    SimulationClock(clean_database, cache_seconds=0).set(at("2026-09-30 10:00"))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, SMS={"provider": "record"},
                  DB_POOL_SIZE=3, **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, Gateway, DispatchService, SlaService, PenaltyService,
                            MediaService)
    runner.start()
    load_organisation(clean_database, DEMO_FILE, now=at("2026-09-30 10:00"),
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    issued = issue_tokens(clean_database, [{"id": i, "name": i} for i in PEOPLE.values()],
                          at("2026-09-30 10:00"))
    tokens = {entry["person_id"]: entry["token"] for entry in issued}
    api = {key: Api(f"http://{address}", tokens[person]) for key, person in PEOPLE.items()}
    with clean_database.connection() as conn:
        until(lambda: conn.execute("SELECT 1 FROM penalty.directory_state").fetchone(),
              "penalty has the directory")
    seed(clean_database)
    return api


def seed(database):
    rows = [("C1", "GZ-P01", "engineering", "maintenance_repair", "1-101", "07-03"),
            ("C2", "GZ-P01", "engineering", "maintenance_repair", "2-202", "08-12"),
            ("C3", "GZ-P02", "engineering", "maintenance_repair", "3-303", "09-20"),
            ("C4", "GZ-P02", "property", "property_service", "8-801", "07-15"),
            ("C5", "GZ-P02", "property", "property_service", "8-801", "09-02"),
            ("C6", "GZ-P01", "marketing", "sales_contract", "5-501", "08-01"),
            ("C7", "GZ-P01", "marketing", "sales_contract", "6-601", "09-01")]
    with database.transaction() as conn:
        for cid, project, department, category, room, day in rows:
            recorded = at(f"2026-{day} 10:00")
            readmodel.apply_intake_facts(conn, {
                "complaint_id": f"C-GZ-2026-00000{cid[1]}", "project_id": project,
                "region_company_id": "rc-gz", "property_company_id": "pc-gz",
                "category": category, "channel": "visit", "room": room, "order_round": 1,
                "specialist_id": "p01-spec-1", "recorded_at": recorded,
                "first_submitted_at": None, "signed_at": None, "department": department,
                "escalation_level": None, "reopen_count": 0, "holders": [],
                "resolved_on_spot": False}, recorded)
            readmodel.apply_routing(conn, {"complaint_id": f"C-GZ-2026-00000{cid[1]}",
                                           "department": department}, recorded)


def notices(api, template):
    return ok(api.get("/api/notifications", template=template))["items"]


def test_the_analysis_names_only_systemic_departments_and_their_heads_file_measures(world):
    api = world
    error = ok(api["gm"].get(f"/api/analyses/{QUARTER}"), 404)["error"]
    assert "尚未出具" in error["message"]
    assert ok(api["gm"].post(f"/api/analyses/{QUARTER}/issue"), 409)["error"]["code"]

    # The quarter ends: the month's close issues the analysis by itself.
    ok(api["admin"].post("/api/admin/clock", {"now": "2026-10-01T00:05:00+08:00"}))
    analysis = until(lambda: api["gm"].get(f"/api/analyses/{QUARTER}").json()
                     if api["gm"].get(f"/api/analyses/{QUARTER}").status_code == 200 else None,
                     "the analysis issued at the quarter's close", timeout=60)
    assert analysis["criteria"] == {"category_min": 3, "repeat_room_above": 1}
    assert analysis["complaint_count"] == 7
    named = {d["unit_id"]: d for d in analysis["departments"]}
    assert sorted(named) == [PROP, ENG]                # marketing has no systemic problem
    eng, prop = named[ENG], named[PROP]
    assert (eng["unit_name"], eng["head_person_ids"]) == ("恒大地产集团广州公司工程部",
                                                          ["rcgz-eng-head"])
    assert [(r["kind"], r["category"], r["count"]) for r in eng["reasons"]] == [
        ("category", "maintenance_repair", 3)]
    assert [(r["kind"], r["project_name"], r["room"], r["count"]) for r in prop["reasons"]] == [
        ("repeat_room", "恒大山水城", "8-801", 2)]
    assert eng["measures"]["status"] == prop["measures"]["status"] == "pending"
    assert eng["measures_due_at"].startswith("2026-10-16")
    assert analysis["may_file"] == []                  # the GM files nothing

    # Each named head is texted, in zh-CN, naming the quarter, the department and why.
    sms = until(lambda: [n for n in notices(api["eng"], "systemic_measures_requested")
                         if n["status"] == "sent"], "the engineering head's SMS sent")
    assert len(sms) == 1 and sms[0]["mobile"] == "13802100015"
    assert "2026年第3季度" in sms[0]["text"] and "恒大地产集团广州公司工程部" in sms[0]["text"]
    assert "“维保修类”投诉 3 宗" in sms[0]["text"] and "2026-10-16" in sms[0]["text"]
    prop_sms = until(lambda: notices(api["prop"], "systemic_measures_requested"),
                     "the property head's SMS")
    assert "金碧物业广州公司" in prop_sms[0]["text"]
    assert "8-801 重复投诉 2 次" in prop_sms[0]["text"]
    assert notices(api["mkt"], "systemic_measures_requested") == []

    # Who may file what.
    body = {"unit_id": ENG, "text": MEASURES}
    path = f"/api/analyses/{QUARTER}/measures"
    assert ok(api["spec"].post(path, body), 403)["error"]["code"]
    assert ok(api["gm"].post(path, body), 403)["error"]["code"]
    assert ok(api["mkt"].post(path, body), 403)["error"]["code"]      # not his department
    assert "未列出" in ok(api["mkt"].post(path, dict(body, unit_id=MKT)), 404)["error"]["message"]
    assert ok(api["eng"].post("/api/analyses/2026-Q2/measures", body), 404)["error"]["code"]
    short = ok(api["eng"].post(path, dict(body, text="好的")), 400)["error"]
    assert "text" in short["fields"]
    others = api["prop"].upload("material")
    wrong = ok(api["eng"].post(path, dict(body, media_ids=[others])), 400)["error"]
    assert "不是您本人上传的文件" in wrong["fields"]["media_ids"][0]

    # The engineering head files, with a file, once.
    mine = ok(api["eng"].get(f"/api/analyses/{QUARTER}"))
    assert mine["may_file"] == [ENG]
    assert {d["unit_id"]: d["mine"] for d in mine["departments"]} == {ENG: True, PROP: False}
    attachment = api["eng"].upload("material")
    ok(api["admin"].post("/api/admin/clock", {"advance": "PT9H"}))
    filed = ok(api["eng"].post(path, dict(body, media_ids=[attachment])), 201)
    assert (filed["unit_id"], filed["filed_by"], filed["late"]) == (ENG, "rcgz-eng-head", False)
    assert filed["filed_at"].startswith("2026-10-01T09:0") and filed["media_ids"] == [attachment]
    assert "不能重复报备" in ok(api["eng"].post(path, body), 409)["error"]["message"]

    centre = ok(api["gm"].get(f"/api/analyses/{QUARTER}"))
    eng = next(d for d in centre["departments"] if d["unit_id"] == ENG)
    assert (eng["measures"]["status"], eng["measures"]["filed"]["text"]) == ("filed", MEASURES)
    told = until(lambda: notices(api["gm"], "systemic_measures_filed"), "the GM told")
    assert "恒大地产集团广州公司工程部" in told[0]["text"] and "已报备" in told[0]["text"]
    # Another head sees where engineering stands, not what it wrote.
    seen = ok(api["prop"].get(f"/api/analyses/{QUARTER}"))
    eng_seen = next(d for d in seen["departments"] if d["unit_id"] == ENG)
    assert eng_seen["measures"]["status"] == "filed"
    assert eng_seen["measures"]["filed"]["text"] is None and seen["may_file"] == [PROP]

    # Fifteen days on, the property company's measures are overdue.
    ok(api["admin"].post("/api/admin/clock", {"now": "2026-10-16T00:06:00+08:00"}))
    late = ok(api["gm"].get(f"/api/analyses/{QUARTER}"))
    statuses = {d["unit_id"]: d["measures"]["status"] for d in late["departments"]}
    assert statuses == {ENG: "filed", PROP: "overdue"}
