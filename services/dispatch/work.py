"""The department's work on a routed complaint: the visit (Art. 22, 23),
progress notes (Art. 26), the closure application (Art. 28), and what the
centre's side of the closure loop (intake's events, Art. 29) does to it.

Pure: every step takes the locked case, the acting staff member and the
validated form, and returns an Outcome.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from services.dispatch.case import (
    CLOSED,
    CLOSURE_APPLIED,
    IN_PROGRESS,
    ROUTED,
    VISIT_BLOCKED,
    WORKING,
    Binding,
    Case,
    HistoryEntry,
    Outcome,
    case_facts,
    with_state,
)
from services.dispatch.checks import (
    Errors,
    Staff,
    check_media,
    cooperating_department,
    in_future,
    in_handler_department,
    not_after_now,
    not_before,
    raise_errors,
    require_handler_department,
    require_routed,
    require_state,
)
from shared.contracts.dispatch.forms import BLOCKED, DONE
from shared.errors import Conflict, Forbidden
from shared.signing import record_sha256

PENDING, VERIFIED, REVIEWED, APPROVED, REJECTED = (
    "pending", "verified", "reviewed", "approved", "rejected")
Form = dict[str, Any]       # a loaded form, or an event's data as read
Media = dict[str, Any]      # media's description of each file a step names (or None)
PHOTO_KINDS = ("photo",)
MATERIAL_KINDS = ("material", "photo")
SIGNED_AT = ("督办单签发时间", "the order's signing")


@dataclass(frozen=True)
class Visit:
    id: str
    complaint_id: str
    order_round: int
    outcome: str  # done or blocked
    happened_at: datetime  # visited_at, or attempted_at for a blocked visit
    recorded_by: str
    recorded_at: datetime
    department: str
    photo_media_ids: tuple = ()
    plan: str | None = None
    agreed_completion_at: datetime | None = None
    completion_due_at: datetime | None = None
    reason: str | None = None  # why the customer blocked the visit
    signature_media_id: str | None = None
    record_sha256: str | None = None

    def signed_record(self) -> dict[str, Any]:
        """What the customer's signature confirms: the visit as recorded (SPEC §6)."""
        return {"record_type": "visit", "id": self.id, "complaint_id": self.complaint_id,
                "order_round": self.order_round, "outcome": self.outcome,
                "visited_at": self.happened_at, "plan": self.plan,
                "agreed_completion_at": self.agreed_completion_at,
                "photo_media_ids": list(self.photo_media_ids), "recorded_by": self.recorded_by,
                "recorded_at": self.recorded_at}


@dataclass(frozen=True)
class Progress:
    id: str
    complaint_id: str
    order_round: int
    note: str
    department: str
    unit_id: str
    by_handler_department: bool
    recorded_by: str
    recorded_at: datetime
    photo_media_ids: tuple = ()


@dataclass(frozen=True)
class ClosureApplication:
    id: str
    complaint_id: str
    order_round: int
    material_media_ids: tuple
    signature_media_id: str
    applied_by: str
    applied_at: datetime
    status: str = PENDING
    record_sha256: str | None = None
    verified_at: datetime | None = None
    verified_by: str | None = None
    satisfaction: int | None = None
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    rejected_at: datetime | None = None
    rejected_by: str | None = None
    rejected_stage: str | None = None
    rejection_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    work_done: str | None = None  # what the department did (issue 16); the customer signs it

    def signed_record(self) -> dict[str, Any]:
        record = {"record_type": "closure_application", "id": self.id,
                  "complaint_id": self.complaint_id, "order_round": self.order_round,
                  "material_media_ids": list(self.material_media_ids),
                  "applied_by": self.applied_by, "applied_at": self.applied_at}
        if self.work_done is not None:  # absent from older records, whose hashes stay valid
            record["work_done"] = self.work_done
        return record


@dataclass(frozen=True)
class Callback:
    """The centre's callback after a blocked visit (Art. 23), from intake."""
    id: str
    complaint_id: str
    order_round: int
    callback_at: datetime
    by: str | None
    outcome: str | None
    note: str | None
    received_at: datetime


def _media_errors(form: Form, media: Media, field_name: str, kinds: tuple[str, ...],
                  complaint_id: str, errors: Errors) -> None:
    for media_id in form.get(field_name) or ():
        check_media(media.get(media_id), media_id, kinds, field_name, complaint_id, errors)


def _signature_binding(record: Visit | ClosureApplication, record_type: str, by: str,
                       now: datetime) -> Binding:
    # Only signed records get here: both are set when the record is made.
    return Binding(cast(str, record.signature_media_id), record_type, record.id,
                   record.complaint_id, cast(str, record.record_sha256), by, now,
                   next_attempt_at=now)


# -- the visit (Art. 22, 23, 25) ---------------------------------------------------------------

def record_visit(case: Case, staff: Staff, form: Form, now: datetime, visit_id: str,
                 media: Media) -> Outcome:
    """Done: plan, agreed completion time, photos and the customer's signature;
    the completion deadline becomes min(requested, agreed) (Art. 25).
    Blocked by the customer: when and why, then the centre calls back (Art. 23)."""
    routing = require_routed(case, "登记上门回访")
    require_handler_department(staff, routing, "登记上门回访")
    if case.visited_at is not None:
        raise Conflict(f"投诉 {case.id} 本轮已登记上门回访 (the visit is already recorded)")
    require_state(case, (ROUTED, VISIT_BLOCKED), "登记上门回访")
    errors: Errors = {}
    photos = tuple(form["photo_media_ids"])
    _media_errors(form, media, "photo_media_ids", PHOTO_KINDS, case.id, errors)
    if form["outcome"] == DONE:
        not_after_now(form["visited_at"], now, "visited_at", errors)
        not_before(form["visited_at"], case.signed_at, "visited_at", *SIGNED_AT, errors)
        in_future(form["agreed_completion_at"], now, "agreed_completion_at", errors)
        signature_id = form["customer_signature_media_id"]
        check_media(media.get(signature_id), signature_id, ("signature",),
                    "customer_signature_media_id", case.id, errors, signature=True)
        raise_errors(errors)
        due = min(case.requested_completion_at, form["agreed_completion_at"])
        visit = Visit(visit_id, case.id, case.order_round, DONE, form["visited_at"],
                      staff.person_id, now, routing.department, photos, form["plan"],
                      form["agreed_completion_at"], due, signature_media_id=signature_id)
        visit = replace(visit, record_sha256=record_sha256(visit.signed_record()))
        new = with_state(case, IN_PROGRESS, now, completion_due_at=due,
                         visited_at=visit.happened_at)
        data = dict(case_facts(new), visit_id=visit.id, visited_at=visit.happened_at,
                    recorded_at=now, recorded_by=staff.person_id, plan=visit.plan,
                    agreed_completion_at=visit.agreed_completion_at,
                    requested_completion_at=case.requested_completion_at,
                    completion_due_at=due, photo_media_ids=list(photos),
                    signature_media_id=signature_id)
        outcome = Outcome(new).add(
            HistoryEntry(now, staff.person_id, "visit_recorded", case.state, new.state,
                         case.order_round, visit.id, visit.plan,
                         {"agreed_completion_at": form["agreed_completion_at"].isoformat(),
                          "completion_due_at": due.isoformat()}),
            ("visit.recorded", data), visit)
        outcome.bindings.append(_signature_binding(visit, "visit", staff.person_id, now))
    else:
        attempted_at = form["attempted_at"]
        not_after_now(attempted_at, now, "attempted_at", errors)
        not_before(attempted_at, case.signed_at, "attempted_at", *SIGNED_AT, errors)
        raise_errors(errors)
        visit = Visit(visit_id, case.id, case.order_round, BLOCKED, attempted_at,
                      staff.person_id, now, routing.department, photos, reason=form["reason"])
        new = with_state(case, VISIT_BLOCKED, now)
        data = dict(case_facts(new), visit_id=visit.id, attempted_at=attempted_at,
                    recorded_at=now, recorded_by=staff.person_id, reason=visit.reason,
                    photo_media_ids=list(photos))
        outcome = Outcome(new).add(
            HistoryEntry(now, staff.person_id, "visit_blocked", case.state, new.state,
                         case.order_round, visit.id, visit.reason),
            ("visit.blocked", data), visit)
    outcome.result = visit
    return outcome


# -- progress (Art. 26) ------------------------------------------------------------------------

def record_progress(case: Case, staff: Staff, form: Form, now: datetime, progress_id: str,
                    media: Media) -> Outcome:
    """A progress note by the handler's department or a cooperating one."""
    routing = require_routed(case, "登记处理进展")
    if in_handler_department(staff, routing):
        department, unit_id, own = routing.department, routing.department_unit_id, True
    else:
        cooperating = cooperating_department(staff, routing)
        if cooperating is None:
            raise Forbidden(f"只有责任部门（{routing.unit_name}）或配合部门的人员可以登记处理进展 "
                            "(only the handler's or a cooperating department may do this)")
        department, unit_id, own = cooperating.department, cooperating.unit_id, False
    require_state(case, WORKING + (CLOSURE_APPLIED,), "登记处理进展")
    errors: Errors = {}
    _media_errors(form, media, "photo_media_ids", PHOTO_KINDS, case.id, errors)
    raise_errors(errors)
    progress = Progress(progress_id, case.id, case.order_round, form["note"], department,
                        unit_id, own, staff.person_id, now, tuple(form["photo_media_ids"]))
    new = replace(case, updated_at=now)
    data = dict(case_facts(new), progress_id=progress.id, recorded_at=now,
                recorded_by=staff.person_id, department=department, unit_id=unit_id,
                by_handler_department=own, note=progress.note,
                photo_media_ids=list(progress.photo_media_ids))
    outcome = Outcome(new).add(
        HistoryEntry(now, staff.person_id, "progress_recorded", case.state, case.state,
                     case.order_round, progress.id, progress.note,
                     {"department": department, "by_handler_department": own}),
        ("progress.recorded", data), progress)
    outcome.result = progress
    return outcome


# -- the closure application (Art. 28) ---------------------------------------------------------

def apply_closure(case: Case, staff: Staff, form: Form, now: datetime, application_id: str,
                  media: Media) -> Outcome:
    """Apply for closure with customer-signed material; one application at a time."""
    routing = require_routed(case, "申请结案")
    require_handler_department(staff, routing, "申请结案")
    if case.state == CLOSURE_APPLIED:
        raise Conflict(f"投诉 {case.id} 已有待审批的结案申请，请等待核查或退回 "
                       "(a closure application is already pending)")
    require_state(case, (VISIT_BLOCKED, IN_PROGRESS), "申请结案",
                  "须先登记上门回访 (record the visit first)" if case.state == ROUTED else "")
    errors: Errors = {}
    _media_errors(form, media, "material_media_ids", MATERIAL_KINDS, case.id, errors)
    signature_id = form["customer_signature_media_id"]
    check_media(media.get(signature_id), signature_id, ("signature",),
                "customer_signature_media_id", case.id, errors, signature=True)
    raise_errors(errors)
    application = ClosureApplication(application_id, case.id, case.order_round,
                                     tuple(form["material_media_ids"]), signature_id,
                                     staff.person_id, now, work_done=form.get("work_done"))
    application = replace(application, record_sha256=record_sha256(application.signed_record()))
    new = with_state(case, CLOSURE_APPLIED, now)
    data = dict(case_facts(new), application_id=application.id, applied_at=now,
                applied_by=staff.person_id,
                material_media_ids=list(application.material_media_ids),
                signature_media_id=signature_id,
                completion_due_at=case.completion_due_at or case.requested_completion_at)
    outcome = Outcome(new).add(
        HistoryEntry(now, staff.person_id, "closure_applied", case.state, new.state,
                     case.order_round, application.id),
        ("closure.applied", data), application)
    outcome.bindings.append(_signature_binding(application, "closure_application",
                                               staff.person_id, now))
    outcome.result = application
    return outcome


# -- the centre's side of the loop (intake's events, Art. 29) ------------------------------------

def _work_state(case: Case) -> str:
    """Where the work stands again once an application is off the table."""
    return IN_PROGRESS if case.visited_at is not None else VISIT_BLOCKED


def on_closure_verified(case: Case, application: ClosureApplication, data: Form,
                        now: datetime) -> Outcome:
    if application.status != PENDING:
        return Outcome(case)
    changed = replace(application, status=VERIFIED, verified_at=data["verified_at"],
                      verified_by=data.get("by"), satisfaction=data.get("satisfaction"))
    return Outcome(case).add(HistoryEntry(
        now, data.get("by"), "closure_verified", case.state, case.state, application.order_round,
        application.id, details={"satisfaction": data.get("satisfaction")}), None, changed)


def on_closure_reviewed(case: Case, application: ClosureApplication, data: Form,
                        now: datetime) -> Outcome:
    if application.status not in (PENDING, VERIFIED):
        return Outcome(case)
    changed = replace(application, status=REVIEWED, reviewed_at=data["reviewed_at"],
                      reviewed_by=data.get("by"))
    return Outcome(case).add(HistoryEntry(
        now, data.get("by"), "closure_reviewed", case.state, case.state, application.order_round,
        application.id), None, changed)


def on_closure_rejected(case: Case, application: ClosureApplication, data: Form,
                        now: datetime) -> Outcome:
    """Rejected at verification: the application is off the table, the work
    reopens and a new application may follow (overdue runs again as if never
    applied, SPEC §4). Rejected at review or approval: the centre's chain steps
    back one step (to verification, to review) and the application stays open."""
    if application.status in (REJECTED, APPROVED):
        return Outcome(case)
    stage = data.get("stage")
    final = data.get("application_rejected")
    if final is None:
        final = stage in (None, "verify")
    entry_details = {"stage": stage, "returned_to": data.get("returned_to"),
                     "application_rejected": final}
    if not final:
        back = PENDING if stage == "review" else VERIFIED  # approve -> back to the review
        changed = replace(application, status=back)
        return Outcome(case).add(HistoryEntry(
            now, data.get("by"), "closure_sent_back", case.state, case.state,
            application.order_round, application.id, data.get("reason"), entry_details),
            None, changed)
    changed = replace(application, status=REJECTED, rejected_at=data["rejected_at"],
                      rejected_by=data.get("by"), rejected_stage=stage,
                      rejection_reason=data.get("reason"))
    new = case
    if case.state == CLOSURE_APPLIED and case.order_round == application.order_round:
        new = with_state(case, _work_state(case), now)
    return Outcome(new).add(HistoryEntry(
        now, data.get("by"), "closure_rejected", case.state, new.state, application.order_round,
        application.id, data.get("reason"), entry_details), None, changed)


def on_closed(case: Case, application: ClosureApplication | None, data: Form,
              now: datetime) -> Outcome:
    """The GM approved the closure: the complaint is closed."""
    out = Outcome(case)
    if application is not None and application.status != APPROVED:
        out.records.append(replace(application, status=APPROVED, closed_at=data["closed_at"],
                                   closed_by=data.get("by")))
    same_round = application is None or application.order_round == case.order_round
    if same_round and case.state != CLOSED:
        out.case = with_state(case, CLOSED, now, intake_state="closed")
    if out.records or out.case is not case:
        out.history.append(HistoryEntry(
            now, data.get("by"), "closed", case.state, out.case.state, case.order_round,
            application.id if application else None))
    return out


def on_reopened(before: Case | None, case: Case, data: Form, now: datetime) -> Outcome:
    """再次投诉: a new order round starts on intake's side; the department waits
    for its order (the previous rounds stay in the history)."""
    if before is not None and case.order_round == before.order_round:
        return Outcome(case)  # this round's facts were applied already: superseded
    # merge_facts started the new round (state awaiting_order, no visit yet).
    # No case before: it was resolved on the spot, never routed to a department.
    return Outcome(case).add(HistoryEntry(
        now, data.get("actor_id"), "reopened", before.state if before else None, case.state,
        case.order_round, note=data.get("reason")))


def on_callback(case: Case, data: Form, now: datetime, callback_id: str) -> Outcome:
    callback = Callback(callback_id, case.id, case.order_round, data["callback_at"],
                        data.get("by"), data.get("outcome"), data.get("note"), now)
    return Outcome(case).add(HistoryEntry(
        now, data.get("by"), "callback_recorded", case.state, case.state, case.order_round,
        callback_id, data.get("note"),
        {"outcome": data.get("outcome"), "visit_ids": list(data.get("visit_ids") or ())}),
        None, callback)

