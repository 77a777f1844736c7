"""The department's work (Art. 22-29): visits, progress, the closure
application and what intake's closure loop does to it. Pure, no database."""
from dataclasses import replace
from datetime import timedelta

import pytest

from services.dispatch import work
from services.dispatch.checks import may_see, staff_of
from services.dispatch.tests.casework import (
    NOW,
    REQUESTED,
    facts,
    photo,
    routed_case,
    signature,
    staff,
)
from shared.contracts.dispatch.forms import ClosureForm, ProgressForm, VisitForm
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.signing import record_sha256
from shared.validation import load_input as load

SIG = signature()["id"]
PHOTO = photo()["id"]
MEDIA = {SIG: signature(), PHOTO: photo()}
CID = "C-GZ-2026-000001"


def visit_form(**changes):
    form = {"outcome": "done", "visited_at": (NOW - timedelta(minutes=5)).isoformat(),
            "plan": "更换防水层，三天内完成",
            "agreed_completion_at": (NOW + timedelta(days=3)).isoformat(),
            "customer_signature_media_id": SIG, "photo_media_ids": [PHOTO]}
    form.update(changes)
    return load(VisitForm(), {k: v for k, v in form.items() if v is not ...})


def blocked_form(**changes):
    form = {"outcome": "blocked", "attempted_at": (NOW - timedelta(minutes=10)).isoformat(),
            "reason": "客户拒绝开门"}
    form.update(changes)
    return load(VisitForm(), form)


@pytest.fixture
def case(demo_directory):
    """A marketing complaint on GZ-P01 routed to rcgz-mkt-head."""
    return routed_case(demo_directory)


@pytest.fixture
def head(demo_directory):
    return staff(demo_directory, "rcgz-mkt-head")


def test_a_done_visit_sets_the_completion_deadline_to_the_earlier_time(case, head):
    form = visit_form(agreed_completion_at=(NOW + timedelta(days=3)).isoformat())
    outcome = work.record_visit(case, head, form, NOW, f"{CID}-V1", MEDIA)
    visit = outcome.result
    assert outcome.case.state == "in_progress"
    assert visit.completion_due_at == form["agreed_completion_at"]  # earlier than requested
    assert outcome.case.completion_due_at == visit.completion_due_at
    assert visit.record_sha256 == record_sha256(visit.signed_record())
    [(event_type, data)] = outcome.events
    assert event_type == "visit.recorded"
    assert (data["visit_id"], data["plan"], data["signature_media_id"]) == (
        f"{CID}-V1", visit.plan, SIG)
    assert data["completion_due_at"] == form["agreed_completion_at"]
    assert (data["recorded_at"], data["recorded_by"], data["photo_media_ids"]) == (
        NOW, "rcgz-mkt-head", [PHOTO])
    [binding] = outcome.bindings
    assert (binding.media_id, binding.record_type, binding.record_id, binding.record_sha256) == (
        SIG, "visit", visit.id, visit.record_sha256)


def test_an_agreed_time_later_than_requested_keeps_the_orders_time(case, head):
    form = visit_form(agreed_completion_at=(REQUESTED + timedelta(days=5)).isoformat())
    outcome = work.record_visit(case, head, form, NOW, "V1", MEDIA)
    assert outcome.result.completion_due_at == REQUESTED


def test_anyone_of_the_department_may_record_but_no_one_else(demo_raw, directory_of, case):
    # SPEC §1 has no role for a department's ordinary staff: this one carries
    # `finance` (a role without a post) to be a valid directory entry.
    demo_raw["people"].append({"id": "rcgz-mkt-1", "name": "营销专员", "mobile": "13802100099",
                               "roles": ["finance"], "unit": "rc-gz.marketing"})
    directory = directory_of(demo_raw)
    member = staff_of(directory, {"person_id": "rcgz-mkt-1"})
    recorded = work.record_visit(case, member, visit_form(), NOW, "V1", MEDIA)
    assert recorded.case.state == "in_progress"
    for outsider in ("rcgz-eng-head", "rcgz-vp-mkt", "p01-spec-1", "centre-gm"):
        with pytest.raises(Forbidden):
            work.record_visit(case, staff(directory, outsider), visit_form(), NOW, "V1", MEDIA)


def test_a_major_complaints_visit_by_the_company_or_the_department(demo_directory):
    major = routed_case(demo_directory, escalation_level="major")
    for person_id in ("rcgz-chairman", "rcgz-vp-mkt", "rcgz-mkt-head"):
        outcome = work.record_visit(major, staff(demo_directory, person_id), visit_form(), NOW,
                                    "V1", MEDIA)
        assert outcome.case.state == "in_progress"
    with pytest.raises(Forbidden):
        work.record_visit(major, staff(demo_directory, "rcgz-eng-head"), visit_form(), NOW, "V1",
                          MEDIA)


@pytest.mark.parametrize("person_id, sees", [
    ("centre-staff-1", True), ("p01-spec-2", True), ("rcgz-mkt-head", True),
    ("rcgz-vp-design", True), ("rcgz-chairman", True), ("rcgz-trs-head", True),
    ("p03-spec-1", False), ("rcgz-eng-head", False), ("pcgz-head", False), ("hr-1", False),
])
def test_who_may_see_the_dispatch_page(case, demo_directory, person_id, sees):
    assert may_see(staff(demo_directory, person_id), case, [case.routing]) is sees


def test_a_person_not_in_the_directory_is_refused(demo_directory):
    with pytest.raises(Forbidden):
        staff_of(demo_directory, {"person_id": "ghost"})
    with pytest.raises(Forbidden):
        staff_of(demo_directory, {"person_id": "rcgz-mkt-head", "kind": "customer"})


def test_the_visit_needs_the_customers_signature(case, head):
    with pytest.raises(InvalidInput) as caught:
        visit_form(customer_signature_media_id=None)
    assert "customer_signature_media_id" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        visit_form(customer_signature_media_id=..., plan=...)
    assert set(caught.value.fields) == {"customer_signature_media_id", "plan"}


@pytest.mark.parametrize("bad, field", [
    ({SIG: photo(SIG)}, "customer_signature_media_id"),
    ({SIG: None}, "customer_signature_media_id"),
    ({SIG: signature(binding={"record_type": "complaint", "record_id": "C-GZ-2026-000009"})},
     "customer_signature_media_id"),
    ({SIG: signature(complaint_id="C-GZ-2026-000009")}, "customer_signature_media_id"),
    ({PHOTO: signature(PHOTO)}, "photo_media_ids"),
])
def test_media_of_the_wrong_kind_or_complaint_are_refused(case, head, bad, field):
    with pytest.raises(InvalidInput) as caught:
        work.record_visit(case, head, visit_form(), NOW, "V1", dict(MEDIA, **bad))
    assert list(caught.value.fields) == [field]


def test_an_agreed_completion_time_in_the_past_is_refused(case, head):
    form = visit_form(agreed_completion_at=(NOW - timedelta(minutes=1)).isoformat())
    with pytest.raises(InvalidInput) as caught:
        work.record_visit(case, head, form, NOW, "V1", MEDIA)
    assert "past" in caught.value.fields["agreed_completion_at"][0]


def test_visit_times_must_be_after_signing_and_not_in_the_future(case, head):
    with pytest.raises(InvalidInput) as caught:
        work.record_visit(case, head, visit_form(
            visited_at=(NOW + timedelta(hours=1)).isoformat()), NOW, "V1", MEDIA)
    assert "future" in caught.value.fields["visited_at"][0]
    with pytest.raises(InvalidInput) as caught:
        work.record_visit(case, head, visit_form(
            visited_at=(NOW - timedelta(hours=3)).isoformat()), NOW, "V1", MEDIA)
    assert "before" in caught.value.fields["visited_at"][0]


def test_times_need_an_offset():
    with pytest.raises(InvalidInput) as caught:
        visit_form(visited_at="2026-11-27T09:55:00")
    assert "offset" in caught.value.fields["visited_at"][0]


def test_a_blocked_visit_then_a_done_one(case, head):
    blocked = work.record_visit(case, head, blocked_form(), NOW, "V1", MEDIA)
    assert blocked.case.state == "visit_blocked"
    [(event_type, data)] = blocked.events
    assert event_type == "visit.blocked"
    assert (data["attempted_at"], data["reason"]) == (NOW - timedelta(minutes=10), "客户拒绝开门")
    assert blocked.bindings == [] and blocked.result.outcome == "blocked"
    again = work.record_visit(blocked.case, head, blocked_form(), NOW, "V2", MEDIA)
    assert again.case.state == "visit_blocked"
    done = work.record_visit(again.case, head, visit_form(), NOW, "V3", MEDIA)
    assert done.case.state == "in_progress"
    with pytest.raises(Conflict):
        work.record_visit(done.case, head, visit_form(), NOW, "V4", MEDIA)
    with pytest.raises(Conflict):
        work.record_visit(done.case, head, blocked_form(), NOW, "V4", MEDIA)


def test_the_blocked_visit_of_the_spec_body_may_name_its_time_visited_at():
    form = load(VisitForm(), {"outcome": "blocked", "visited_at": NOW.isoformat(),
                              "reason": "不在家"})
    assert form["attempted_at"] == NOW
    with pytest.raises(InvalidInput) as caught:
        load(VisitForm(), {"outcome": "blocked"})
    assert set(caught.value.fields) == {"reason", "attempted_at"}


def test_no_visit_before_the_order_is_routed(demo_directory, head):
    from services.dispatch.case import merge_facts
    waiting = merge_facts(None, facts(state="order_reviewed", signed_at=None), NOW)
    with pytest.raises(Conflict) as caught:
        work.record_visit(waiting, head, visit_form(), NOW, "V1", MEDIA)
    assert "not signed and routed" in caught.value.message


def test_progress_by_the_handlers_and_by_a_cooperating_department(case, demo_directory, head):
    form = load(ProgressForm(), {"note": "  已订购材料  ", "photo_media_ids": [PHOTO]})
    own = work.record_progress(case, head, form, NOW, "P1", MEDIA)
    assert own.result.note == "已订购材料" and own.result.by_handler_department
    [(event_type, data)] = own.events
    assert (event_type, data["department"], data["by_handler_department"]) == (
        "progress.recorded", "marketing", True)
    finance = staff(demo_directory, "rcgz-fin-head")  # sales_contract: finance cooperates
    theirs = work.record_progress(case, finance, form, NOW, "P2", MEDIA)
    assert (theirs.result.department, theirs.result.unit_id) == ("finance", "rc-gz.finance")
    assert theirs.events[0][1]["by_handler_department"] is False
    with pytest.raises(Forbidden):
        work.record_progress(case, staff(demo_directory, "rcgz-eng-head"), form, NOW, "P3", MEDIA)
    with pytest.raises(InvalidInput):
        load(ProgressForm(), {"note": "   "})


def test_progress_is_refused_once_closed(case, head):
    with pytest.raises(Conflict):
        work.record_progress(replace(case, state="closed"), head,
                             load(ProgressForm(), {"note": "x"}), NOW, "P1", MEDIA)


def closure_form(**changes):
    form = {"material_media_ids": [PHOTO], "customer_signature_media_id": SIG}
    form.update(changes)
    return load(ClosureForm(), form)


def visited(case, head):
    return work.record_visit(case, head, visit_form(), NOW, "V1", MEDIA).case


def test_applying_for_closure(case, head):
    outcome = work.apply_closure(visited(case, head), head, closure_form(), NOW, f"{CID}-A1", MEDIA)
    application = outcome.result
    assert outcome.case.state == "closure_applied" and application.status == "pending"
    [(event_type, data)] = outcome.events
    assert event_type == "closure.applied"
    assert (data["application_id"], data["applied_by"], data["signature_media_id"]) == (
        f"{CID}-A1", "rcgz-mkt-head", SIG)
    assert outcome.bindings[0].record_type == "closure_application"
    assert application.record_sha256 == record_sha256(application.signed_record())


def test_closure_needs_the_customers_signature(case, head):
    with pytest.raises(InvalidInput) as caught:
        closure_form(customer_signature_media_id=None)
    assert "signature is required" in caught.value.fields["customer_signature_media_id"][0]
    with pytest.raises(InvalidInput):
        work.apply_closure(visited(case, head), head, closure_form(), NOW, "A1",
                           {SIG: photo(SIG), PHOTO: photo()})


def test_a_second_application_while_one_is_pending_is_refused(case, head):
    applied = work.apply_closure(visited(case, head), head, closure_form(), NOW, "A1", MEDIA).case
    with pytest.raises(Conflict) as caught:
        work.apply_closure(applied, head, closure_form(), NOW, "A2", MEDIA)
    assert "already pending" in caught.value.message


def test_closure_before_any_visit_and_by_another_department_are_refused(case, head, demo_directory):
    with pytest.raises(Conflict) as caught:
        work.apply_closure(case, head, closure_form(), NOW, "A1", MEDIA)
    assert "record the visit first" in caught.value.message
    with pytest.raises(Forbidden):
        work.apply_closure(visited(case, head), staff(demo_directory, "rcgz-fin-head"),
                           closure_form(), NOW, "A1", MEDIA)


def test_the_closure_loop_verified_reviewed_rejected_then_applied_again_and_closed(case, head):
    applied = work.apply_closure(visited(case, head), head, closure_form(), NOW, "A1", MEDIA)
    app = applied.result
    verified = work.on_closure_verified(applied.case, app, {
        "verified_at": NOW, "by": "p01-spec-1", "satisfaction": 4}, NOW)
    app = verified.records[0]
    assert (app.status, app.satisfaction) == ("verified", 4)
    reviewed = work.on_closure_reviewed(applied.case, app, {"reviewed_at": NOW, "by": "d"}, NOW)
    app = reviewed.records[0]
    assert app.status == "reviewed"
    # The GM sends it back to the deputy GM's review: the department is not involved.
    back = work.on_closure_rejected(applied.case, app, {
        "rejected_at": NOW, "by": "centre-gm", "stage": "approve", "reason": "核实赔付",
        "returned_to": "review", "application_rejected": False}, NOW)
    assert back.case.state == "closure_applied" and back.records[0].status == "verified"
    assert [e.action for e in back.history] == ["closure_sent_back"]
    back = work.on_closure_rejected(applied.case, app, {
        "rejected_at": NOW, "by": "d", "stage": "review", "reason": "再回访",
        "returned_to": "verify", "application_rejected": False}, NOW)
    assert back.records[0].status == "pending"
    # The specialist rejects it at verification: the work goes back to the department.
    rejected = work.on_closure_rejected(applied.case, back.records[0], {
        "rejected_at": NOW, "by": "p01-spec-1", "stage": "verify", "reason": "材料不全",
        "returned_to": "department", "application_rejected": True}, NOW)
    assert rejected.case.state == "in_progress"
    app = rejected.records[0]
    assert (app.status, app.rejected_stage, app.rejection_reason) == (
        "rejected", "verify", "材料不全")
    # A late duplicate of the rejection changes nothing.
    assert work.on_closure_rejected(rejected.case, app, {"rejected_at": NOW}, NOW).records == []
    again = work.apply_closure(rejected.case, head, closure_form(customer_signature_media_id="S2"),
                               NOW, "A2", {"S2": signature("S2"), PHOTO: photo()})
    closed = work.on_closed(again.case, again.result, {"closed_at": NOW, "by": "centre-gm"}, NOW)
    assert closed.case.state == "closed" and closed.records[0].status == "approved"
    assert [e.action for e in closed.history] == ["closed"]


def test_a_rejection_without_a_done_visit_returns_to_the_blocked_visit(case, head):
    blocked = work.record_visit(case, head, blocked_form(), NOW, "V1", MEDIA).case
    applied = work.apply_closure(blocked, head, closure_form(), NOW, "A1", MEDIA)
    rejected = work.on_closure_rejected(applied.case, applied.result, {
        "rejected_at": NOW, "stage": "verify", "reason": "客户不满意"}, NOW)
    assert rejected.case.state == "visit_blocked"


def test_reopen_starts_a_new_round_waiting_for_its_order(case, head):
    closed = replace(visited(case, head), state="closed")
    from services.dispatch.case import merge_facts
    later = NOW + timedelta(days=1)
    reopened = merge_facts(closed, facts(occurred_at=later, state="order_drafted", order_round=2,
                                         signed_at=None), later)
    outcome = work.on_reopened(closed, reopened, {"reason": "漏水复发", "actor_id": "p01-spec-1"},
                               later)
    assert outcome.case.state == "awaiting_order" and outcome.case.order_round == 2
    assert outcome.case.visited_at is None
    assert [(e.action, e.from_state, e.note) for e in outcome.history] == [
        ("reopened", "closed", "漏水复发")]


def test_reopening_a_complaint_resolved_on_the_spot_starts_its_first_routed_round(case):
    """Dispatch never saw it (no order was signed): the reopen is its first news
    (found by the security sweep: the handler crashed and dead-lettered)."""
    from services.dispatch.case import merge_facts
    later = NOW + timedelta(days=1)
    reopened = merge_facts(None, facts(occurred_at=later, state="order_drafted", order_round=2,
                                       signed_at=None), later)
    outcome = work.on_reopened(None, reopened, {"reason": "漏水复发", "actor_id": "p01-spec-1"},
                               later)
    assert outcome.case.state == "awaiting_order" and outcome.case.order_round == 2
    assert [(e.action, e.from_state, e.to_state) for e in outcome.history] == [
        ("reopened", None, "awaiting_order")]
