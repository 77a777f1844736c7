"""zh-CN SMS texts. Each message has a template code (a provider's template id
is looked up by it) and the parameters the text was made from."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from services.sla.model import Complaint, Directory, Message, PersonRef, Timer
from services.sla.rules import RULES, Settings
from shared.organisation import DEPARTMENT_NAMES_ZH

# A line of a daily summary (jobs.overdue_items, the slow summary's items).
Item = dict[str, Any]

SIGNATURE = "恒大售后"



def local_text(value: datetime | None, zone: tzinfo, with_date: bool = True) -> str:
    """`11月27日 10:42` in the group's zone (or `10:42`)."""
    if value is None:
        return "—"
    local = value.astimezone(zone)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    return f"{local.month}月{local.day}日 {clock}" if with_date else clock


def _greeting(person: PersonRef | None) -> str:
    name = (person or {}).get("name")
    return f"{name}您好，" if name else ""


def _message(person: PersonRef | None, template: str, params: dict[str, Any], text: str,
             complaint_id: str | None, source: str, settings: Settings) -> Message:
    person = person or {}
    signature = getattr(settings, "sms_signature", None) or SIGNATURE
    return Message(person.get("person_id"), person.get("name"), person.get("mobile"), template,
                   params, f"【{signature}】{text}", complaint_id, source)


def complaint_label(complaint: Complaint, directory: Directory | None) -> str:
    project = directory.project_name(complaint.project_id) if directory else complaint.project_id
    room = f"房号{complaint.room}" if complaint.room else ""
    inner = "，".join(part for part in (project, room) if part)
    return f"{complaint.id}（{inner}）" if inner else complaint.id


def order_dispatched(complaint: Complaint, directory: Directory | None,
                     settings: Settings) -> Message:
    """Art. 19: the handler is told at once that the order was signed."""
    handler = complaint.handler
    minutes = int(settings.visit.total_seconds() // 60)
    visit = "1小时" if minutes == 60 else f"{minutes}分钟"
    due = local_text(complaint.completion_due_at, settings.zone)
    # A requested time already past at routing: the visit's agreed time counts (issue 13).
    finish = f"并于{due}前处理完成" if complaint.completion_due_at is not None else \
        "处理完成时间以回访时与客户商定的时间为准"
    text = (f"{_greeting(handler)}您有一张客户投诉督办令 {complaint_label(complaint, directory)}"
            f"已签发，请于{visit}内上门回访，{finish}。")
    return _message(handler, "order_dispatched",
                    {"complaint_id": complaint.id, "project": directory.project_name(
                        complaint.project_id) if directory else complaint.project_id,
                     "room": complaint.room, "completion_due": due},
                    text, complaint.id, "handler_notified", settings)


def daily_reminder(person: PersonRef, complaints: Sequence[Complaint],
                   directory: Directory | None, settings: Settings,
                   unsigned: Sequence[Complaint] = ()) -> Message:
    """Art. 19: one SMS per recipient listing their open complaints; a
    specialist's also lists theirs still 客户未签名 (Art. 13)."""
    limit = settings.reminder_list_limit

    def listed(items: Sequence[Complaint]) -> str:
        shown = "、".join(complaint_label(c, directory) for c in items[:limit])
        return shown + (f"等{len(items)}件" if len(items) > limit else "")

    parts = []
    if complaints:
        parts.append(f"您有{len(complaints)}件客户投诉尚未处理完成：{listed(complaints)}。"
                     "请尽快处理并于每天18:00前录入处理进展。")
    if unsigned:
        parts.append(f"您有{len(unsigned)}件投诉客户未签名：{listed(unsigned)}。请联系客户通过"
                     "短信链接签名确认，必要时重新发送签名链接（第十三条）。")
    return _message(person, "daily_reminder",
                    {"count": len(complaints), "complaint_ids": [c.id for c in complaints],
                     "unsigned_complaint_ids": [c.id for c in unsigned]},
                    _greeting(person) + "".join(parts), None, "daily_reminder", settings)


def signing_link(complaint: Complaint, customer_name: str | None, mobile: str | None, url: str,
                 expires_at: datetime | None, resent: bool, directory: Directory | None,
                 settings: Settings) -> Message:
    """Art. 13: the customer signs the record through a one-time link."""
    project = directory.project_name(complaint.project_id) if directory else \
        complaint.project_id
    room = f"房号{complaint.room}" if complaint.room else ""
    again = "已为您重新发送签名链接，此前发送的链接已失效。" if resent else ""
    until = f"请于{local_text(expires_at, settings.zone)}前" if expires_at else "请"
    text = (f"{_greeting({'name': customer_name})}您在{project}{room}的投诉已登记"
            f"（编号{complaint.id}）。{again}{until}打开以下链接核对投诉记录并签名确认：{url} 。"
            "如非本人投诉请忽略本短信。")
    return _message({"person_id": None, "name": customer_name, "mobile": mobile},
                    "signing_link",
                    {"complaint_id": complaint.id, "project": project, "room": complaint.room,
                     "link": url, "expires_at": expires_at.isoformat() if expires_at else None,
                     "resent": resent},
                    text, complaint.id, "signing_link", settings)


LEVELS_ZH = {"major": "重大投诉", "group": "群体性投诉", "common_issue": "共性问题投诉"}


def _major_line(item: Item, zone: tzinfo, daily: bool) -> str:
    level = LEVELS_ZH.get(item["level"], item["level"])
    escalated = item["escalated_at"].astimezone(zone)
    since = f"第{item['days']}天" if daily else f"{escalated.month}月{escalated.day}日升级"
    return f"{item['complaint_id']}（{level}，{since}）"


def major_list(person: PersonRef, day: date, items: Sequence[Item], settings: Settings,
               monthly: bool, chairman: bool = False) -> Message:
    """Art. 33.1 (daily, to the GM) and Art. 32 (monthly, to the VP and each
    chairman): the open major, group and common-issue complaints."""
    shown = "、".join(_major_line(i, settings.zone, not monthly) for i in items[:5])
    more = f"等{len(items)}件" if len(items) > 5 else ""
    if monthly:
        ask = ("请按要求参加专题会议并落实专项整改（第三十二条）。" if chairman else
               "请组织地区公司、物业公司召开专题会议，制定专项整改要求（第三十二条）。")
        text = (f"{_greeting(person)}截至{day.month}月{day.day}日尚未结案的重大、群体性及共性问题"
                f"投诉共{len(items)}件：{shown}{more}。{ask}")
    else:
        text = (f"{_greeting(person)}{day.month}月{day.day}日重大、群体性及共性问题投诉督办清单："
                f"共{len(items)}件：{shown}{more}。请督促董事长尽快解决（第三十三条）。")
    template = "monthly_major_list" if monthly else "daily_major_list"
    return _message(person, template,
                    {"date": day.isoformat(), "count": len(items),
                     "complaint_ids": [i["complaint_id"] for i in items]},
                    text, None, template, settings)


def escalation(person: PersonRef, timer: Timer, complaint: Complaint | None,
               responsible: PersonRef | None, settings: Settings, reason_zh: str) -> Message:
    rule = RULES[timer.rule]
    who = (responsible or {}).get("name") or timer.person_id or timer.role or ""
    subject = f"投诉 {complaint.id} 的" if complaint else ""
    text = (f"{_greeting(person)}督办提醒：{subject}「{rule.label_zh}」已超时"
            f"（应于{local_text(timer.due_at, settings.zone)}前完成，责任人{who}）。"
            f"{reason_zh}")
    return _message(person, "escalation",
                    {"rule": timer.rule, "article": rule.article, "timer_id": timer.id,
                     "due_at": timer.due_at.isoformat()},
                    text, complaint.id if complaint else None, timer.rule, settings)


def visit_overdue_reminder(handler: PersonRef | None, complaint: Complaint, due_at: datetime,
                           settings: Settings) -> Message:
    """The visit hour passed without a visit: remind the handler, and of the
    hour they have to record a visit the customer blocked (Art. 22, 23)."""
    text = (f"{_greeting(handler)}督办令 {complaint.id} 须于{local_text(due_at, settings.zone)}"
            "前上门回访，现已超时，请立即回访；如因客户原因无法回访，须于回访后1小时内录入回访材料。")
    return _message(handler, "visit_overdue_reminder",
                    {"complaint_id": complaint.id, "due_at": due_at.isoformat()},
                    text, complaint.id, "visit", settings)


def overdue_summary(person: PersonRef, date: date, items: Sequence[Item], settings: Settings,
                    serious_only: bool = False) -> Message:
    serious = [i for i in items if i["days_overdue"] > 15]
    listed = serious if serious_only else items
    shown = "、".join(f"{i['complaint_id']}（超期{i['days_overdue']}天）" for i in listed[:5])
    more = f"等{len(listed)}件" if len(listed) > 5 else ""
    if serious_only:
        text = (f"{_greeting(person)}{date:%m月%d日}严重超期投诉：{len(serious)}件超期15天以上："
                f"{shown}{more}。请督促尽快解决（第三十条）。")
    else:
        text = (f"{_greeting(person)}{date:%m月%d日}超期投诉汇总：共{len(items)}件，"
                f"其中超期15天以上{len(serious)}件。{shown}{more}")
    return _message(person, "daily_overdue_summary",
                    {"date": date.isoformat(), "count": len(items), "serious": len(serious)},
                    text, None, "daily_overdue_summary", settings)


def slow_summary(person: PersonRef, date: date, items: Sequence[Item],
                 settings: Settings) -> Message:
    no_progress = [i for i in items if "no_progress_today" in i["reasons"]]
    at_risk = [i for i in items if "completion_at_risk" in i["reasons"]]
    shown = "、".join(i["complaint_id"] for i in items[:5])
    more = f"等{len(items)}件" if len(items) > 5 else ""
    text = (f"{_greeting(person)}{date:%m月%d日}进展缓慢投诉汇总："
            f"今日未更新进展{len(no_progress)}件，预计超期{len(at_risk)}件。{shown}{more}")
    return _message(person, "daily_slow_summary",
                    {"date": date.isoformat(), "count": len(items)},
                    text, None, "daily_slow_summary", settings)


def weekly_carryover(person: PersonRef, week_start: date, departments: Sequence[Item],
                     settings: Settings) -> Message:
    total = sum(d["count"] for d in departments)
    parts = "，".join(f"{DEPARTMENT_NAMES_ZH.get(d['department'], d['department'] or '未分派')}"
                     f"{d['count']}件" for d in departments)
    text = (f"{_greeting(person)}上周（{week_start:%m月%d日}前）遗留未完成投诉共{total}件："
            f"{parts or '无'}。请组织责任部门召开专题会议制定整改计划（第三十一条）。")
    return _message(person, "weekly_carryover",
                    {"week_start": week_start.isoformat(), "count": total},
                    text, None, "weekly_carryover", settings)


def rotation_due(person: PersonRef, specialist: PersonRef | None, project_name: str | None,
                 assigned_on: date, settings: Settings) -> Message:
    name = (specialist or {}).get("name") or (specialist or {}).get("person_id")
    text = (f"{_greeting(person)}轮岗提醒：客服专员{name}（{project_name}）"
            f"自{assigned_on:%Y年%m月%d日}起在该项目任职已满半年，请安排项目轮换（第四十三条）。")
    return _message(person, "rotation_due",
                    {"specialist_id": (specialist or {}).get("person_id"),
                     "assigned_on": assigned_on.isoformat()},
                    text, None, "rotation", settings)
