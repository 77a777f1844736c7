"""Issue 13, sla's part (the complaint's life around the clocks), end to end
through the gateway's HTTP API (the suite: tests/fair_sla_steps.py).

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

import pytest

from services.intake.tests.helpers import NOW, form
from shared.testing.polling import eventually
from tests.fair_sla_steps import (
    PEOPLE,
    ZONE,
    at,
    customer_links,
    deadlines,
    ledger,
    none_of,
    notices,
    outbox,
    sent_to,
    set_clock,
    sign,
)

pytestmark = pytest.mark.integration


def test_a_voided_complaint_stops_its_clocks_and_penalty_nets_zero(fair_sla):
    """Two complaints recorded at 10:00 and left unsubmitted past 10:30 (the
    deputy GM told of each). The first is voided at 10:40 (a duplicate): its
    open miss is withdrawn and the hourly notice of 11:30 never comes. The
    second is submitted at 10:47 (17 minutes late: 4 started 5-minute blocks
    = ¥400, Art. 18) and voided at 10:50: penalty reverses the ¥400 (net ¥0)
    and its order_sign clock (due 11:47) never warns nor fires."""
    api, _, database = fair_sla
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


def test_the_customer_gets_the_signing_link_and_the_0930_reminder_lists_it_unsigned(fair_sla):
    api, _, _ = fair_sla
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

def test_the_major_meeting_is_due_24_hours_after_the_escalation_and_the_lists(fair_sla):
    """Escalated (major) at 12:00 on 27 Nov: the property company's chairman
    must hold the meeting by 12:00 on the 28th (warned at 10:00); the GM's
    08:30 list names it from the next morning; at 12:00 it is escalated to the
    GM (no fine); a meeting held at 13:00 is an hour late. On 1 Dec at 09:00
    the VP and the chairman get the month's list (Art. 32)."""
    api, _, _ = fair_sla
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

def test_the_overdue_board_shows_sla_s_days_and_tier(fair_sla):
    """Requested completion 28 Nov 18:00 (signed and routed 27 Nov 10:30):
    at 8 Dec 18:00:30 it is overdue day 11 (started 24 h periods): tier 2."""
    api, _, _ = fair_sla
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
