"""Claims (索赔, Art. 34): raised, the head's written report within three days,
the decision by the right authority, filed with the centre within 24 hours.

Who decides (a choice, SPEC §3 leaves it to the company's authority table):
- a major / group / common-issue complaint: only the chairman of the
  responsible company (Art. 34 says so);
- otherwise the head's supervising leader (分管领导) or the chairman, both
  frozen on the complaint's routing when it was routed.
Reporting and filing late are allowed and flagged `late`: the sla service
charges the delay (`claim_report`, `claim_filed`), it is not a reason to lose
the claim.

Pure: each step returns an Outcome.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from services.dispatch.case import Case, HistoryEntry, Outcome, Routing, case_facts
from services.dispatch.checks import (
    Errors,
    Staff,
    check_media,
    in_handler_department,
    is_centre,
    raise_errors,
)
from shared import roles
from shared.contracts.dispatch.forms import APPROVE
from shared.errors import Conflict, Forbidden, InvalidInput

RAISED, REPORTED, DECIDED, FILED = "raised", "reported", "decided", "filed"
STATUS_LABELS = {RAISED: "待一把手书面报告", REPORTED: "待审批", DECIDED: "待报备售后服务中心",
                 FILED: "已报备"}
REPORT_WITHIN = timedelta(days=3)
FILE_WITHIN = timedelta(hours=24)
REPORT_KINDS = ("report", "material")


@dataclass(frozen=True)
class Claim:
    id: str
    complaint_id: str
    order_round: int
    amount_claimed: Decimal  # Decimal, CNY
    description: str
    raised_by: str
    raised_at: datetime
    head_person_id: str  # 第一责任部门一把手: writes the report
    major: bool
    report_due_at: datetime
    status: str = RAISED
    reported_at: datetime | None = None
    reported_by: str | None = None
    report_text: str | None = None
    report_media_id: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    decided_as: str | None = None  # chairman or supervising_leader
    decision: str | None = None
    amount_granted: Decimal | None = None
    decision_note: str | None = None
    file_due_at: datetime | None = None
    filed_at: datetime | None = None
    filed_by: str | None = None


def _require_status(claim: Claim, expected: str, action: str) -> None:
    if claim.status != expected:
        raise Conflict(f"索赔 {claim.id} 当前为「{STATUS_LABELS[claim.status]}」，不能{action} "
                       f"(claim is {claim.status})")


def _require_claim_routing(case: Case, action: str) -> Routing:
    if case.routing is None:
        raise Conflict(f"投诉 {case.id} 尚未派单，不能{action} (the complaint is not routed yet)")
    return case.routing


def raise_claim(case: Case, staff: Staff, form: dict[str, Any], now: datetime,
                claim_id: str) -> Outcome:
    """Recorded by the handler's department or the centre (the project's desk
    specialists and centre staff, who hear the customer)."""
    routing = _require_claim_routing(case, "登记索赔")
    if not (in_handler_department(staff, routing) or is_centre(staff)
            or (roles.SPECIALIST in staff.roles and case.project_id in staff.project_ids)):
        raise Forbidden("只有责任部门、该项目客服专员或售后服务中心可以登记索赔 "
                        "(only the handler's department, the project's desk or the centre)")
    claim = Claim(claim_id, case.id, case.order_round, form["amount_claimed"],
                  form["description"], staff.person_id, now, routing.department_head.person_id,
                  case.major, now + REPORT_WITHIN)
    data = dict(case_facts(case), claim_id=claim.id, raised_at=now, raised_by=staff.person_id,
                amount_claimed=claim.amount_claimed, description=claim.description,
                head_person_id=claim.head_person_id, report_due_at=claim.report_due_at)
    outcome = Outcome(case).add(HistoryEntry(
        now, staff.person_id, "claim_raised", case.state, case.state, case.order_round, claim.id,
        claim.description, {"amount_claimed": str(claim.amount_claimed)}),
        ("claim.raised", data), claim)
    outcome.result = claim
    return outcome


def report_claim(case: Case, claim: Claim, staff: Staff, form: dict[str, Any], now: datetime,
                 media: dict[str, Any]) -> Outcome:
    """The head of the first responsible department's written report (Art. 34)."""
    if staff.person_id != claim.head_person_id:
        raise Forbidden("只有第一责任部门一把手可以提交索赔书面报告 "
                        "(only the first responsible department's head may report)")
    _require_status(claim, RAISED, "提交书面报告")
    errors: Errors = {}
    media_id = form["report_media_id"]
    if media_id is not None:
        check_media(media.get(media_id), media_id, REPORT_KINDS, "report_media_id", case.id,
                    errors)
    raise_errors(errors)
    changed = replace(claim, status=REPORTED, reported_at=now, reported_by=staff.person_id,
                      report_text=form["report_text"], report_media_id=media_id)
    late = now > claim.report_due_at
    data = dict(case_facts(case), claim_id=claim.id, reported_at=now, by=staff.person_id,
                report_media_id=media_id, report_due_at=claim.report_due_at, late=late)
    outcome = Outcome(case).add(HistoryEntry(
        now, staff.person_id, "claim_reported", case.state, case.state, claim.order_round,
        claim.id, details={"late": late}), ("claim.reported", data), changed)
    outcome.result = changed
    return outcome


def approvers(case: Case) -> list[tuple[str, str]]:
    """[(person_id, as)] who may decide a claim on this complaint now."""
    routing = case.routing
    if routing is None:
        return []
    if case.major:
        return [(routing.chairman.person_id, roles.CHAIRMAN)]
    found = []
    if routing.supervising_leader is not None:
        found.append((routing.supervising_leader.person_id, roles.SUPERVISING_LEADER))
    found.append((routing.chairman.person_id, roles.CHAIRMAN))
    return found


def decide_claim(case: Case, claim: Claim, staff: Staff, form: dict[str, Any],
                 now: datetime) -> Outcome:
    _require_claim_routing(case, "审批索赔")
    allowed = dict(reversed(approvers(case)))  # one person both? the chairman's seat wins
    if staff.person_id not in allowed:
        who = ("地区公司或物业公司董事长 (the chairman)" if case.major else
               "一把手的分管领导或董事长 (the head's supervising leader or the chairman)")
        raise Forbidden(f"索赔只能由{who}审批 (you may not decide this claim)")
    if claim.status == RAISED:
        raise Conflict(f"索赔 {claim.id} 须先由一把手提交书面报告 (the head must report first)")
    _require_status(claim, REPORTED, "审批")
    granted = form["amount_granted"]
    if form["decision"] == APPROVE:
        if granted is None or granted <= 0:
            raise InvalidInput({"amount_granted": [
                "批准时须填写赔付金额 (the amount granted is required)"]})
        if granted > claim.amount_claimed:
            raise InvalidInput({"amount_granted": [
                f"不能超过索赔金额 {claim.amount_claimed} (more than was claimed)"]})
    else:
        if granted:
            raise InvalidInput({"amount_granted": [
                "驳回时不能填写赔付金额 (no amount on a rejection)"]})
        if not form["note"]:
            raise InvalidInput({"note": ["驳回须说明理由 (a rejection needs a reason)"]})
        granted = None
    changed = replace(claim, status=DECIDED, decided_at=now, decided_by=staff.person_id,
                      decided_as=allowed[staff.person_id], decision=form["decision"],
                      amount_granted=granted, decision_note=form["note"],
                      file_due_at=now + FILE_WITHIN)
    data = dict(case_facts(case), claim_id=claim.id, decided_at=now, decided_by=staff.person_id,
                decided_as=changed.decided_as, decision=changed.decision,
                amount_granted=granted, note=changed.decision_note,
                file_due_at=changed.file_due_at, head_person_id=claim.head_person_id)
    outcome = Outcome(case).add(HistoryEntry(
        now, staff.person_id, "claim_decided", case.state, case.state, claim.order_round,
        claim.id, changed.decision_note,
        {"decision": changed.decision, "amount_granted": str(granted) if granted else None}),
        ("claim.decided", data), changed)
    outcome.result = changed
    return outcome


def file_claim(case: Case, claim: Claim, staff: Staff, now: datetime) -> Outcome:
    """Reported to the centre within 24 hours of the decision (Art. 34)."""
    if staff.person_id != claim.head_person_id and not (
            case.routing is not None and in_handler_department(staff, case.routing)):
        raise Forbidden("只有第一责任部门可以向售后服务中心报备索赔 "
                        "(only the first responsible department may file the claim)")
    if claim.status in (RAISED, REPORTED):
        raise Conflict(f"索赔 {claim.id} 尚未审批，不能报备 (not decided yet)")
    _require_status(claim, DECIDED, "报备")
    late = claim.file_due_at is not None and now > claim.file_due_at
    changed = replace(claim, status=FILED, filed_at=now, filed_by=staff.person_id)
    data = dict(case_facts(case), claim_id=claim.id, filed_at=now, by=staff.person_id,
                file_due_at=claim.file_due_at, late=late, head_person_id=claim.head_person_id)
    outcome = Outcome(case).add(HistoryEntry(
        now, staff.person_id, "claim_filed", case.state, case.state, claim.order_round, claim.id,
        details={"late": late}), ("claim.filed", data), changed)
    outcome.result = changed
    return outcome
