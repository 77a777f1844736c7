"""The rules of SPEC §4 as data: article, who is responsible, how long, and
the named settings of the ambiguous choices. Nothing here reads a clock."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared import roles
from shared.contracts.sla import TierLimits
from shared.contracts.sla import overdue_tier as contract_overdue_tier


@dataclass(frozen=True)
class Rule:
    code: str
    article: str
    role: str               # who is responsible (SPEC §4 "who is responsible")
    label_zh: str
    announce: bool = True    # deadline.armed / met / missed events for this rule
    escalate_to: tuple[str, ...] = ()  # roles told when it is missed (besides the events)
    ends_with_complaint: bool = True   # cancelled when the complaint closes


HANDLER = "handler"          # the head of the first responsible department
SYSTEM = "system"

RULES = {r.code: r for r in (
    Rule("order_submit", "14, 18", roles.SPECIALIST, "督办令报批（30分钟内）"),
    Rule("order_sign", "14, 18", roles.CENTRE_GM, "督办令签发（报批后1小时内）"),
    Rule("handler_notified", "19", SYSTEM, "签发后短信通知责任人", announce=False),
    Rule("visit", "22, 35", HANDLER, "上门回访（接到督办令后1小时内）"),
    Rule("plan", "22, 35", HANDLER, "录入处理方案（随回访）"),
    Rule("blocked_visit_record", "23", HANDLER, "回访受阻材料录入（1小时内）",
         escalate_to=("leaders",)),
    Rule("blocked_callback", "23", roles.CENTRE_STAFF, "受阻后售后中心回访（30分钟内）",
         escalate_to=(roles.CENTRE_DEPUTY_GM,)),
    Rule("completion", "25, 36", HANDLER, "投诉处理完成时间"),
    Rule("progress", "26, 35", HANDLER, "每日18:00前录入处理进展"),
    Rule("closure_verify", "29", roles.SPECIALIST, "结案核查回访（30分钟内）",
         escalate_to=(roles.CENTRE_DEPUTY_GM,)),
    Rule("overdue", "36", HANDLER, "超期扣罚（按日累计）", announce=False),
    Rule("major_meeting", "33", roles.CHAIRMAN, "重大投诉专题会议（升级后24小时内）",
         escalate_to=(roles.CENTRE_GM,)),
    Rule("major_minutes", "33", roles.CHAIRMAN, "重大投诉会议纪要报备（24小时内）",
         escalate_to=(roles.CENTRE_GM,), ends_with_complaint=False),
    Rule("claim_report", "34", roles.HEAD, "索赔书面报告（3天内）",
         escalate_to=(roles.CENTRE_GM,), ends_with_complaint=False),
    Rule("claim_filed", "34", roles.HEAD, "索赔批示报备售后中心（24小时内）",
         escalate_to=(roles.CENTRE_GM,), ends_with_complaint=False),
    Rule("systemic_measures", "42", roles.HEAD, "系统性问题优化措施报备（15天内）",
         escalate_to=(roles.CENTRE_GM,), ends_with_complaint=False),
    Rule("rotation", "43", roles.CENTRE_GM, "客服专员每半年轮岗", announce=False,
         ends_with_complaint=False),
    # Notices that follow a deadline (notices.py): the warning before it is
    # due, and the hourly notice of a running per-5-minute fine. Their
    # `details.target` names the deadline; they end when it is done.
    Rule("deadline_warning", "", SYSTEM, "到期前提醒", announce=False),
    Rule("running_fine", "18", SYSTEM, "持续扣罚每小时通报", announce=False),
)}

# Rules that cost money (SPEC §4): a miss is told to the holder's superior at once.
MONEY_RULES = frozenset({"order_submit", "order_sign", "visit", "plan", "progress", "overdue"})
# Block-counted fines that keep running until the step is done: announced hourly.
RUNNING_RULES = frozenset({"order_submit", "order_sign"})
# Deadlines warned before they fall due (`completion` carries the warning of `overdue`).
WARNED_RULES = frozenset({"order_submit", "order_sign", "visit", "plan", "progress",
                          "completion", "blocked_visit_record", "blocked_callback",
                          "closure_verify", "major_meeting", "major_minutes", "claim_report",
                          "claim_filed", "systemic_measures"})
FOLLOWERS = frozenset({"deadline_warning", "running_fine"})


def ends_with_complaint(rule: str, details: Mapping[str, Any]) -> bool:
    """Cancelled when the complaint closes: a follower as the deadline it follows."""
    if rule in FOLLOWERS and details.get("for_rule") in RULES:
        return RULES[str(details["for_rule"])].ends_with_complaint
    return RULES[rule].ends_with_complaint

# Daily jobs (SPEC §4): the slot's local time; weekly on a weekday, monthly on a day.
DAILY_JOBS = ("daily_overdue_summary", "daily_major_list", "daily_reminder",
              "daily_slow_summary", "weekly_carryover", "monthly_report", "monthly_major_list")
# Jobs whose slot is a day of the month (the 1st), not every day or week.
MONTHLY_JOBS = frozenset({"monthly_report", "monthly_major_list"})


def _clock_time(text: object) -> time:
    if isinstance(text, int):
        # YAML 1.1 reads an unquoted 16:00 as the base-60 number 960: minutes.
        return time(text // 60, text % 60)
    hours, minutes = str(text).split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Settings:
    """Durations of the regulation and the SPEC's named choices (defaults =
    SPEC §4). Read from the config's `SLA:` section; unknown keys refused."""
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    order_submit: timedelta = timedelta(minutes=30)
    order_sign: timedelta = timedelta(minutes=60)
    visit: timedelta = timedelta(minutes=60)
    blocked_visit_record: timedelta = timedelta(minutes=60)
    blocked_callback: timedelta = timedelta(minutes=30)
    closure_verify: timedelta = timedelta(minutes=30)
    major_meeting: timedelta = timedelta(hours=24)     # Art. 33.2: from the escalation
    major_minutes: timedelta = timedelta(hours=24)
    claim_report: timedelta = timedelta(days=3)
    claim_filed: timedelta = timedelta(hours=24)
    systemic_measures: timedelta = timedelta(days=15)
    progress_at: time = time(18, 0)
    daily_reminder_at: time = time(9, 30)
    daily_overdue_summary_at: time = time(8, 30)
    daily_slow_summary_at: time = time(18, 30)
    weekly_carryover_at: time = time(9, 0)
    weekly_carryover_weekday: int = 0            # Monday
    monthly_report_at: time = time(0, 0)         # on the 1st
    daily_major_list_at: time = time(8, 30)      # Art. 33.1: to the GM
    monthly_major_list_at: time = time(9, 0)     # Art. 32: on the 1st, VP and chairmen
    rotation_notice_at: time = time(9, 0)        # on the day the rotation falls due
    overdue_tier1_last_day: int = 7
    overdue_tier2_last_day: int = 15
    # Choice: a rejection does not stop the order_sign clock (SPEC §4).
    sign_clock_runs_through_rejection: bool = True
    # How many complaints one reminder SMS lists by id before "等N件".
    reminder_list_limit: int = 5
    # Warnings before a deadline (deadline_warning): how long before it is due
    # (`<rule>_warning_minutes|_hours|_days`); progress at a time of the day;
    # overdue (the completion deadline) the day before.
    order_submit_warning: timedelta = timedelta(minutes=10)
    order_sign_warning: timedelta = timedelta(minutes=10)
    visit_warning: timedelta = timedelta(minutes=10)
    plan_warning: timedelta = timedelta(minutes=10)
    blocked_visit_record_warning: timedelta = timedelta(minutes=10)
    blocked_callback_warning: timedelta = timedelta(minutes=10)
    closure_verify_warning: timedelta = timedelta(minutes=10)
    major_meeting_warning: timedelta = timedelta(hours=2)
    major_minutes_warning: timedelta = timedelta(hours=2)
    claim_report_warning: timedelta = timedelta(days=1)
    claim_filed_warning: timedelta = timedelta(hours=2)
    systemic_measures_warning: timedelta = timedelta(days=1)
    overdue_warning: timedelta = timedelta(days=1)
    progress_warning_at: time = time(16, 0)
    # A running per-5-minute fine (order_submit, order_sign) is announced again
    # this often to the holder and the GM until the step is done.
    running_fine_every: timedelta = timedelta(hours=1)
    # A time typed for an act (visit, blocked visit, callback) may precede its receipt
    # by this much; beyond it the deadline is judged by the receipt time
    # unless the deputy GM accepts the stated time.
    stated_time_grace: timedelta = timedelta(minutes=30)
    # Art. 13: the customer's signing link is `link_path` joined to this
    # (the gateway's address as customers reach it).
    public_base_url: str = "http://127.0.0.1:8000"
    # Timers one firing transaction claims.
    batch_size: int = 500
    # The SMS signature 【…】 (from the config's SMS section, not SLA).
    sms_signature: str = "恒大售后"

    def warning_lead(self, rule: str) -> timedelta | None:
        """How long before `rule`'s deadline its warning goes (None: no warning)."""
        if rule not in WARNED_RULES or rule == "progress":
            return None
        lead = getattr(self, "overdue_warning" if rule == "completion" else f"{rule}_warning")
        return lead if isinstance(lead, timedelta) else None

    @property
    def sanction_day(self) -> int:
        return self.overdue_tier2_last_day + 1

    def daily_time(self, job: str) -> time:
        return {"daily_overdue_summary": self.daily_overdue_summary_at,
                "daily_reminder": self.daily_reminder_at,
                "daily_slow_summary": self.daily_slow_summary_at,
                "weekly_carryover": self.weekly_carryover_at,
                "monthly_report": self.monthly_report_at,
                "daily_major_list": self.daily_major_list_at,
                "monthly_major_list": self.monthly_major_list_at}[job]

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> Settings:
        section = dict((config or {}).get("SLA") or {})
        zone = ZoneInfo(config.get("TIME_ZONE", "Asia/Shanghai")) if config else ZoneInfo(
            "Asia/Shanghai")
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {"zone": zone}
        for key, raw in section.items():
            if key.endswith("_minutes") and key[:-8] in known:
                values[key[:-8]] = timedelta(minutes=float(raw))
            elif key.endswith("_hours") and key[:-6] in known:
                values[key[:-6]] = timedelta(hours=float(raw))
            elif key.endswith("_days") and key[:-5] in known:
                values[key[:-5]] = timedelta(days=float(raw))
            elif key in known and key.endswith("_at"):
                values[key] = _clock_time(raw)
            elif key in known and known[key].type in (int, "int"):
                values[key] = int(raw)
            elif key in known and known[key].type in (bool, "bool"):
                values[key] = str(raw).strip().lower() in {"1", "true", "yes", "on"}
            elif key in known and known[key].type in (str, "str") and key != "sms_signature":
                values[key] = str(raw)
            else:
                raise ValueError(f"unknown SLA setting {key!r}")
        sms = (config or {}).get("SMS") or {}
        if sms.get("signature"):
            values["sms_signature"] = str(sms["signature"])
        return cls(**values)


def overdue_tier(day: int, settings: TierLimits) -> int:
    """Day 1..7 -> 1, 8..15 -> 2, 16 on -> 3 (SPEC §4, Art. 36): the contract's
    rule, so the gateway's overdue board shows the tier sla announces."""
    return contract_overdue_tier(day, settings)
