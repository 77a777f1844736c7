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
- A routing that failed tells the admin and the GM.
- The deputy GM accepts a late-recorded blocked visit's and callback's stated
  times through `POST /api/complaints/{id}/acts/{act_id}/accept-time`: the
  misses are withdrawn.
- A complaint voided by the deputy GM (`POST /api/complaints/{id}/void`)
  stops its clocks and withdraws its misses: penalty's ledger nets ¥0.
- Art. 13: the customer gets the signing link by SMS (again when re-sent);
  the specialist's 09:30 reminder lists it while 客户未签名.
- Art. 32, 33: the major-complaint meeting is due 24 h after the escalation
  (warned, escalated to the GM), the GM lists the major complaints every
  morning, the VP and the chairman get the monthly list on the 1st.
- The overdue board asks sla once (`list_overdue`): days and tier."""
import re
from datetime import datetime, timedelta
from decimal import Decimal
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
from services.penalty.service import PenaltyService
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
          "leader": "pcgz-vp-service", "chairman": "pcgz-chairman", "vp": "group-vp"}


@pytest.fixture
def suite(runner_factory, ccrm_config, s3_config, web_config, clean_database, rabbit_config):
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, SMS={"provider": "record"},
                  DB_POOL_SIZE=3, **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, GatewayService, IntakeService, DispatchService,
                            MediaService, SlaService, PenaltyService)
    runner.start()
    # After the start: sla's queue is bound when directory.loaded leaves.
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    issued = issue_tokens(clean_database, [{"id": pid, "name": key} for key, pid in
                                           PEOPLE.items()], NOW)
    tokens = {entry["person_id"]: entry["token"] for entry in issued}
    with clean_database.connection() as conn:
        eventually(lambda: conn.execute("SELECT version FROM sla.directory").fetchone())
        eventually(lambda: conn.execute("SELECT 1 FROM penalty.directory_state").fetchone())
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


def sent_to(api, who, template):
    """Every notification of a template sent to the person, once there is one."""
    return eventually(lambda: api["admin"].get(
        f"/api/notifications?template={template}&person_id={PEOPLE[who]}")["items"] or None)


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


def outbox(database, routing_key, cid):
    """sla's published events of a type about the complaint (their data)."""
    with database.connection() as conn:
        return [row["data"] for row in conn.execute(
            "SELECT body::json->'data' AS data FROM sla.outbox WHERE routing_key = %s "
            "AND body::json->>'complaint_id' = %s ORDER BY id", (routing_key, cid))]


def test_a_blocked_visit_and_a_callback_stated_before_their_receipt_until_the_deputy_accepts(
        suite):
    """The issue's example through the real routes: a blocked visit recorded at
    14:00 stating 10:05, on an order routed at 10:00, is late (visit missed by
    receipt, the plan's ¥300 stands) until the deputy GM accepts the stated
    time; then both misses are withdrawn. The same for the centre's callback:
    due 14:30 (30 min after the blocked record), recorded 15:00 stating 14:20."""
    api, _, database = suite
    set_clock(api, at("09:00"))
    cid = api["spec"].post("/api/complaints", form(contact_ended_at=at("09:00").isoformat()))["id"]
    base = f"/api/complaints/{cid}"
    sign(api, cid, at("09:10"), at("09:20"), at("10:00"))     # routed at 10:00: visit due 11:00
    set_clock(api, at("14:00"))
    visit = api["head"].post(f"{base}/visits", {
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

    set_clock(api, at("14:31"))            # the callback's 14:30 passed: missed, escalated
    deadlines(api, cid, lambda t: t.get("blocked_callback", {}).get("state") == "missed")
    api["deputy"].post(f"{base}/acts/{visit['id']}/accept-time",
                       {"reason": "山区无信号，回项目部后补录"})
    by_rule = deadlines(api, cid, lambda t: t["visit"]["state"] == "met")
    assert datetime.fromisoformat(by_rule["visit"]["done_at"]) == at("10:05")
    assert by_rule["plan"]["state"] == "cancelled"
    assert sorted(w["rule"] for w in outbox(database, "deadline.withdrawn", cid)) == [
        "plan", "visit"]

    eventually(lambda: api["staff"].get(base)["callback"]["due"])
    set_clock(api, at("15:00"))
    called = api["staff"].post(f"{base}/callbacks", {
        "outcome": "reached", "callback_at": at("14:20").isoformat(),
        "note": "客户同意明日上门"})
    [callback] = called["callbacks"]
    by_rule = deadlines(api, cid, lambda t: t["blocked_callback"].get("final"))
    assert by_rule["blocked_callback"]["state"] == "missed"           # judged at 15:00
    assert by_rule["blocked_callback"]["late_seconds"] == 30 * 60
    api["deputy"].post(f"{base}/acts/{callback['callback_id']}/accept-time",
                       {"reason": "回访电话记录可查"})
    by_rule = deadlines(api, cid, lambda t: t["blocked_callback"]["state"] == "met")
    assert datetime.fromisoformat(by_rule["blocked_callback"]["done_at"]) == at("14:20")
    assert sorted(w["rule"] for w in outbox(database, "deadline.withdrawn", cid)) == [
        "blocked_callback", "plan", "visit"]


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


# -- a complaint voided by mistake costs nobody anything --------------------------------------

def ledger(api, cid):
    """Penalty's order_submit lines of the specialist about the complaint (amounts)."""
    page = api["gm"].get(f"/api/deductions?person_id={PEOPLE['spec']}&rule=order_submit"
                         "&limit=1000")
    return sorted(Decimal(line["amount"]) for line in page["items"]
                  if line["complaint_id"] == cid)


def test_a_voided_complaint_stops_its_clocks_and_penalty_nets_zero(suite):
    """Two complaints recorded at 10:00 and left unsubmitted past 10:30 (the
    deputy GM told of each). The first is voided at 10:40 (a duplicate): its
    open miss is withdrawn and the hourly notice of 11:30 never comes. The
    second is submitted at 10:47 (17 minutes late: 4 started 5-minute blocks
    = ¥400, Art. 18) and voided at 10:50: penalty reverses the ¥400 (net ¥0)
    and its order_sign clock (due 11:47) never warns nor fires."""
    api, _, database = suite
    first = api["spec"].post("/api/complaints", form(contact_ended_at=NOW.isoformat()))["id"]
    second = api["spec"].post("/api/complaints", form(contact_ended_at=NOW.isoformat(),
                                                      room="3-2-1802"))["id"]
    set_clock(api, at("10:31"))
    for cid in (first, second):
        notices(api, "deputy", cid, "deadline_missed")

    set_clock(api, at("10:40"))
    voided = api["deputy"].post(f"/api/complaints/{first}/void",
                                {"reason": f"与 {second} 重复登记"})
    assert voided["state"] == "voided"
    by_rule = deadlines(api, first, lambda t: t["order_submit"]["state"] == "cancelled")
    assert by_rule["order_submit"]["final"]
    [withdrawn] = outbox(database, "deadline.withdrawn", first)
    assert (withdrawn["rule"], withdrawn["reason"]) == ("order_submit", "voided")

    set_clock(api, at("10:47"))
    api["spec"].post(f"/api/complaints/{second}/order/submit")
    assert eventually(lambda: ledger(api, second) or None) == [Decimal("400.00")]
    set_clock(api, at("10:50"))
    api["deputy"].post(f"/api/complaints/{second}/void", {"reason": "客户信息登记错误"})
    by_rule = deadlines(api, second, lambda t: t["order_sign"]["state"] == "cancelled")
    assert by_rule["order_submit"]["state"] == "cancelled"
    assert eventually(lambda: (lambda amounts: amounts if len(amounts) == 2 else None)(
        ledger(api, second))) == [Decimal("-400.00"), Decimal("400.00")]

    set_clock(api, at("13:00", day=28))           # past every hourly notice and order_sign
    with database.connection() as conn:
        eventually(lambda: conn.execute("SELECT count(*) AS n FROM sla.timers WHERE "
                                        "state = 'armed' AND due_at <= %s",
                                        (at("13:00", day=28),)).fetchone()["n"] == 0)
        armed = conn.execute("SELECT count(*) AS n FROM sla.timers WHERE complaint_id = ANY(%s) "
                             "AND state = 'armed'", ([first, second],)).fetchone()["n"]
    assert armed == 0
    for cid in (first, second):
        assert none_of(api, "gm", cid, "deadline_missed") == 0        # no hourly notice
        assert none_of(api, "deputy", cid, "deadline_missed") == 1    # the 10:30 one only
        assert none_of(api, "deputy", cid, "deadline_warning") == 0   # order_sign's 11:37
        assert sum(ledger(api, cid)) == 0
    reminded = api["admin"].get(f"/api/notifications?template=daily_reminder&person_id="
                                f"{PEOPLE['spec']}")["items"]
    assert not any(first in n["text"] or second in n["text"] for n in reminded)


# -- Art. 13: the signing link, and the specialist's unsigned list ---------------------------

def customer_links(api, cid, count):
    def found():
        page = api["admin"].get(f"/api/notifications?complaint_id={cid}&template=signing_link")
        return sorted(page["items"], key=lambda n: n["created_at"]) \
            if page["total"] >= count else None
    return eventually(found)


def test_the_customer_gets_the_signing_link_and_the_0930_reminder_lists_it_unsigned(suite):
    api, _, _ = suite
    cid = api["spec"].post("/api/complaints", form(contact_ended_at=NOW.isoformat()))["id"]
    [sms] = customer_links(api, cid, 1)
    assert sms["recipient_person_id"] is None and sms["mobile"] == "13812345678"
    pattern = (r"【恒大售后】王小明您好，您在恒大御景半岛房号3-2-1801的投诉已登记（编号"
               + re.escape(cid) + r"）。请于11月28日 10:00前打开以下链接核对投诉记录并签名确认："
               r"(http://127\.0\.0\.1:8000/sign/[A-Za-z0-9_-]+) 。如非本人投诉请忽略本短信。")
    first_link = re.fullmatch(pattern, sms["text"]).group(1)
    eventually(lambda: customer_links(api, cid, 1)[0]["status"] == "sent")   # to the gateway

    set_clock(api, at("15:00"))
    api["spec"].post(f"/api/complaints/{cid}/signing-link")
    [_, again] = customer_links(api, cid, 2)
    assert "已为您重新发送签名链接，此前发送的链接已失效。" in again["text"]
    assert "请于11月28日 15:00前" in again["text"]
    second_link = re.search(r"http://127\.0\.0\.1:8000/sign/[A-Za-z0-9_-]+", again["text"])
    assert second_link.group(0) != first_link

    set_clock(api, at("09:30", day=28))
    [reminder] = sent_to(api, "spec", "daily_reminder")
    assert reminder["text"] == (
        f"【恒大售后】李思琪您好，您有1件投诉客户未签名：{cid}（恒大御景半岛，房号3-2-1801）。"
        "请联系客户通过短信链接签名确认，必要时重新发送签名链接（第十三条）。")


# -- Art. 32, 33: major complaints ------------------------------------------------------------

def test_the_major_meeting_is_due_24_hours_after_the_escalation_and_the_lists(suite):
    """Escalated (major) at 12:00 on 27 Nov: the property company's chairman
    must hold the meeting by 12:00 on the 28th (warned at 10:00); the GM's
    08:30 list names it from the next morning; at 12:00 it is escalated to the
    GM (no fine); a meeting held at 13:00 is an hour late. On 1 Dec at 09:00
    the VP and the chairman get the month's list (Art. 32)."""
    api, _, _ = suite
    cid = api["spec"].post("/api/complaints", form(contact_ended_at=NOW.isoformat()))["id"]
    sign(api, cid, at("10:10"), at("10:20"), at("10:30"))
    set_clock(api, at("12:00"))
    api["gm"].post(f"/api/complaints/{cid}/escalate", {"level": "major",
                                                        "reason": "多户业主联名投诉"})
    by_rule = deadlines(api, cid, lambda t: "major_meeting" in t)
    meeting = by_rule["major_meeting"]
    # (the clock runs on after it is set: the escalation is at 12:00 and a few ms)
    assert abs(datetime.fromisoformat(meeting["due_at"]) - at("12:00", day=28)) \
        < timedelta(seconds=30)
    assert (meeting["person_id"], meeting["article"]) == (PEOPLE["chairman"], "33")

    set_clock(api, at("08:30", day=28))
    [daily] = sent_to(api, "gm", "daily_major_list")
    assert daily["text"] == ("【恒大售后】周明华您好，11月28日重大、群体性及共性问题投诉督办清单："
                             f"共1件：{cid}（重大投诉，第2天）。请督促董事长尽快解决（第三十三条）。")

    set_clock(api, at("10:00", day=28))
    [warning] = notices(api, "chairman", cid, "deadline_warning")
    assert "「重大投诉专题会议（升级后24小时内）」须于11月28日 12:00前完成" in warning["text"]
    set_clock(api, at("12:00", day=28))
    [raised] = notices(api, "gm", cid, "escalation")
    assert "「重大投诉专题会议（升级后24小时内）」已超时" in raised["text"]
    assert "叶永康" in raised["text"]

    set_clock(api, at("13:00", day=28))
    api["chairman"].post(f"/api/complaints/{cid}/meetings", {
        "held_at": at("13:00", day=28).isoformat(), "responsible": "物业公司工程部",
        "solution": "更换整栋楼顶防水层", "due_at": at("18:00", day=10).replace(
            month=12).isoformat()})
    by_rule = deadlines(api, cid, lambda t: t["major_meeting"].get("final"))
    assert by_rule["major_meeting"]["state"] == "missed"
    assert by_rule["major_meeting"]["late_seconds"] == 3600
    assert "major_minutes" in by_rule

    set_clock(api, datetime(2026, 12, 1, 9, 0, tzinfo=ZONE))
    endings = {"vp": "请组织地区公司、物业公司召开专题会议，制定专项整改要求（第三十二条）。",
               "chairman": "请按要求参加专题会议并落实专项整改（第三十二条）。"}
    for who, ending in endings.items():
        [monthly] = sent_to(api, who, "monthly_major_list")
        assert monthly["text"].endswith(
            f"截至12月1日尚未结案的重大、群体性及共性问题投诉共1件：{cid}（重大投诉，11月27日升级）。"
            + ending)


# -- the overdue board asks sla once ----------------------------------------------------------

def test_the_overdue_board_shows_sla_s_days_and_tier(suite):
    """Requested completion 28 Nov 18:00 (signed and routed 27 Nov 10:30):
    at 8 Dec 18:00:30 it is overdue day 11 (started 24 h periods): tier 2."""
    api, _, _ = suite
    late = api["spec"].post("/api/complaints", form(
        contact_ended_at=NOW.isoformat(),
        requested_completion_at=at("18:00", day=28).isoformat()))["id"]
    on_time = api["spec"].post("/api/complaints", form(
        contact_ended_at=NOW.isoformat(), room="1-1-0101",
        requested_completion_at=at("18:00", day=20).replace(month=12).isoformat()))["id"]
    sign(api, late, at("10:10"), at("10:20"), at("10:30"))
    sign(api, on_time, at("10:31"), at("10:32"), at("10:33"))
    set_clock(api, datetime(2026, 12, 8, 18, 0, 30, tzinfo=ZONE))
    board = api["gm"].get("/api/board/overdue")
    assert board["in_work"] == 2
    [item] = board["items"]
    assert (item["complaint_id"], item["days_overdue"], item["tier"]) == (late, 11, 2)
    assert datetime.fromisoformat(item["completion_due_at"]) == at("18:00", day=28)
    assert item["handler_id"] == PEOPLE["head"] and item["department_name"]
