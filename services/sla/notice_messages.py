"""zh-CN texts of the notices that follow a deadline (issue 13): the warning
before it is due (`deadline_warning`), the miss told to the holder's superior
and the hourly notice of a running fine (`deadline_missed`), and a routing
that failed (`routing_failed`). What a miss costs is the regulation's text
(Art. 18, 23, 29, 33-36, 42), not a computed amount."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from services.sla.messages import _greeting, _message, complaint_label, local_text
from services.sla.model import Complaint, Directory, Message, PersonRef, Timer
from services.sla.rules import RULES, Settings
from shared import roles

_OVERDUE_COST = ("超期7天内每天扣罚责任人100元、分管领导50元；超期8-15天每天扣罚责任人200元、"
                 "分管领导100元；超期15天以上另予扣罚50%-100%月度综合奖金、降薪或降职处分（第三十六条）")

# What a miss costs, per rule (the regulation's words).
COST_ZH = {
    "order_submit": "逾期每延迟5分钟扣罚责任人100元（第十八条）",
    "order_sign": "逾期每延迟5分钟扣罚持有督办令的责任人100元（第十八条）",
    "visit": "逾期未回访扣罚投诉处理责任人20%月度综合奖金（第三十五条）",
    "plan": "未按要求录入处理方案扣罚300元（第三十五条）",
    "progress": "未按要求更新处理进展每次扣罚200元（第三十五条）",
    "completion": _OVERDUE_COST,
    "overdue": _OVERDUE_COST,
    "blocked_visit_record": "逾期将上报分管领导督办（第二十三条）",
    "blocked_callback": "逾期将上报售后服务中心副总经理（第二十三条）",
    "closure_verify": "逾期将上报售后服务中心副总经理并计入考核（第二十九条）",
    "major_meeting": "逾期将上报售后服务中心总经理（第三十三条）",
    "major_minutes": "逾期将上报售后服务中心总经理（第三十三条）",
    "claim_report": "逾期将上报售后服务中心总经理（第三十四条）",
    "claim_filed": "逾期将上报售后服务中心总经理（第三十四条）",
    "systemic_measures": "逾期将上报售后服务中心总经理（第四十二条）",
}

STEP_ZH = dict({code: rule.label_zh for code, rule in RULES.items()},
               completion="投诉处理完成（处理完成时间）", overdue="投诉处理完成（处理完成时间）")


def _subject(target: Timer, complaint: Complaint | None, directory: Directory | None) -> str:
    if complaint is not None:
        return f"投诉 {complaint_label(complaint, directory)}的"
    if target.complaint_id:
        return f"投诉 {target.complaint_id} 的"
    quarter = target.details.get("quarter")
    return f"{quarter}季度系统性问题分析的" if quarter else ""


def _who(person: PersonRef | None, role: str | None) -> str:
    name = (person or {}).get("name") or (person or {}).get("person_id") or ""
    label = roles.LABELS_ZH.get(role or "", "") if role != "handler" else "投诉处理责任人"
    return f"{name}（{label}）" if name and label else name or label or "—"


def _params(target: Timer, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict({"rule": target.rule, "article": target.article, "timer_id": target.id,
                 "due_at": target.due_at.isoformat()}, **(extra or {}))


def warning(person: PersonRef, target: Timer, complaint: Complaint | None,
            directory: Directory | None, settings: Settings) -> Message:
    """Before the deadline: the complaint, the step, the due time, the cost."""
    text = (f"{_greeting(person)}到期提醒：{_subject(target, complaint, directory)}"
            f"「{STEP_ZH[target.rule]}」须于{local_text(target.due_at, settings.zone)}前完成，"
            f"{COST_ZH[target.rule]}。请及时处理。")
    return _message(person, "deadline_warning", _params(target), text,
                    target.complaint_id, target.rule, settings)


def missed_to_superior(person: PersonRef, target: Timer, complaint: Complaint | None,
                       responsible: PersonRef | None, responsible_role: str | None,
                       directory: Directory | None, settings: Settings,
                       day: int | None = None) -> Message:
    """A money rule missed: the holder's superior is told at once."""
    subject = _subject(target, complaint, directory)
    if day is not None:
        due = (complaint.completion_due_at if complaint is not None else None) or target.due_at
        what = (f"{subject}处理已超过完成时间（{local_text(due, settings.zone)}），"
                f"现为超期第{day}天")
    else:
        what = (f"{subject}「{STEP_ZH[target.rule]}」已超时"
                f"（应于{local_text(target.due_at, settings.zone)}前完成）")
    text = (f"{_greeting(person)}超时通报：{what}，责任人{_who(responsible, responsible_role)}。"
            f"{COST_ZH[target.rule]}。请督促尽快完成。")
    return _message(person, "deadline_missed",
                    _params(target, {"to": "superior", "responsible": (responsible or {}).get(
                        "person_id"), "day": day}),
                    text, target.complaint_id, target.rule, settings)


def running_fine(person: PersonRef, target: Timer, complaint: Complaint | None,
                 holder: PersonRef | None, holder_role: str | None, hours: int,
                 directory: Directory | None, settings: Settings) -> Message:
    """Every hour a per-5-minute fine keeps running: the holder and the GM."""
    text = (f"{_greeting(person)}持续扣罚通报：{_subject(target, complaint, directory)}"
            f"「{STEP_ZH[target.rule]}」已超时{hours}小时仍未完成（应于"
            f"{local_text(target.due_at, settings.zone)}前完成，当前责任人"
            f"{_who(holder, holder_role)}）。{COST_ZH[target.rule]}，扣罚持续累计，请立即处理。")
    return _message(person, "deadline_missed",
                    _params(target, {"to": "running", "hours": hours,
                                     "holder": (holder or {}).get("person_id")}),
                    text, target.complaint_id, target.rule, settings)


def routing_failed(person: PersonRef, complaint_id: str, complaint: Complaint | None,
                   reason: str, missing: str | None, failed_at: datetime | None,
                   directory: Directory | None, settings: Settings) -> Message:
    """A signed order no department could take: the admin and the GM at once."""
    label = complaint_label(complaint, directory) if complaint is not None else complaint_id
    text = (f"{_greeting(person)}派单失败：投诉 {label} 的督办令已签发，"
            f"于{local_text(failed_at, settings.zone)}无法派至责任部门（{reason}）。"
            "请尽快补全组织架构并重新派单；派单前的时间不计入责任部门的时限。")
    return _message(person, "routing_failed",
                    {"complaint_id": complaint_id, "missing": missing,
                     "failed_at": failed_at.isoformat() if failed_at else None},
                    text, complaint_id, "routing", settings)
