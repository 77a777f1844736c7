"""Escalation (pure): a missed deadline reported to the posts SPEC §4 names
for its rule (the complaint's leaders, or centre posts from the directory)."""
from __future__ import annotations

from services.sla import messages
from services.sla.decision import Work
from services.sla.model import Complaint, PersonRef, Timer
from services.sla.rules import RULES


def escalation_recipients(work: Work, timer: Timer,
                          complaint: Complaint | None) -> list[PersonRef]:
    people: list[PersonRef] = []
    for target in RULES[timer.rule].escalate_to:
        if target == "leaders":
            people += list(complaint.leaders) if complaint else []
        elif work.directory is not None:
            people += work.directory.contacts(target)
    seen, out = set(), []
    for person in people:
        if person.get("person_id") and person["person_id"] not in seen:
            seen.add(person["person_id"])
            out.append(person)
    return out


def escalate(work: Work, timer: Timer, complaint: Complaint | None,
             responsible: PersonRef | None, reason_zh: str) -> None:
    recipients = escalation_recipients(work, timer, complaint)
    work.emit("escalation.raised", {
        "rule": timer.rule, "article": timer.article, "timer_id": timer.id,
        "complaint_id": complaint.id if complaint else None, "due_at": timer.due_at,
        "person_id": timer.person_id,
        "to_person_ids": [p["person_id"] for p in recipients], "reason": reason_zh},
        complaint.id if complaint else None)
    if not recipients:
        work.problem("missing_data", f"「{RULES[timer.rule].label_zh}」超时无人可报："
                                     f"{RULES[timer.rule].escalate_to} 在组织架构中空缺 "
                                     "(nobody to escalate to: post vacant or directory not loaded)")
    for person in recipients:
        work.send(messages.escalation(person, timer, complaint, responsible, work.settings,
                                      reason_zh))
