"""Issue 13, sla's part (pure domain, the simulation of `Timeline`): a warning
before every deadline that costs money or escalates, the holder's superior
told at once of a missed money rule, a running per-5-minute fine announced
every hour, the department's clocks started at routing, a requested time
already past at routing replaced by the time agreed at the visit, and typed
times judged against their receipt unless the deputy GM accepts them.

The costs the texts name are the regulation's, written here by hand."""
from datetime import timedelta

import pytest

from services.sla.model import Directory, Person
from services.sla.rules import Settings
from services.sla.tests.helpers import (
    CID,
    DEPUTY,
    GM,
    HANDLER,
    LEADERS,
    SPECIALIST,
    STAFF,
    Timeline,
    at,
    directory,
    facts,
    holder,
    routed,
)
from shared import roles

H = HANDLER["person_id"]
ADMIN = "admin-1"
CHAIRMEN = ("rcgz-chairman", "pcgz-chairman")      # GZ-P01's regional / property company


def fair_directory():
    base = directory()
    people = dict(base.people, **{p.id: p for p in (
        Person(ADMIN, "系统管理员", "13900000009", (roles.ADMIN,)),
        Person("rcgz-chairman", "地区公司董事长", "13900000010", (roles.CHAIRMAN,)),
        Person("pcgz-chairman", "物业公司董事长", "13900000011", (roles.CHAIRMAN,)))})
    return Directory(people, base.projects, 1, {"GZ-P01": CHAIRMEN})


def timeline(**settings):
    return Timeline(Settings(**settings), fair_directory())


def received(t, contact="10:00"):
    c0 = at(contact)
    t.apply("complaint.received", facts(contact_ended_at=c0, resolved_on_spot=False,
                                        signature_media_id=None), c0)
    return c0


def submitted(t, when, contact="10:00"):
    c0, s = at(contact), at(when)
    t.apply("order.submitted", facts("order_submitted", contact_ended_at=c0, first_submitted_at=s,
                                     holders=[holder(SPECIALIST, roles.SPECIALIST, c0, s),
                                              holder(DEPUTY, roles.CENTRE_DEPUTY_GM, s)]), s)


def texts(t, template, person):
    return [text for who, text in t.sent(template) if who == person]


# -- warnings before it costs anything ------------------------------------------------------

def test_order_submit_warned_at_10_20_and_the_deputy_gm_told_at_10_30():
    """Contact ended 10:00: submit due 10:30 (Art. 14); the specialist is
    warned at 10:20 and, still unsubmitted at 10:30, the deputy GM is told."""
    t = timeline()
    received(t)
    t.advance_to(at("10:19:59"))
    assert not t.sent("deadline_warning")
    t.advance_to(at("10:20"))
    [warning] = texts(t, "deadline_warning", SPECIALIST)
    for part in (CID, "督办令报批", "11月27日 10:30", "每延迟5分钟扣罚责任人100元", "第十八条"):
        assert part in warning
    assert t.messages[-1].complaint_id == CID
    t.advance_to(at("10:30"))
    [told] = texts(t, "deadline_missed", DEPUTY)
    assert CID in told and "督办令报批" in told and "客服专员甲" in told and "第十八条" in told
    assert not texts(t, "deadline_missed", SPECIALIST)   # the holder hears at the hour


def test_a_step_done_before_its_warning_cancels_it():
    t = timeline()
    received(t)
    submitted(t, "10:12")
    t.advance_to(at("10:40"))
    assert not texts(t, "deadline_warning", SPECIALIST)
    assert {x.state for x in t.timers.values() if x.rule == "deadline_warning"
            and x.details["for_rule"] == "order_submit"} == {"cancelled"}


def test_a_running_fine_is_announced_every_hour_to_the_holder_and_the_gm_until_done():
    t = timeline()
    received(t)
    t.advance_to(at("11:29"))
    assert not texts(t, "deadline_missed", SPECIALIST)
    t.advance_to(at("11:30"))                     # one hour past the 10:30 deadline
    assert len(texts(t, "deadline_missed", SPECIALIST)) == 1
    [gm] = texts(t, "deadline_missed", GM)
    assert "已超时1小时" in gm and "每延迟5分钟扣罚" in gm
    t.advance_to(at("12:30"))
    assert len(texts(t, "deadline_missed", SPECIALIST)) == 2
    assert "已超时2小时" in texts(t, "deadline_missed", GM)[-1]
    submitted(t, "12:40")
    t.advance_to(at("13:39"))
    assert len(texts(t, "deadline_missed", SPECIALIST)) == 2
    assert len([x for x in texts(t, "deadline_missed", GM) if "督办令报批" in x]) == 2


def test_order_sign_missed_by_the_deputy_tells_the_gm_and_by_the_gm_the_chairman():
    """Submitted 10:20: signature due 11:20. Held by the deputy GM at 11:20
    (the GM is told); reviewed 11:30, held by the GM at 12:20, the hourly
    notice names the GM; a second order held by the GM at its deadline tells
    the property company's chairman (maintenance_repair, Art. 20)."""
    t = timeline()
    received(t)
    submitted(t, "10:20")
    t.advance_to(at("11:10"))
    assert len(texts(t, "deadline_warning", DEPUTY)) == 1
    t.advance_to(at("11:20"))
    [told] = texts(t, "deadline_missed", GM)
    assert "督办令签发" in told and "中心副总经理" in told

    t2 = timeline()
    received(t2)
    submitted(t2, "10:20")
    c0, s, r = at("10:00"), at("10:20"), at("10:30")
    t2.apply("order.reviewed", facts("order_reviewed", contact_ended_at=c0, first_submitted_at=s,
                                     reviewed_at=r,
                                     holders=[holder(SPECIALIST, roles.SPECIALIST, c0, s),
                                              holder(DEPUTY, roles.CENTRE_DEPUTY_GM, s, r),
                                              holder(GM, roles.CENTRE_GM, r)]), r)
    t2.advance_to(at("11:10"))
    assert texts(t2, "deadline_warning", GM) and not texts(t2, "deadline_warning", DEPUTY)
    t2.advance_to(at("11:20"))
    [told] = texts(t2, "deadline_missed", "pcgz-chairman")
    assert "督办令签发" in told and "中心总经理" in told
    assert not texts(t2, "deadline_missed", "rcgz-chairman")


def test_visit_warning_and_the_supervising_leaders_told_of_the_miss():
    t = timeline().signed_order(signed="10:50")
    t.advance_to(at("11:40"))
    warnings = texts(t, "deadline_warning", H)
    [warning] = [x for x in warnings if "上门回访" in x]
    assert "11月27日 11:50" in warning and "20%月度综合奖金" in warning and "第三十五条" in warning
    [plan_warning] = [x for x in warnings if "录入处理方案" in x]
    assert "300元" in plan_warning
    t.advance_to(at("11:50"))
    for leader in LEADERS:
        told = texts(t, "deadline_missed", leader["person_id"])
        assert len(told) == 2                   # the visit and the plan
        assert any("20%月度综合奖金" in x for x in told) and any("300元" in x for x in told)


def test_progress_warned_at_16_and_missed_day_told_to_the_leaders():
    t = timeline().signed_order(signed="10:50")
    t.advance_to(at("15:59", day=28))
    assert not [x for x in t.sent("deadline_warning") if "进展" in x[1]]
    t.advance_to(at("16:00", day=28))
    [warning] = [x for x in t.sent("deadline_warning") if "进展" in x[1]]
    assert warning[0] == H and "11月28日 18:00" in warning[1] and "200元" in warning[1]
    t.advance_to(at("18:00", day=28))
    told = [x for x in t.sent("deadline_missed") if "进展" in x[1]]
    assert {who for who, _ in told} == {leader["person_id"] for leader in LEADERS}


def test_overdue_warned_the_day_before_and_leaders_told_on_days_1_8_16():
    due = at("18:00", day=30)
    t = timeline().signed_order(requested=due)
    t.advance_to(due - timedelta(days=1, seconds=1))
    assert not [x for x in t.sent("deadline_warning") if "第三十六条" in x[1]]
    t.advance_to(due - timedelta(days=1))
    [warning] = [x for x in t.sent("deadline_warning") if "第三十六条" in x[1]]
    assert warning[0] == H and "11月30日 18:00" in warning[1]
    assert "每天扣罚责任人100元、分管领导50元" in warning[1]
    t.advance_to(due + timedelta(days=16))
    leader = LEADERS[0]["person_id"]
    days = [x for x in texts(t, "deadline_missed", leader) if "超期第" in x]
    assert [d for d in (1, 8, 16) if any(f"超期第{d}天" in x for x in days)] == [1, 8, 16]
    assert len(days) == 3


def test_escalating_rules_are_warned_too():
    t = timeline().signed_order(signed="10:50")
    t.apply("visit.blocked", {"visit_id": "V-9", "attempted_at": at("11:20").isoformat(),
                              "recorded_at": at("11:30").isoformat(), "recorded_by": H,
                              "reason": "客户拒绝入户"}, at("11:30"))
    t.advance_to(at("11:50"))                    # the callback is due 12:00
    [callback] = [x for x in t.sent("deadline_warning") if "受阻后售后中心回访" in x[1]]
    assert callback[0] == STAFF and "第二十三条" in callback[1]
    t.apply("claim.raised", {"claim_id": "CL-1", "raised_at": at("15:00").isoformat(),
                             "amount_claimed": "5000.00", "head_person_id": H, "major": False},
            at("15:00"))
    t.advance_to(at("15:00", day=29))            # report due 30th 15:00: the day before
    [claim] = [x for x in t.sent("deadline_warning") if "索赔书面报告" in x[1]]
    assert claim[0] == H and "第三十四条" in claim[1]
    t.apply("closure.applied", {"application_id": "A-1",
                                "applied_at": at("16:00", day=29).isoformat(),
                                "applied_by": H, "material_media_ids": [],
                                "signature_media_id": "M-3"}, at("16:00", day=29))
    t.advance_to(at("16:20", day=29))
    [verify] = [x for x in t.sent("deadline_warning") if "结案核查" in x[1]]
    assert verify[0] == SPECIALIST and "第二十九条" in verify[1]


def test_warning_leads_are_settings():
    t = timeline(order_submit_warning=timedelta(minutes=5))
    received(t)
    t.advance_to(at("10:24"))
    assert not t.sent("deadline_warning")
    t.advance_to(at("10:25"))
    assert texts(t, "deadline_warning", SPECIALIST)
    config = Settings.from_config({"SLA": {"order_submit_warning_minutes": 5,
                                           "progress_warning_at": "15:30",
                                           "overdue_warning_hours": 12,
                                           "running_fine_every_minutes": 30,
                                           "stated_time_grace_minutes": 20}})
    assert config.order_submit_warning == timedelta(minutes=5)
    assert config.progress_warning_at.hour == 15 and config.overdue_warning == timedelta(hours=12)
    assert config.running_fine_every == timedelta(minutes=30)
    assert config.stated_time_grace == timedelta(minutes=20)
    # config.yaml's unquoted 16:00 reaches sla as YAML 1.1's base-60 960 (minutes).
    assert Settings.from_config({"SLA": {"progress_warning_at": 960}}).progress_warning_at \
        == Settings().progress_warning_at


# -- no fine for what the system did ----------------------------------------------------------

def test_the_department_clocks_start_at_routing_not_at_the_signature():
    """Signed 10:50, routed only at 13:00 (a routing that failed first): the
    visit is due 14:00; the routing failure told the admin and the GM."""
    t = timeline()
    t.signed_order(signed="10:50", routed_data=None)
    t2 = timeline()
    t2.signed_order(signed="10:50", routed_data=routed(at("10:50"), routed_at=at("13:00")))
    assert t2.timer("visit").due_at == at("14:00") and t2.timer("plan").due_at == at("14:00")
    assert t.timer("visit").due_at == at("11:50")

    t3 = timeline()
    t3.signed_order(signed="10:50", routed_data=routed(at("10:50"), routed_at=at("13:00")))
    t3.apply("routing.failed", {"complaint_id": CID, "project_id": "GZ-P01", "order_round": 1,
                                "category": "maintenance_repair", "department": "property",
                                "handler_id": None, "major": False, "trigger": "order_signed",
                                "role": "head", "unit_id": "pc-gz",
                                "message": "物业公司一把手空缺", "directory_version": 1,
                                "failed_at": at("10:50").isoformat()}, at("10:50"))
    assert {who for who, _ in t3.sent("routing_failed")} == {ADMIN, GM}
    assert all(CID in text and "物业公司一把手空缺" in text
               for _, text in t3.sent("routing_failed"))


def test_a_requested_time_past_at_routing_gives_way_to_the_time_agreed_at_the_visit():
    """Requested 12:00, but the order reached the department only at 13:00:
    no overdue before anyone could visit; the visit agrees on the 29th 18:00."""
    t = timeline()
    t.signed_order(signed="10:50", requested=at("12:00"),
                   routed_data=routed(at("10:50"), requested=at("12:00"), routed_at=at("13:00")))
    assert not [x for x in t.timers.values() if x.rule == "completion"]
    [(_, dispatched)] = t.sent("order_dispatched")
    assert "处理完成时间以回访时与客户商定的时间为准" in dispatched
    t.advance_to(at("13:50"))
    t.apply("visit.recorded", {
        "visit_id": "V-1", "visited_at": at("13:50").isoformat(),
        "recorded_at": at("13:50").isoformat(), "recorded_by": H, "plan": "更换防水层",
        "agreed_completion_at": at("18:00", day=29).isoformat(),
        "completion_due_at": at("12:00").isoformat(),      # dispatch's min(): past
        "photo_media_ids": [], "signature_media_id": "M-1"}, at("13:50"))
    assert t.timer("completion").due_at == at("18:00", day=29)
    t.advance_to(at("18:00", day=29) - timedelta(seconds=1))
    assert not t.of("overdue.accrued")
    assert t.complaint.completion_due_at == at("18:00", day=29)


# -- no escape by typing a time ----------------------------------------------------------------

def blocked_at_14_stating_10_05(t):
    t.apply("visit.blocked", {"visit_id": "V-9", "attempted_at": at("10:05").isoformat(),
                              "recorded_at": at("14:00").isoformat(), "recorded_by": H,
                              "reason": "客户拒绝入户"}, at("14:00"))


def accepted(t, when="15:00"):
    t.apply("visit.time_accepted", {
        "complaint_id": CID, "project_id": "GZ-P01", "order_round": 1,
        "category": "maintenance_repair", "visit_id": "V-9", "outcome": "blocked",
        "stated_at": at("10:05").isoformat(), "received_at": at("14:00").isoformat(),
        "accepted_by": DEPUTY, "accepted_at": at(when).isoformat(),
        "reason": "山区无信号，回到项目部后补录"}, at(when))


def test_a_blocked_visit_recorded_at_14_stating_10_05_is_judged_late():
    """Routed 10:00: the visit was due 11:00. Stated 10:05, received 14:00:
    judged by the receipt, three hours late; the plan's fine stands."""
    t = timeline().signed_order(contact="09:00", submitted="09:20", reviewed="09:40",
                                signed="10:00")
    blocked_at_14_stating_10_05(t)
    visit = t.timer("visit")
    assert visit.state == "missed" and visit.late_seconds == 3 * 3600
    assert visit.details["judged_by"] == "receipt"
    assert visit.details["stated_at"] == at("10:05").isoformat()
    assert t.timer("plan").state == "missed" and not t.of("deadline.withdrawn")


def test_the_deputy_gm_accepting_the_stated_time_withdraws_the_misses():
    t = timeline().signed_order(contact="09:00", submitted="09:20", reviewed="09:40",
                                signed="10:00")
    blocked_at_14_stating_10_05(t)
    accepted(t)
    withdrawn = {e["rule"] for e in t.of("deadline.withdrawn")}
    assert withdrawn == {"visit", "plan"}
    [met] = t.of("deadline.met", rule="visit")
    assert met["done_at"] == at("10:05")
    visit = t.timer("visit")
    assert visit.state == "met" and visit.details["judged_by"] == "accepted"
    assert visit.details["accepted_by"] == DEPUTY
    assert t.timer("plan").state == "cancelled"


def test_an_acceptance_before_the_visit_record_waits_for_it():
    t = timeline().signed_order(contact="09:00", submitted="09:20", reviewed="09:40",
                                signed="10:00")
    accepted(t, "13:00")
    assert t.parked[-1][1].waiting_for == "visit:V-9"


def test_a_callback_stated_long_before_its_receipt_is_judged_by_the_receipt_until_accepted():
    """Blocked visit recorded 11:30: callback due 12:00. Stated 11:50,
    received 12:40 (50 min later): late by 40 min, until accepted."""
    t = timeline().signed_order(signed="10:50")
    t.apply("visit.blocked", {"visit_id": "V-9", "attempted_at": at("11:20").isoformat(),
                              "recorded_at": at("11:30").isoformat(), "recorded_by": H,
                              "reason": "客户拒绝入户"}, at("11:30"))
    t.apply("callback.recorded", t.facts(
        "order_signed", callback_id=f"{CID}-CB1", callback_at=at("11:50").isoformat(),
        recorded_at=at("12:40").isoformat(), by=STAFF, by_role=roles.CENTRE_STAFF,
        outcome="reached", note=None, visit_ids=["V-9"], due_since=at("11:30").isoformat()),
        at("12:40"))
    [miss] = t.of("deadline.missed", rule="blocked_callback", final=True)
    assert miss["late_seconds"] == 40 * 60
    t.apply("callback.time_accepted", {
        "complaint_id": CID, "order_round": 1, "callback_id": f"{CID}-CB1",
        "visit_ids": ["V-9"], "stated_at": at("11:50").isoformat(),
        "received_at": at("12:40").isoformat(), "accepted_by": DEPUTY,
        "accepted_at": at("13:00").isoformat(), "reason": "先电话后补录"}, at("13:00"))
    assert [e["rule"] for e in t.of("deadline.withdrawn")] == ["blocked_callback"]
    assert t.of("deadline.met", rule="blocked_callback")[0]["done_at"] == at("11:50")


def test_a_callback_recorded_within_the_grace_keeps_its_stated_time():
    t = timeline().signed_order(signed="10:50")
    t.apply("visit.blocked", {"visit_id": "V-9", "attempted_at": at("11:20").isoformat(),
                              "recorded_at": at("11:30").isoformat(), "recorded_by": H,
                              "reason": "客户拒绝入户"}, at("11:30"))
    t.apply("callback.recorded", t.facts(
        "order_signed", callback_at=at("11:55").isoformat(), recorded_at=at("12:20").isoformat(),
        by=STAFF, by_role=roles.CENTRE_STAFF, outcome="reached", note=None, visit_ids=["V-9"],
        due_since=at("11:30").isoformat()), at("12:20"), fire_first=False)
    assert t.of("deadline.met", rule="blocked_callback")[0]["done_at"] == at("11:55")


@pytest.mark.parametrize("attempted, plan_state", [("11:25", "cancelled"), ("11:55", "missed")])
def test_a_blocked_visit_voids_the_plan_only_within_the_visit_deadline(attempted, plan_state):
    """Routed 10:50: visit due 11:50; recorded 5 minutes after the attempt."""
    t = timeline().signed_order(signed="10:50")
    when = at(attempted)
    t.apply("visit.blocked", {"visit_id": "V-9", "attempted_at": when.isoformat(),
                              "recorded_at": (when + timedelta(minutes=5)).isoformat(),
                              "recorded_by": H, "reason": "客户拒绝入户"},
            when + timedelta(minutes=5))
    assert t.timer("plan").state == plan_state


def test_a_money_rule_settled_late_before_its_timer_fired_still_tells_the_superior():
    """The visit's event reached sla before the firing loop saw 11:50 pass."""
    t = timeline().signed_order(signed="10:50")
    t.apply("visit.recorded", {
        "visit_id": "V-1", "visited_at": at("12:10").isoformat(),
        "recorded_at": at("12:10").isoformat(), "recorded_by": H, "plan": "更换防水层",
        "agreed_completion_at": None, "completion_due_at": None,
        "photo_media_ids": [], "signature_media_id": "M-1"}, at("12:10"), fire_first=False)
    assert t.timer("visit").state == "missed" and t.timer("visit").settled
    for leader in LEADERS:
        assert len(texts(t, "deadline_missed", leader["person_id"])) == 2   # visit and plan
