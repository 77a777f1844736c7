"""Claims and major-complaint meetings (pure, SPEC §4, Art. 33, 34): the head's
written report and the filing of the decision, the chairman's meeting (it
meets `major_meeting`, major_rules.py) and its minutes."""
from __future__ import annotations

from services.sla.decision import Work
from services.sla.major_rules import meeting_held
from services.sla.model import Event, Outcome
from shared import roles


def _require_complaint(work: Work, event: Event, what: str) -> bool:
    if work.complaint is None:
        work.park(f"complaint:{event.complaint_id}", "unknown_complaint",
                  f"{what}：投诉 {event.complaint_id} 尚未建档 (unknown complaint)")
        return False
    return True


def on_claim_raised(work: Work, event: Event) -> Work | Outcome:
    if not _require_complaint(work, event, "索赔"):
        return work
    d = event.data
    work.arm("claim_report", f"claim:{d['claim_id']}:report",
             d["raised_at"] + work.settings.claim_report, d.get("head_person_id"), roles.HEAD,
             details={"claim_id": d["claim_id"]})
    work.provide(f"claim:{d['claim_id']}")
    return work


def on_claim_reported(work: Work, event: Event) -> Work | Outcome:
    d = event.data
    key = f"claim:{d['claim_id']}:report"
    if work.get(key) is None:
        return work.park(f"claim:{d['claim_id']}", "out_of_order",
                         f"索赔 {d['claim_id']} 的报告早于索赔登记到达 (reported before raised)")
    work.resolve(key, d["reported_at"], d.get("by"))
    return work


def on_claim_decided(work: Work, event: Event) -> Work | Outcome:
    d = event.data
    report = work.get(f"claim:{d['claim_id']}:report")
    head = d.get("head_person_id") or (report.person_id if report else None)
    if report is None and head is None:
        return work.park(f"claim:{d['claim_id']}", "out_of_order",
                         f"索赔 {d['claim_id']} 的批示早于索赔登记到达 (decided before raised)")
    if not _require_complaint(work, event, "索赔批示"):
        return work
    work.arm("claim_filed", f"claim:{d['claim_id']}:filed",
             d["decided_at"] + work.settings.claim_filed, head, roles.HEAD,
             details={"claim_id": d["claim_id"], "decision": d.get("decision")})
    work.provide(f"claim_decided:{d['claim_id']}")
    return work


def on_claim_filed(work: Work, event: Event) -> Work | Outcome:
    d = event.data
    key = f"claim:{d['claim_id']}:filed"
    if work.get(key) is None:
        return work.park(f"claim_decided:{d['claim_id']}", "out_of_order",
                         f"索赔 {d['claim_id']} 的报备早于批示到达 (filed before decided)")
    work.resolve(key, d["filed_at"], d.get("by"))
    return work


def on_meeting_held(work: Work, event: Event) -> Work | Outcome:
    if not _require_complaint(work, event, "专题会议"):
        return work
    d = event.data
    work.arm("major_minutes", f"meeting:{d['meeting_id']}:minutes",
             d["held_at"] + work.settings.major_minutes, d.get("chairman_person_id"),
             roles.CHAIRMAN, details={"meeting_id": d["meeting_id"],
                                      "held_at": d["held_at"].isoformat()})
    # Art. 33.2: the meeting due since the escalation is held.
    meeting_held(work, d["held_at"], d.get("chairman_person_id"))
    work.provide(f"meeting:{d['meeting_id']}")
    return work


def on_minutes_filed(work: Work, event: Event) -> Work | Outcome:
    d = event.data
    key = f"meeting:{d['meeting_id']}:minutes"
    if work.get(key) is None:
        return work.park(f"meeting:{d['meeting_id']}", "out_of_order",
                         f"会议 {d['meeting_id']} 的纪要早于会议记录到达 (minutes before the "
                         "meeting)")
    work.resolve(key, d["filed_at"], d.get("by"))
    return work
