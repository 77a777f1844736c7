"""Issue 13, sla's part (deadlines), end to end through the gateway's HTTP API
(the suite: tests/fair_sla_steps.py).

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

import pytest

from services.intake.tests.helpers import NOW, form
from shared.testing.polling import eventually
from tests.fair_sla_steps import (
    PEOPLE,
    at,
    deadlines,
    none_of,
    notices,
    outbox,
    set_clock,
    sign,
)

pytestmark = pytest.mark.integration


def test_warned_at_10_20_the_deputy_told_at_10_30_the_running_fine_every_hour(fair_sla):
    api, _, _ = fair_sla
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



def test_a_blocked_visit_and_a_callback_stated_before_their_receipt_until_the_deputy_accepts(
        fair_sla):
    """The issue's example through the real routes: a blocked visit recorded at
    14:00 stating 10:05, on an order routed at 10:00, is late (visit missed by
    receipt, the plan's ¥300 stands) until the deputy GM accepts the stated
    time; then both misses are withdrawn. The same for the centre's callback:
    due 14:30 (30 min after the blocked record), recorded 15:00 stating 14:20."""
    api, _, database = fair_sla
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
    # Judged at its receipt: 15:00 plus the moment the request took, the
    # simulation clock running on after it was set.
    assert 30 * 60 <= by_rule["blocked_callback"]["late_seconds"] < 31 * 60
    api["deputy"].post(f"{base}/acts/{callback['callback_id']}/accept-time",
                       {"reason": "回访电话记录可查"})
    by_rule = deadlines(api, cid, lambda t: t["blocked_callback"]["state"] == "met")
    assert datetime.fromisoformat(by_rule["blocked_callback"]["done_at"]) == at("14:20")
    assert sorted(w["rule"] for w in outbox(database, "deadline.withdrawn", cid)) == [
        "blocked_callback", "plan", "visit"]


def test_a_requested_time_past_at_routing_is_replaced_by_the_time_agreed_at_the_visit(fair_sla):
    api, _, _ = fair_sla
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


def test_a_failed_routing_tells_the_admin_and_the_gm(fair_sla):
    api, producers, _ = fair_sla
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
