"""Issue 13, the articles still missing (pure domain, the simulation of
`Timeline`): a complaint voided by mistake stops every clock and withdraws
its misses; the customer's signing link by SMS and the specialist's 09:30
list of complaints still 客户未签名 (Art. 13); the major-complaint meeting due
24 h after the escalation, the GM's daily list and the monthly list to the VP
and the chairmen (Art. 32, 33); the overdue list (one call for the board).

Expected texts and times are written by hand from the regulation."""
from datetime import date, timedelta

from services.sla.model import Directory, Person
from services.sla.rules import Settings
from services.sla.tests.helpers import (
    CID,
    DEPUTY,
    GM,
    HANDLER,
    SPECIALIST,
    Timeline,
    at,
    directory,
    facts,
    holder,
)
from services.sla.views import overdue_page
from shared import roles

VP = "group-vp"
RC_CHAIRMAN, PC_CHAIRMAN = "rcgz-chairman", "pcgz-chairman"
OTHER = "C-GZ-2026-000124"


def art_directory():
    base = directory()
    people = dict(base.people, **{p.id: p for p in (
        Person(VP, "郑国栋", "13902000106", (roles.VP,)),
        Person(RC_CHAIRMAN, "何振华", "13802100001", (roles.CHAIRMAN,)),
        Person(PC_CHAIRMAN, "叶永康", "13602200001", (roles.CHAIRMAN,)))})
    return Directory(people, base.projects, 1, {"GZ-P01": (RC_CHAIRMAN, PC_CHAIRMAN)})


def timeline(**settings):
    return Timeline(Settings(**settings), art_directory())


def received(t, contact="10:00", cid=CID, **extra):
    c0 = at(contact)
    t.apply("complaint.received", facts(contact_ended_at=c0, resolved_on_spot=False,
                                        signature_media_id=None, complaint_id=cid, **extra),
            c0, complaint_id=cid)
    return c0


def submitted(t, when, contact="10:00"):
    c0, s = at(contact), at(when)
    t.apply("order.submitted", facts("order_submitted", contact_ended_at=c0, first_submitted_at=s,
                                     resubmitted=False,
                                     holders=[holder(SPECIALIST, roles.SPECIALIST, c0, s),
                                              holder(DEPUTY, roles.CENTRE_DEPUTY_GM, s)]), s)


def voided(t, when, state_facts):
    t.apply("complaint.voided", facts("voided", voided_by=DEPUTY, voided_at=at(when).isoformat(),
                                      reason="与 C-GZ-2026-000100 重复登记",
                                      previous_state="order_drafted", **state_facts), at(when))


def texts(t, template, person):
    return [text for who, text in t.sent(template) if who == person]


# -- void (a complaint recorded by mistake) ----------------------------------------------

def test_a_voided_complaint_withdraws_its_open_miss_and_nothing_fires_after():
    """Contact 10:00, unsubmitted at 10:30 (the deputy GM told), voided at
    10:40: the open order_submit miss is withdrawn, the hourly notice of 11:30
    never comes, and no list shows it."""
    t = timeline()
    received(t)
    t.advance_to(at("10:35"))
    assert len(t.of("deadline.missed", rule="order_submit")) == 1
    voided(t, "10:40", {})
    [withdrawn] = t.of("deadline.withdrawn")
    assert (withdrawn["rule"], withdrawn["reason"]) == ("order_submit", "voided")
    assert t.timer("order_submit").state == "cancelled"
    assert all(timer.settled for timer in t.timers.values())
    sent_before = len(t.messages)
    t.advance_to(at("18:00", day=28))
    t.run_job("daily_reminder", date(2026, 11, 28), at("09:30", day=28))
    assert len(t.messages) == sent_before
    assert t.complaint.voided_at == at("10:40") and t.complaint.voided


def test_a_voided_complaint_withdraws_a_final_miss_and_cancels_the_order_sign_clock():
    """Submitted late at 10:47 (final miss: 17 min), voided at 10:50: the
    final miss is withdrawn (penalty reverses its ¥400), order_sign (due
    11:47) and its warning (11:37) are cancelled."""
    t = timeline()
    received(t)
    submitted(t, "10:47")
    [final] = t.of("deadline.missed", rule="order_submit", final=True)
    assert final["late_seconds"] == 17 * 60
    assert t.timer("order_sign").due_at == at("11:47")
    voided(t, "10:50", {"first_submitted_at": at("10:47")})
    [withdrawn] = t.of("deadline.withdrawn")
    assert withdrawn["rule"] == "order_submit" and withdrawn["timer_id"] == final["timer_id"]
    [cancelled] = t.of("deadline.cancelled")
    assert (cancelled["rule"], cancelled["reason"]) == ("order_sign", "voided")
    t.advance_to(at("14:00"))
    assert not t.sent("deadline_warning", rule="order_sign")
    # Only order_submit's, before the void: open at 10:30, final at 10:47.
    assert [m["final"] for m in t.of("deadline.missed")] == [False, True]


def test_an_older_event_arriving_after_the_void_does_not_restart_a_clock():
    t = timeline()
    received(t)
    voided(t, "10:10", {})
    t.apply("complaint.received", facts(contact_ended_at=at("10:00"), resolved_on_spot=False,
                                        signature_media_id=None), at("10:00"))
    assert all(timer.settled for timer in t.timers.values())


# -- Art. 13: the signing link and the unsigned list -------------------------------------

def signature_requested(t, when, token, resent=False, cid=CID):
    t.apply("complaint.signature_requested", facts(
        "order_drafted", contact_ended_at=at("10:00"), channel="phone", complaint_id=cid,
        signature_status="pending", step="record", link_path=f"/sign/{token}",
        expires_at=at("10:00", day=28).isoformat(), customer_phone="13812345678",
        customer_name="王小明", **({"resent": True} if resent else {})), at(when), complaint_id=cid)


def test_the_customer_gets_the_signing_link_by_sms():
    t = timeline(public_base_url="https://ccrm.example.cn/")
    received(t, signature_status="pending", channel="phone")
    signature_requested(t, "10:01", "tok-1")
    [sms] = [m for m in t.messages if m.template == "signing_link"]
    assert sms.recipient_person_id is None and sms.mobile == "13812345678"
    assert sms.text == ("【恒大售后】王小明您好，您在恒大御景半岛房号3-2-1801的投诉已登记"
                        f"（编号{CID}）。请于11月28日 10:00前打开以下链接核对投诉记录并签名确认："
                        "https://ccrm.example.cn/sign/tok-1 。如非本人投诉请忽略本短信。")
    assert sms.params["link"] == "https://ccrm.example.cn/sign/tok-1"
    assert sms.complaint_id == CID

    signature_requested(t, "15:00", "tok-2", resent=True)
    [_, again] = [m for m in t.messages if m.template == "signing_link"]
    assert "已为您重新发送签名链接，此前发送的链接已失效。" in again.text
    assert "https://ccrm.example.cn/sign/tok-2 " in again.text


def test_no_link_is_sent_for_a_voided_complaint():
    t = timeline()
    received(t, signature_status="pending")
    voided(t, "10:05", {"signature_status": "pending"})
    signature_requested(t, "10:01", "tok-late")
    assert not t.sent("signing_link")


def test_the_0930_reminder_lists_the_specialists_unsigned_complaints():
    """Two phone complaints unsigned at 09:30 the next day (one signed is
    not listed): the specialist's reminder names both (Art. 13)."""
    t = timeline()
    received(t, signature_status="pending")
    received(t, cid=OTHER, signature_status="pending")
    received(t, cid="C-GZ-2026-000125", signature_status="signed")
    out = t.run_job("daily_reminder", date(2026, 11, 28), at("09:30", day=28))
    [sms] = [m for m in out.messages if m.recipient_person_id == SPECIALIST]
    assert sms.text == ("【恒大售后】客服专员甲您好，您有2件投诉客户未签名："
                        f"{CID}（恒大御景半岛，房号3-2-1801）、{OTHER}（恒大御景半岛，房号3-2-1801）。"
                        "请联系客户通过短信链接签名确认，必要时重新发送签名链接（第十三条）。")
    [event] = t.of("reminder.sent", recipient_person_id=SPECIALIST)
    assert event["unsigned_complaint_ids"] == [CID, OTHER] and event["complaint_ids"] == []


# -- Art. 33: the meeting due 24 h after the escalation -----------------------------------

def escalate(t, when, level="major", cid=CID, category="maintenance_repair"):
    t.apply("complaint.escalated", facts("order_drafted", escalation_level=level, level=level,
                                         previous_level=None, reason="业主群体维权",
                                         complaint_id=cid, category=category),
            at(when), complaint_id=cid)


def meeting_held(t, when, meeting="C-GZ-2026-000123-M1"):
    t.apply("meeting.held", {"meeting_id": meeting, "held_at": at(when, day=28).isoformat(),
                             "chairman_person_id": PC_CHAIRMAN, "order_round": 1},
            at(when, day=28))


def test_the_major_meeting_is_due_24_hours_after_the_escalation_and_met_by_meeting_held():
    t = timeline()
    received(t)
    escalate(t, "14:00")
    meeting = t.timer("major_meeting")
    # A maintenance complaint: the property company's chairman (Art. 21, 33.2).
    assert (meeting.due_at, meeting.person_id, meeting.role) == (
        at("14:00", day=28), PC_CHAIRMAN, roles.CHAIRMAN)
    t.advance_to(at("12:00", day=28))
    [warning] = texts(t, "deadline_warning", PC_CHAIRMAN)
    assert "重大投诉专题会议" in warning and "11月28日 14:00" in warning
    assert "逾期将上报售后服务中心总经理（第三十三条）" in warning
    meeting_held(t, "13:00")
    assert t.timer("major_meeting").state == "met"
    assert t.timer("major_minutes").due_at == at("13:00", day=29)
    t.advance_to(at("15:00", day=28))
    assert not t.of("escalation.raised")


def test_a_meeting_not_held_in_24_hours_is_escalated_to_the_gm_without_a_fine():
    t = timeline()
    received(t)
    escalate(t, "14:00")
    escalate(t, "15:00", level="group")         # flagged again: the same deadline
    assert len([x for x in t.timers.values() if x.rule == "major_meeting"]) == 1
    t.advance_to(at("14:00", day=28))
    [missed] = t.of("deadline.missed", rule="major_meeting")
    assert missed["person_id"] == PC_CHAIRMAN
    [raised] = t.of("escalation.raised", rule="major_meeting")
    assert raised["to_person_ids"] == [GM]
    [told] = texts(t, "escalation", GM)
    assert "「重大投诉专题会议（升级后24小时内）」已超时" in told
    # Not a money rule: no notice to a superior.
    assert not t.sent("deadline_missed", rule="major_meeting")
    meeting_held(t, "16:00")
    late = t.timer("major_meeting")
    assert late.state == "missed" and late.late_seconds == 2 * 3600


def test_a_meeting_held_before_the_escalation_reached_sla_meets_it():
    t = timeline()
    received(t)
    t.apply("meeting.held", {"meeting_id": "M1", "held_at": at("15:00").isoformat(),
                             "chairman_person_id": PC_CHAIRMAN, "order_round": 1}, at("15:00"))
    escalate(t, "14:00")
    assert t.timer("major_meeting").state == "met"


# -- Art. 32, 33: the lists -------------------------------------------------------------

def test_the_gm_lists_the_major_complaints_every_day_from_the_escalation():
    t = timeline()
    received(t, "07:00")
    received(t, "07:00", cid=OTHER)
    escalate(t, "08:00")
    out = t.run_job("daily_major_list", date(2026, 11, 27), at("08:30"))
    [sms] = out.messages
    assert sms.recipient_person_id == GM
    assert sms.text == ("【恒大售后】中心总经理您好，11月27日重大、群体性及共性问题投诉督办清单："
                        f"共1件：{CID}（重大投诉，第1天）。请督促董事长尽快解决（第三十三条）。")
    escalate(t, "16:00", level="group", cid=OTHER)
    out = t.run_job("daily_major_list", date(2026, 11, 28), at("08:30", day=28))
    assert f"共2件：{CID}（重大投诉，第2天）、{OTHER}（群体性投诉，第2天）" in out.messages[0].text
    [event] = t.of("report.daily_major", date=date(2026, 11, 28))
    assert [i["complaint_id"] for i in event["items"]] == [CID, OTHER]


def test_the_monthly_list_goes_to_the_vp_and_each_chairman_their_own():
    t = timeline()
    received(t, "07:00")
    escalate(t, "08:00")
    # A sales complaint answers to the regional company's chairman (Art. 21).
    received(t, "07:00", cid=OTHER, category="sales_contract")
    escalate(t, "09:00", level="common_issue", cid=OTHER, category="sales_contract")
    received(t, "07:00", cid="C-GZ-2026-000125")           # not flagged: not listed
    out = t.run_job("monthly_major_list", date(2026, 12, 1), at("09:00", day=1, month=12))
    by_person = {m.recipient_person_id: m for m in out.messages}
    assert set(by_person) == {VP, RC_CHAIRMAN, PC_CHAIRMAN}
    assert by_person[VP].text == (
        "【恒大售后】郑国栋您好，截至12月1日尚未结案的重大、群体性及共性问题投诉共2件："
        f"{CID}（重大投诉，11月27日升级）、{OTHER}（共性问题投诉，11月27日升级）。"
        "请组织地区公司、物业公司召开专题会议，制定专项整改要求（第三十二条）。")
    assert by_person[PC_CHAIRMAN].params["complaint_ids"] == [CID]
    assert by_person[RC_CHAIRMAN].params["complaint_ids"] == [OTHER]
    assert "请按要求参加专题会议并落实专项整改（第三十二条）" in by_person[RC_CHAIRMAN].text
    [event] = t.of("report.monthly_major")
    assert event["month"] == "2026-11" and event["to_person_ids"] == sorted(by_person)


def test_a_closed_or_voided_major_complaint_leaves_the_lists():
    t = timeline()
    received(t, "07:00")
    escalate(t, "08:00")
    voided(t, "08:10", {"escalation_level": "major"})
    assert t.timer("major_meeting").state == "cancelled"
    out = t.run_job("daily_major_list", date(2026, 11, 27), at("08:30"))
    assert out.messages == []


# -- the overdue list (one call for the board) ------------------------------------------

def test_the_overdue_list_gives_days_tier_and_the_people_for_each_complaint():
    """Completion due 30 Nov 18:00: on 8 Dec 18:00:01 it is day 9 (tier 2)."""
    t = timeline()
    t.signed_order(requested=at("18:00", day=30))
    now = at("18:00", day=8, month=12) + timedelta(seconds=1)
    page = overdue_page([t.complaint], now, t.settings, limit=10, offset=0)
    [item] = page["items"]
    assert (item["complaint_id"], item["days_overdue"], item["tier"]) == (CID, 9, 2)
    assert item["handler_person_id"] == HANDLER["person_id"]
    assert item["leader_person_ids"] == ["pcgz-vp-eng", "pcgz-vp-quality"]
    assert page["total"] == 1
    assert overdue_page([t.complaint], at("18:00", day=30), t.settings, 10, 0)["total"] == 0
    assert overdue_page([t.complaint], now, t.settings, 10, 1)["items"] == []
