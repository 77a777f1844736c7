"""Issue 13, sla's part, end to end through the gateway's HTTP API: gateway,
intake, dispatch, media and sla on the real broker, database and S3 server,
an admin moving the simulation clock between the steps.

- Contact ended 10:00: the specialist has a `deadline_warning` at 10:20;
  still unsubmitted at 10:30, the deputy GM a `deadline_missed`; at 11:30
  the running fine (¥100 per started 5 minutes, Art. 18) is announced to the
  specialist and the GM.
- A blocked visit recorded three hours after the time it states is judged by
  its receipt: the visit is late, the plan's fine stands; once the deputy GM
  accepts the stated time (the acceptance event, published here as dispatch
  would), both misses are withdrawn.
- A requested completion time that passed before the order was signed does
  not make the complaint overdue: the deadline is the time agreed at the visit.
- A routing that failed tells the admin and the GM."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from nameko.constants import WEB_SERVER_CONFIG_KEY

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.service import GatewayService
from services.gateway.tokens import issue_tokens
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.intake.tests.helpers import NOW, form
from services.media.service import MediaService
from services.sla.service import SlaService
from services.sla.tests.producers import Producers
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.outbox import Outbox
from shared.testing.polling import eventually
from tests.test_e2e_closure import Api

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Asia/Shanghai")

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
PEOPLE = {"spec": "p01-spec-1", "deputy": "centre-deputy-gm", "gm": "centre-gm",
          "staff": "centre-staff-1", "admin": "admin-1", "head": "pcgz-head",
          "leader": "pcgz-vp-service"}


@pytest.fixture
def suite(runner_factory, ccrm_config, s3_config, web_config, clean_database, rabbit_config):
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, SMS={"provider": "record"},
                  DB_POOL_SIZE=3, **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, GatewayService, IntakeService, DispatchService,
                            MediaService, SlaService)
    runner.start()
    # After the start: sla's queue is bound when directory.loaded leaves.
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    issued = issue_tokens(clean_database, [{"id": pid, "name": key} for key, pid in
                                           PEOPLE.items()], NOW)
    tokens = {entry["person_id"]: entry["token"] for entry in issued}
    with clean_database.connection() as conn:
        eventually(lambda: conn.execute("SELECT version FROM sla.directory").fetchone())
    producers = Producers(clean_database, rabbit_config["AMQP_URI"])
    yield {key: Api(f"http://{address}", tokens[pid]) for key, pid in PEOPLE.items()}, \
        producers, clean_database
    producers.close()
    clear_caches()


def at(clock, day=27):
    """A Shanghai time on 2026-11-<day>."""
    hour, minute = (int(x) for x in clock.split(":"))
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE)


def set_clock(api, when):
    return datetime.fromisoformat(api["admin"].post("/api/admin/clock",
                                                    {"now": when.isoformat()})["now"])


def notices(api, who, cid, template, count=1):
    """The person's own notifications of a template about the complaint, once
    there are `count` of them (GET /api/notifications)."""
    def found():
        page = api[who].get(f"/api/notifications?complaint_id={cid}&template={template}"
                            f"&person_id={PEOPLE[who]}")
        return page["items"] if page["total"] >= count else None
    return eventually(found)


def none_of(api, who, cid, template):
    return api[who].get(f"/api/notifications?complaint_id={cid}&template={template}"
                        f"&person_id={PEOPLE[who]}")["total"]


def deadlines(api, cid, check):
    def found():
        timers = api["gm"].get(f"/api/complaints/{cid}/deadlines")["timers"]
        by_rule = {t["rule"]: t for t in timers}
        return by_rule if check(by_rule) else None
    return eventually(found)


def sign(api, cid, submit, review, signed):
    set_clock(api, submit)
    api["spec"].post(f"/api/complaints/{cid}/order/submit")
    set_clock(api, review)
    api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    set_clock(api, signed)
    api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve", "reason": "同意"})
    eventually(lambda: api["staff"].get(f"/api/complaints/{cid}")["handler_id"])


def test_warned_at_10_20_the_deputy_told_at_10_30_the_running_fine_every_hour(suite):
    api, _, _ = suite
    cid = api["spec"].post("/api/complaints", form(contact_ended_at=NOW.isoformat()))["id"]
    set_clock(api, at("10:19"))
    assert none_of(api, "spec", cid, "deadline_warning") == 0
    set_clock(api, at("10:20"))
    [warning] = notices(api, "spec", cid, "deadline_warning")
    for part in (cid, "督办令报批", "11月27日 10:30", "每延迟5分钟扣罚责任人100元", "第十八条"):
        assert part in warning["text"]
    assert warning["recipient_person_id"] == PEOPLE["spec"]
    assert none_of(api, "deputy", cid, "deadline_missed") == 0

    set_clock(api, at("10:30"))
    [told] = notices(api, "deputy", cid, "deadline_missed")
    assert "督办令报批" in told["text"] and "李思琪" in told["text"]

    set_clock(api, at("11:30"))
    [running] = notices(api, "gm", cid, "deadline_missed")
    assert "已超时1小时" in running["text"] and "100元" in running["text"]
    assert len(notices(api, "spec", cid, "deadline_missed")) == 1

    sign(api, cid, at("11:35"), at("11:45"), at("11:55"))
    set_clock(api, at("13:00"))
    by_rule = deadlines(api, cid, lambda t: t.get("order_submit", {}).get("final"))
    assert by_rule["order_submit"]["state"] == "missed"
    assert by_rule["order_submit"]["late_seconds"] >= 65 * 60
    assert len(api["gm"].get(f"/api/notifications?complaint_id={cid}&template="
                             "deadline_missed")["items"]) == 1       # no hourly notice after


def test_a_blocked_visit_stated_hours_before_its_receipt_is_late_until_accepted(suite):
    api, producers, database = suite
    set_clock(api, at("09:00"))
    cid = api["spec"].post("/api/complaints", form(contact_ended_at=at("09:00").isoformat()))["id"]
    sign(api, cid, at("09:10"), at("09:20"), at("10:00"))     # routed at 10:00: visit due 11:00
    set_clock(api, at("14:00"))
    api["head"].post(f"/api/complaints/{cid}/visits", {
        "outcome": "blocked", "attempted_at": at("10:05").isoformat(),
        "reason": "客户不在家且拒绝改约"})
    by_rule = deadlines(api, cid, lambda t: t.get("visit", {}).get("final")
                        and t["plan"]["state"] == "missed")
    assert by_rule["visit"]["state"] == "missed"
    assert by_rule["visit"]["late_seconds"] >= 2 * 3600 + 59 * 60     # judged at 14:00
    assert by_rule["plan"]["state"] == "missed"                       # the ¥300 stands
    # The handler's supervising leader was told of both misses (Art. 35: 20% and ¥300).
    told = [n["text"] for n in notices(api, "leader", cid, "deadline_missed", 2)]
    assert any("20%月度综合奖金" in t for t in told) and any("300元" in t for t in told)

    with database.connection() as conn:
        visit_id = conn.execute("SELECT details->>'blocked_visit_id' AS id FROM sla.timers "
                                "WHERE complaint_id = %s AND rule = 'visit'",
                                (cid,)).fetchone()["id"]
    producers.dispatch("visit.time_accepted", {
        "complaint_id": cid, "project_id": "GZ-P01", "order_round": 1,
        "category": "maintenance_repair", "department": "property",
        "handler_id": PEOPLE["head"], "major": False, "visit_id": visit_id,
        "outcome": "blocked", "stated_at": at("10:05").isoformat(),
        "received_at": at("14:00").isoformat(), "accepted_by": PEOPLE["deputy"],
        "accepted_at": at("14:30").isoformat(), "reason": "山区无信号，回项目部后补录"},
        at("14:30"), cid)
    by_rule = deadlines(api, cid, lambda t: t["visit"]["state"] == "met")
    assert datetime.fromisoformat(by_rule["visit"]["done_at"]) == at("10:05")
    assert by_rule["plan"]["state"] == "cancelled"
    with database.connection() as conn:
        withdrawn = conn.execute("SELECT body::json->'data'->>'rule' AS rule FROM sla.outbox "
                                 "WHERE routing_key = 'deadline.withdrawn'").fetchall()
    assert sorted(r["rule"] for r in withdrawn) == ["plan", "visit"]


def test_a_requested_time_past_at_routing_is_replaced_by_the_time_agreed_at_the_visit(suite):
    api, _, _ = suite
    cid = api["spec"].post("/api/complaints", form(
        contact_ended_at=at("09:55").isoformat(),
        requested_completion_at=at("12:00").isoformat()))["id"]
    sign(api, cid, at("10:10"), at("10:20"), at("12:30"))     # routed after 12:00
    by_rule = deadlines(api, cid, lambda t: "visit" in t)
    assert "completion" not in by_rule
    visited = set_clock(api, at("13:00"))
    api["head"].post(f"/api/complaints/{cid}/visits", {
        "outcome": "done", "visited_at": visited.isoformat(), "plan": "更换防水层",
        "agreed_completion_at": at("18:00", day=29).isoformat(),
        "customer_signature_media_id": api["head"].upload("signature", cid),
        "photo_media_ids": []})
    by_rule = deadlines(api, cid, lambda t: "completion" in t)
    assert datetime.fromisoformat(by_rule["completion"]["due_at"]) == at("18:00", day=29)
    assert by_rule["completion"]["state"] == "armed" and by_rule["visit"]["state"] == "met"


def test_a_failed_routing_tells_the_admin_and_the_gm(suite):
    api, producers, _ = suite
    cid = api["spec"].post("/api/complaints", form(contact_ended_at=NOW.isoformat()))["id"]
    producers.dispatch("routing.failed", {
        "complaint_id": cid, "project_id": "GZ-P01", "order_round": 1,
        "category": "maintenance_repair", "department": "property", "handler_id": None,
        "major": False, "trigger": "order_signed", "role": "head", "unit_id": "pc-gz",
        "message": "金碧物业广州公司一把手空缺", "directory_version": 1,
        "failed_at": NOW.isoformat()}, NOW, cid)
    for who in ("admin", "gm"):
        [sent] = notices(api, who, cid, "routing_failed")
        assert cid in sent["text"] and "一把手空缺" in sent["text"]
        assert sent["recipient_person_id"] == PEOPLE[who]
