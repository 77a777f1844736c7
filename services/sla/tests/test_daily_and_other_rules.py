"""SPEC §4 rows daily_reminder, daily_overdue_summary, daily_slow_summary,
weekly_carryover, monthly_report, major_minutes, claim_report, claim_filed,
systemic_measures, rotation; the slots of the daily jobs; settings."""
from dataclasses import replace
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.sla.calendar import latest_slot, next_slot_day
from services.sla.organisation import (
    on_analysis_issued,
    on_directory_loaded,
    on_notification_requested,
)
from services.sla.rules import Settings
from services.sla.tests.helpers import (
    CHAIRMAN,
    CID,
    DEPUTY,
    GM,
    HANDLER,
    LEADERS,
    SPECIALIST,
    Timeline,
    at,
    event,
)
from shared import roles

H = HANDLER["person_id"]
SETTINGS = Settings()


def second_complaint(t, cid="C-GZ-2026-000124", handler=None, requested=None):
    """Another signed, routed complaint in the same timeline."""
    other = Timeline(t.settings, t.directory).signed_order(requested=requested)
    c = replace(other.complaint, id=cid, handler=handler or other.complaint.handler)
    t.complaints[cid] = c
    return c


# -- daily reminder (Art. 19) --------------------------------------------------------

def test_daily_reminder_one_sms_per_recipient_listing_their_open_complaints():
    t = Timeline().signed_order()
    other_handler = {"person_id": "rcgz-mkt-head", "name": "营销部一把手", "mobile": "13800000021"}
    second_complaint(t, handler=other_handler)
    out = t.run_job("daily_reminder", date(2026, 11, 28), at("09:30", day=28))
    by_person = {m.recipient_person_id: m for m in out.messages}
    # Handler of each, the two leaders and the chairman of both: one SMS each.
    assert set(by_person) == {H, "rcgz-mkt-head", CHAIRMAN["person_id"],
                              *[leader["person_id"] for leader in LEADERS]}
    assert by_person[CHAIRMAN["person_id"]].params["complaint_ids"] == [CID, "C-GZ-2026-000124"]
    assert by_person[H].params["complaint_ids"] == [CID]
    assert "您有2件客户投诉尚未处理完成" in by_person[CHAIRMAN["person_id"]].text
    sent = {e["recipient_person_id"]: e for e in t.of("reminder.sent")}
    assert sent[CHAIRMAN["person_id"]]["slot_at"] == at("09:30", day=28)


def test_daily_reminder_leaves_out_closed_and_applied_complaints():
    t = Timeline().signed_order()
    t.complaints[CID] = replace(t.complaint, closure_applied_at=at("09:00", day=28))
    out = t.run_job("daily_reminder", date(2026, 11, 28), at("09:30", day=28))
    assert out.messages == []


# -- daily overdue summary (Art. 30) ------------------------------------------------------

def test_daily_overdue_summary_to_deputy_and_past_15_days_to_gm_and_chairman():
    due = at("18:00", day=30)
    t = Timeline().signed_order(requested=due)
    second_complaint(t, requested=at("18:00", day=25, month=12))     # not overdue
    late = second_complaint(t, "C-GZ-2026-000125", requested=due - timedelta(days=16))
    t.complaints[late.id] = replace(late, completion_due_at=due - timedelta(days=16),
                                    chairman={"person_id": "rcgx-chairman", "name": "董事长乙",
                                              "mobile": "13800000031"})
    t.now = at("08:30", day=4, month=12)
    out = t.run_job("daily_overdue_summary", date(2026, 12, 4), t.now)
    [report] = t.of("report.daily_overdue")
    assert [(i["complaint_id"], i["days_overdue"], i["tier"]) for i in report["items"]] == [
        ("C-GZ-2026-000125", 20, 3), (CID, 4, 1)]
    assert report["serious_count"] == 1
    to = {m.recipient_person_id: m for m in out.messages}
    assert set(to) == {DEPUTY, GM, "rcgx-chairman"}
    assert to[DEPUTY].params["count"] == 2
    assert "C-GZ-2026-000125" in to["rcgx-chairman"].text and CID not in to["rcgx-chairman"].text


def test_no_overdue_no_summary_sms():
    t = Timeline().signed_order()
    out = t.run_job("daily_overdue_summary", date(2026, 11, 28), at("08:30", day=28))
    assert out.messages == [] and t.of("report.daily_overdue")[0]["items"] == []


# -- daily slow summary (Art. 26) -------------------------------------------------------------

def test_daily_slow_summary_lists_no_progress_today_and_at_risk():
    t = Timeline().signed_order(requested=at("12:00", day=29))
    t.now = at("18:30", day=28)
    out = t.run_job("daily_slow_summary", date(2026, 11, 28), t.now)
    [item] = t.of("report.daily_slow")[0]["items"]
    assert item["reasons"] == ["no_progress_today", "completion_at_risk"]
    assert [m.recipient_person_id for m in out.messages] == [DEPUTY]


def test_signing_day_is_not_slow():
    t = Timeline().signed_order()
    t.now = at("18:30")
    t.run_job("daily_slow_summary", date(2026, 11, 27), t.now)
    assert t.of("report.daily_slow")[0]["items"] == []


# -- weekly carry-over (Art. 31) and the monthly report (Art. 36) ----------------------------------

def test_weekly_carryover_groups_last_weeks_open_complaints_by_department():
    t = Timeline().signed_order()                       # signed Fri 11-27
    t.now = at("09:00", day=30)                         # Monday 11-30
    out = t.run_job("weekly_carryover", date(2026, 11, 30), t.now)
    [report] = t.of("report.weekly_carryover")
    assert report["departments"] == [{"department": "property", "count": 1,
                                      "complaint_ids": [CID]}]
    assert [m.recipient_person_id for m in out.messages] == [GM]
    assert "物业公司1件" in out.messages[0].text


def test_monthly_report_due_names_the_previous_month():
    t = Timeline()
    t.run_job("monthly_report", date(2026, 12, 1), at("00:00", day=1, month=12))
    assert t.of("monthly_report.due") == [{"month": "2026-11",
                                           "due_at": at("00:00", day=1, month=12)}]


# -- slots of the daily jobs ----------------------------------------------------------------

@pytest.mark.parametrize("job, now, expected", [
    ("daily_reminder", at("09:29"), (date(2026, 11, 26), at("09:30", day=26))),
    ("daily_reminder", at("09:30"), (date(2026, 11, 27), at("09:30"))),
    ("daily_overdue_summary", at("09:00"), (date(2026, 11, 27), at("08:30"))),
    ("daily_slow_summary", at("18:29"), (date(2026, 11, 26), at("18:30", day=26))),
    ("weekly_carryover", at("10:00"), (date(2026, 11, 23), at("09:00", day=23))),   # Fri
    ("weekly_carryover", at("08:59", day=30), (date(2026, 11, 23), at("09:00", day=23))),
    ("weekly_carryover", at("09:00", day=30), (date(2026, 11, 30), at("09:00", day=30))),
    ("monthly_report", at("10:00"), (date(2026, 11, 1), at("00:00", day=1))),
    ("monthly_report", at("00:00", day=1, month=12), (date(2026, 12, 1),
                                                      at("00:00", day=1, month=12))),
])
def test_latest_slot(job, now, expected):
    assert latest_slot(job, now, SETTINGS) == expected


def test_next_slots():
    assert next_slot_day("daily_reminder", date(2026, 12, 31)) == date(2027, 1, 1)
    assert next_slot_day("weekly_carryover", date(2026, 11, 23)) == date(2026, 11, 30)
    assert next_slot_day("monthly_report", date(2027, 1, 1)) == date(2027, 2, 1)


def test_settings_from_config_reads_times_and_durations_and_refuses_unknown_keys():
    settings = Settings.from_config({"TIME_ZONE": "Asia/Urumqi", "SMS": {"signature": "测试"},
                                     "SLA": {"daily_overdue_summary_at": "08:00",
                                             "order_submit_minutes": 45}})
    assert settings.daily_overdue_summary_at == time(8, 0)
    assert settings.order_submit == timedelta(minutes=45)
    assert settings.zone == ZoneInfo("Asia/Urumqi") and settings.sms_signature == "测试"
    with pytest.raises(ValueError):
        Settings.from_config({"SLA": {"order_submitt_minutes": 45}})


# -- meetings and claims (Art. 33, 34) --------------------------------------------------------

def test_major_minutes_missed_escalates_to_gm_then_final_when_filed():
    t = Timeline().signed_order()
    held = at("14:00")
    t.apply("meeting.held", {"meeting_id": "MT-1", "held_at": held.isoformat(),
                             "chairman_person_id": CHAIRMAN["person_id"]}, held)
    t.advance_to(at("14:00", day=28))
    [miss] = t.of("deadline.missed", rule="major_minutes")
    assert miss["person_id"] == CHAIRMAN["person_id"] and miss["article"] == "33"
    assert t.of("escalation.raised", rule="major_minutes")[0]["to_person_ids"] == [GM]
    t.apply("meeting.minutes_filed", {"meeting_id": "MT-1",
                                      "filed_at": at("16:00", day=28).isoformat(),
                                      "minutes_media_id": "M-9"}, at("16:00", day=28))
    assert t.of("deadline.missed", rule="major_minutes", final=True)[0]["late_seconds"] == 7200


def test_claim_report_within_three_days_is_met():
    t = Timeline().signed_order()
    t.apply("claim.raised", {"claim_id": "CL-1", "raised_at": at("15:00").isoformat(),
                             "amount_claimed": "5000.00", "head_person_id": H, "major": False},
            at("15:00"))
    assert t.timer("claim_report").due_at == at("15:00", day=30)
    t.apply("claim.reported", {"claim_id": "CL-1", "reported_at": at("10:00", day=29).isoformat(),
                               "by": H}, at("10:00", day=29))
    assert t.of("deadline.met", rule="claim_report")[0]["person_id"] == H


def test_claim_filed_late_escalates_to_gm():
    t = Timeline().signed_order()
    t.apply("claim.raised", {"claim_id": "CL-1", "raised_at": at("15:00").isoformat(),
                             "amount_claimed": "5000.00", "head_person_id": H, "major": False},
            at("15:00"))
    decided = at("11:00", day=28)
    t.apply("claim.decided", {"claim_id": "CL-1", "decided_at": decided.isoformat(),
                              "decided_by": "pcgz-chairman", "decision": "approve",
                              "amount_granted": "3000.00"}, decided)
    t.advance_to(at("11:00", day=29))
    [miss] = t.of("deadline.missed", rule="claim_filed")
    assert miss["person_id"] == H and miss["due_at"] == at("11:00", day=29)
    assert t.of("escalation.raised", rule="claim_filed")[0]["to_person_ids"] == [GM]


def test_claim_filed_before_the_decision_is_parked():
    t = Timeline().signed_order()
    t.apply("claim.filed", {"claim_id": "CL-9", "filed_at": at("15:00").isoformat(), "by": H},
            at("15:00"))
    assert t.parked[0][1].waiting_for == "claim_decided:CL-9"


# -- organisation: rotation (Art. 43) and systemic measures (Art. 42) --------------------------

def directory_event(version=2, assignments=None):
    return event("directory.loaded", {
        "version": version, "loaded_at": at("08:00").isoformat(), "region": "GZ",
        "label": "2026-11", "sha256": "a" * 64, "counts": {}, "vacancies": [],
        "people": [{"id": SPECIALIST, "name": "客服专员甲", "mobile": "13900000004",
                    "roles": [roles.SPECIALIST], "unit": "GZ-P01.desk", "unit_name": "服务中心",
                    "bonus": None, "active": True, "project_ids": ["GZ-P01"]}],
        "units": [], "projects": [{"id": "GZ-P01", "name": "恒大御景半岛"}],
        "desk_assignments": assignments if assignments is not None else [
            {"project_id": "GZ-P01", "person_id": SPECIALIST, "assigned_on": "2026-06-01",
             "rotation_due_on": "2026-12-01", "active": True}]}, at("08:00"), complaint_id=None)


def test_rotation_notice_six_months_after_the_desk_assignment():
    t = Timeline()
    out = on_directory_loaded(directory_event(), 1, [], at("08:00"), SETTINGS)
    [timer] = out.arm
    assert timer.due_at == at("09:00", day=1, month=12) and timer.person_id == SPECIALIST
    assert out.directory.project_name("GZ-P01") == "恒大御景半岛"
    t.timers[timer.key] = timer
    t.advance_to(at("09:00", day=1, month=12))
    [due] = t.of("rotation.due")
    assert due["person_id"] == SPECIALIST and due["to_person_ids"] == [GM]
    assert "轮岗提醒" in t.messages[0].text and t.messages[0].recipient_person_id == GM


def test_rotation_cancelled_when_the_assignment_ends_and_older_directory_ignored():
    first = on_directory_loaded(directory_event(), 1, [], at("08:00"), SETTINGS)
    ended = on_directory_loaded(directory_event(3, assignments=[]), 2, first.arm, at("09:00"),
                                SETTINGS)
    assert [x.state for x in ended.update] == ["cancelled"]
    stale = on_directory_loaded(directory_event(2), 3, [], at("09:00"), SETTINGS)
    assert stale.directory is None and stale.problems[0][0] == "stale"


def test_missing_desk_assignments_is_reported():
    ev = directory_event()
    ev = replace(ev, data=dict(ev.data, desk_assignments=None))
    out = on_directory_loaded(ev, None, [], at("08:00"), SETTINGS)
    assert out.problems[0][0] == "missing_data" and out.arm == []


def test_systemic_measures_fifteen_days_after_the_analysis_escalated_to_gm():
    issued = at("10:00", day=1, month=12)
    ev = event("analysis.issued", {
        "quarter": "2026-Q4", "revision": 1, "issued_at": issued.isoformat(),
        "complaint_count": 3, "by_category_project": [], "repeat_rooms": [],
        "departments": [{"company_id": "rc-gz", "department": "engineering",
                         "head_person_ids": ["rcgz-eng-head"], "complaint_count": 3,
                         "categories": ["delivery_delay_quality"]}]},
               issued, complaint_id=None)
    out = on_analysis_issued(ev, [], issued, SETTINGS)
    [timer] = [t for t in out.arm if t.rule == "systemic_measures"]
    assert timer.due_at == issued + timedelta(days=15) and timer.person_id == "rcgz-eng-head"
    t = Timeline()
    t.timers[timer.key] = timer
    t.advance_to(issued + timedelta(days=15))
    assert t.of("escalation.raised", rule="systemic_measures")[0]["to_person_ids"] == [GM]


def test_penalty_notification_request_becomes_one_sms_per_recipient():
    ev = event("notification.requested", {
        "key": "monthly_report:2026-11", "source": "monthly_report", "template": "monthly_report",
        "recipients": [{"person_id": GM, "name": None, "mobile": None},
                       {"person_id": "hr-1", "name": "人力", "mobile": "13900000009"}],
        "params": {"month": "2026-11"}, "text": "2026年11月扣罚月报已生成。"},
        at("00:05", day=1, month=12), complaint_id=None)
    out = on_notification_requested(ev, Timeline().directory, at("00:05", day=1, month=12),
                                    SETTINGS)
    assert [(m.recipient_person_id, m.mobile) for m in out.messages] == [
        (GM, "13900000001"), ("hr-1", "13900000009")]
    assert out.messages[0].text == "【恒大售后】2026年11月扣罚月报已生成。"
    assert out.messages[0].params["request_key"] == "monthly_report:2026-11"
