"""The centre's side after the order is signed, pure: who answers (a copy of
complaint.routed), the callback after a blocked visit (Art. 23) and the
closure loop (Art. 28, 29) — every step in every state, roles, events."""
from dataclasses import replace
from datetime import timedelta

import pytest

from services.intake import aftercare, closure, model, order
from services.intake.access import Actor
from services.intake.tests.helpers import (
    DEPUTY,
    GM,
    NOW,
    OTHER_SPECIALIST,
    SPECIALIST,
    SPECIALIST_2,
    STAFF,
    ZONE,
    assert_events_match_schemas,
    signed,
)
from shared import roles
from shared.contracts.intake import vocabulary
from shared.errors import Conflict, Forbidden, InvalidInput

CB1 = "C-GZ-2026-000001-CB1"
SPEC, SPEC2, OTHER = (Actor.from_dict(a) for a in (SPECIALIST, SPECIALIST_2, OTHER_SPECIALIST))
DEP, BOSS, STAFFER = Actor.from_dict(DEPUTY), Actor.from_dict(GM), Actor.from_dict(STAFF)
HEAD = Actor("pcgz-head", frozenset({roles.HEAD}), frozenset(), unit_id="pc-gz")
HR = Actor("hr-1", frozenset({roles.HR}))
MIN = timedelta(minutes=1)
LATER = NOW + 2 * timedelta(hours=1)
APP = "C-GZ-2026-000001-A1"


def routed_data(**changes):
    """complaint.routed's data as intake reads it (incoming.RoutedIn)."""
    data = {
        "order_round": 1, "routing_id": "C-GZ-2026-000001-R1", "reason": "order_signed",
        "department": "property", "department_name": "物业公司", "department_overridden": False,
        "override_reason": None, "company_id": "pc-gz", "unit_id": "pc-gz",
        "unit_name": "广州物业公司", "major": False, "escalation_level": None,
        "handler": {"person_id": "pcgz-head", "name": "温嘉欣", "mobile": "13602200002"},
        "leaders": [{"person_id": "pcgz-vp-eng", "name": "朱海生", "mobile": "13602200004",
                     "role": "company_leader"}],
        "chairman": {"person_id": "pcgz-chairman", "name": "叶永康", "mobile": "13602200001"},
        "department_head": {"person_id": "pcgz-head", "name": "温嘉欣", "mobile": "13602200002"},
        "supervising_leader": None,
        "cooperating_departments": [{"department": "engineering", "department_name": "工程部",
                                     "unit_id": "rc-gz.engineering", "unit_name": "工程部"}],
        "routed_at": NOW + 4 * MIN,
    }
    data.update(changes)
    return data


def blocked_data(visit_id="C-GZ-2026-000001-V1", recorded_at=NOW + 30 * MIN, **changes):
    data = {"order_round": 1, "visit_id": visit_id, "attempted_at": recorded_at - 10 * MIN,
            "recorded_at": recorded_at, "recorded_by": "pcgz-head", "reason": "客户拒绝开门"}
    data.update(changes)
    return data


def applied_data(application_id=APP, **changes):
    data = {"order_round": 1, "application_id": application_id, "applied_at": LATER,
            "applied_by": "pcgz-head", "material_media_ids": ["M-GZ-" + "d" * 32],
            "signature_media_id": "M-GZ-" + "e" * 32}
    data.update(changes)
    return data


def routed():
    return aftercare.on_routed(signed(), routed_data(), NOW + 5 * MIN).complaint


def applied():
    outcome = closure.on_closure_applied(routed(), None, applied_data(), LATER)
    return outcome.complaint, outcome.closures[-1]


def verified():
    c, x = applied()
    out = closure.verify(c, x, SPEC, {"decision": "approve", "satisfaction": 4, "comment": "满意"},
                         LATER + MIN, deputy_gm_id="centre-deputy-gm", zone=ZONE)
    return out.complaint, out.closures[-1]


def reviewed():
    c, x = verified()
    out = closure.review(c, x, DEP, "approve", None, LATER + 2 * MIN, gm_id="centre-gm", zone=ZONE)
    return out.complaint, out.closures[-1]


def closed():
    c, x = reviewed()
    out = closure.approve(c, x, BOSS, "approve", "同意结案", LATER + 3 * MIN, zone=ZONE)
    return out.complaint, out.closures[-1]


# -- who answers for it -------------------------------------------------------------------------

def test_routing_keeps_who_answers_and_lets_them_see_the_complaint():
    c = signed()
    assert not HEAD.may_see_complaint(c)
    outcome = aftercare.on_routed(c, routed_data(), NOW + 5 * MIN)
    new = outcome.complaint
    assert (new.handler_id, new.routing_id, new.state) == ("pcgz-head", "C-GZ-2026-000001-R1",
                                                           vocabulary.ORDER_SIGNED)
    assert new.responsibility["handler"]["name"] == "温嘉欣"
    assert new.responsibility["cooperating_departments"][0]["unit_id"] == "rc-gz.engineering"
    assert new.responsible_person_ids == ("pcgz-head", "pcgz-vp-eng", "pcgz-chairman")
    assert new.responsible_unit_ids == ("pc-gz", "rc-gz.engineering")
    assert HEAD.may_see_complaint(new)
    engineer = Actor("eng-1", frozenset(), unit_id="rc-gz.engineering")
    assert engineer.may_see_complaint(new) and not HR.may_see_complaint(new)
    [entry] = outcome.entries
    assert (entry.action, entry.actor_role, entry.at) == ("routed", "dispatch", NOW + 4 * MIN)
    assert outcome.events == []


def test_an_escalation_reroutes_to_the_chairman_but_older_or_other_rounds_change_nothing():
    c = routed()
    chairman = {"person_id": "pcgz-chairman", "name": "叶永康", "mobile": "13602200001"}
    again = aftercare.on_routed(c, routed_data(routing_id="R2", reason="escalated", major=True,
                                             handler=chairman, routed_at=NOW + 50 * MIN), NOW)
    assert again.complaint.handler_id == "pcgz-chairman"
    assert again.complaint.responsibility["major"] is True
    late = aftercare.on_routed(again.complaint, routed_data(routing_id="R0",
                                                          routed_at=NOW + MIN), NOW)
    assert late is None                                        # an older announcement
    assert aftercare.on_routed(c, routed_data(), NOW) is None    # the same routing again
    assert aftercare.on_routed(c, routed_data(routing_id="R9", order_round=2), NOW) is None


# -- the callback after a blocked visit (Art. 23) -------------------------------------------------

def test_a_blocked_visit_makes_a_callback_due_without_changing_the_state():
    c = routed()
    first = aftercare.on_visit_blocked(c, blocked_data(), NOW)
    new = first.complaint
    assert new.state == vocabulary.ORDER_SIGNED and new.callback_due_since == NOW + 30 * MIN
    assert [(e.action, e.actor_id, e.note) for e in first.entries] == [
        ("visit_blocked", "pcgz-head", "客户拒绝开门")]
    second = aftercare.on_visit_blocked(new, blocked_data("V2", NOW + 50 * MIN), NOW).complaint
    assert second.callback_due_since == NOW + 30 * MIN     # still owed since the first
    assert second.callback_visit_ids == ("C-GZ-2026-000001-V1", "V2")
    assert aftercare.on_visit_blocked(second, blocked_data("V2"), NOW) is None
    assert aftercare.on_visit_blocked(c, blocked_data(order_round=2), NOW) is None


@pytest.mark.parametrize("actor, role", [
    (STAFFER, roles.CENTRE_STAFF), (DEP, roles.CENTRE_DEPUTY_GM), (BOSS, roles.CENTRE_GM),
    (SPEC2, roles.SPECIALIST)])
def test_the_centre_or_the_desk_records_the_callback(actor, role):
    due = aftercare.on_visit_blocked(routed(), blocked_data(), NOW).complaint
    now = NOW + 45 * MIN
    outcome = aftercare.record_callback(due, actor, {"callback_at": now - 5 * MIN,
                                                   "outcome": "reached", "note": "已解释"}, now,
                                      zone=ZONE, callback_id=CB1)
    new = outcome.complaint
    assert new.callback_due_since is None and new.callback_visit_ids == ()
    assert (outcome.callback.called_by, outcome.callback.called_role) == (actor.person_id, role)
    assert outcome.callback.visit_ids == ("C-GZ-2026-000001-V1",)
    [(event_type, data)] = outcome.events
    assert event_type == "callback.recorded" and data["by_role"] == role
    assert data["callback_at"] == (now - 5 * MIN).astimezone(ZONE)
    assert data["due_since"] == (NOW + 30 * MIN).astimezone(ZONE)
    assert_events_match_schemas(outcome)
    with pytest.raises(Conflict):            # answered: nothing is owed any more
        aftercare.record_callback(new, actor, {"outcome": "reached"}, now, callback_id=CB1)


@pytest.mark.parametrize("actor", [OTHER, HEAD, HR, Actor.customer()])
def test_others_may_not_record_the_callback(actor):
    due = aftercare.on_visit_blocked(routed(), blocked_data(), NOW).complaint
    with pytest.raises(Forbidden):
        aftercare.record_callback(due, actor, {"outcome": "reached"}, NOW + 40 * MIN,
                                  callback_id=CB1)


def test_a_callback_nobody_owes_or_at_an_impossible_time_is_refused():
    with pytest.raises(Conflict) as caught:
        aftercare.record_callback(routed(), STAFFER, {"outcome": "reached"}, NOW + 40 * MIN,
                                  callback_id=CB1)
    assert "没有待回访" in caught.value.message
    due = aftercare.on_visit_blocked(routed(), blocked_data(), NOW).complaint
    for when in (NOW + 2 * timedelta(hours=1), NOW - timedelta(hours=1)):
        with pytest.raises(InvalidInput) as bad:
            aftercare.record_callback(due, STAFFER, {"outcome": "reached", "callback_at": when},
                                    NOW + 40 * MIN, callback_id=CB1)
        assert "callback_at" in bad.value.fields


# -- the closure loop (Art. 28, 29) ---------------------------------------------------------------

def test_an_application_goes_to_the_rounds_specialist():
    c, x = applied()
    assert c.state == vocabulary.CLOSURE_APPLIED and c.closure_application_id == APP
    assert (x.status, x.holder_id, x.holder_role) == ("applied", "p01-spec-1", "specialist")
    assert x.material_media_ids == ("M-GZ-" + "d" * 32,) and x.applied_at == LATER


def test_applications_of_other_rounds_or_repeated_change_nothing_and_impossible_ones_raise():
    c, x = applied()
    assert closure.on_closure_applied(c, x, applied_data(), LATER) is None
    assert closure.on_closure_applied(routed(), None, applied_data(order_round=2), LATER) is None
    for state in (vocabulary.ORDER_DRAFTED, vocabulary.ORDER_REVIEWED, vocabulary.CLOSED):
        with pytest.raises(model.UnexpectedEvent):
            closure.on_closure_applied(replace(routed(), state=state), None, applied_data(),
                                       LATER)


@pytest.mark.parametrize("build", [applied, verified, reviewed])
def test_a_newer_application_supersedes_the_one_the_centre_still_holds(build):
    c, x = build()
    outcome = closure.on_closure_applied(c, x, applied_data("A2"), LATER + 9 * MIN)
    old, new = outcome.closures
    assert (old.application_id, old.status, old.holder_id) == (APP, "superseded", None)
    assert (new.application_id, new.status) == ("A2", "applied")
    assert outcome.complaint.state == vocabulary.CLOSURE_APPLIED
    assert outcome.entries[0].details["superseded"] == APP


VERIFY_OK = {"decision": "approve", "satisfaction": 5, "comment": "很满意"}
VERIFY_NO = {"decision": "reject", "satisfaction": 2, "reason": "客户说仍在漏水"}
STEPS = {
    "verify_approve": lambda c, x: closure.verify(c, x, SPEC2, VERIFY_OK, LATER + 9 * MIN,
                                                  deputy_gm_id="centre-deputy-gm", zone=ZONE),
    "verify_reject": lambda c, x: closure.verify(c, x, SPEC, VERIFY_NO, LATER + 9 * MIN,
                                                 zone=ZONE),
    "review_approve": lambda c, x: closure.review(c, x, DEP, "approve", "同意", LATER + 9 * MIN,
                                                  gm_id="centre-gm", zone=ZONE),
    "review_reject": lambda c, x: closure.review(c, x, DEP, "reject", "回访记录不全",
                                                 LATER + 9 * MIN, zone=ZONE),
    "approve_approve": lambda c, x: closure.approve(c, x, BOSS, "approve", None, LATER + 9 * MIN,
                                                    zone=ZONE),
    "approve_reject": lambda c, x: closure.approve(c, x, BOSS, "reject", "材料缺签字",
                                                   LATER + 9 * MIN,
                                                   deputy_gm_id="centre-deputy-gm", zone=ZONE),
}
STATES = {
    vocabulary.ORDER_DRAFTED: lambda: (replace(signed(), state=vocabulary.ORDER_DRAFTED), None),
    vocabulary.ORDER_SIGNED: lambda: (routed(), None),
    vocabulary.CLOSURE_APPLIED: applied,
    vocabulary.CLOSURE_VERIFIED: verified,
    vocabulary.CLOSURE_REVIEWED: reviewed,
    vocabulary.CLOSED: closed,
}
ALLOWED = {   # (state, step): (new state, event, closure status, who holds it next)
    (vocabulary.CLOSURE_APPLIED, "verify_approve"): (
        vocabulary.CLOSURE_VERIFIED, "closure.verified", "verified", "centre-deputy-gm"),
    (vocabulary.CLOSURE_APPLIED, "verify_reject"): (
        vocabulary.ORDER_SIGNED, "closure.rejected", "rejected", None),
    (vocabulary.CLOSURE_VERIFIED, "review_approve"): (
        vocabulary.CLOSURE_REVIEWED, "closure.reviewed", "reviewed", "centre-gm"),
    (vocabulary.CLOSURE_VERIFIED, "review_reject"): (
        vocabulary.CLOSURE_APPLIED, "closure.rejected", "applied", "p01-spec-1"),
    (vocabulary.CLOSURE_REVIEWED, "approve_approve"): (
        vocabulary.CLOSED, "complaint.closed", "approved", None),
    (vocabulary.CLOSURE_REVIEWED, "approve_reject"): (
        vocabulary.CLOSURE_VERIFIED, "closure.rejected", "verified", "centre-deputy-gm"),
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("step", list(STEPS))
def test_every_closure_step_in_every_state(state, step):
    complaint, current = STATES[state]()
    assert complaint.state == state
    if (state, step) not in ALLOWED:
        with pytest.raises(Conflict) as caught:
            STEPS[step](complaint, current)
        assert caught.value.status == 409
        return
    new_state, event_type, status, holder = ALLOWED[(state, step)]
    outcome = STEPS[step](complaint, current)
    assert outcome.complaint.state == new_state
    [entry] = outcome.entries
    assert (entry.from_state, entry.to_state) == (state, new_state)
    [(emitted, data)] = outcome.events
    assert emitted == event_type and data["application_id"] == APP
    assert data["state"] == new_state
    [changed] = outcome.closures
    assert (changed.application_id, changed.status, changed.holder_id) == (APP, status, holder)
    assert_events_match_schemas(outcome)


def test_a_rejection_at_verification_sends_the_work_back_to_the_department():
    c, x = applied()
    outcome = STEPS["verify_reject"](c, x)
    assert outcome.complaint.closure_application_id is None
    data = outcome.events[0][1]
    assert (data["stage"], data["returned_to"], data["application_rejected"]) == (
        "verify", "department", True)
    assert (data["reason"], data["satisfaction"], data["by"]) == ("客户说仍在漏水", 2, "p01-spec-1")
    rejected = outcome.closures[0]
    assert (rejected.rejected_stage, rejected.rejection_reason) == ("verify", "客户说仍在漏水")
    # the department applies again: a new application starts the loop afresh
    again = closure.on_closure_applied(outcome.complaint, None, applied_data("A2"), LATER)
    assert again.complaint.state == vocabulary.CLOSURE_APPLIED
    assert again.closures[0].status == "applied"


def test_review_and_approval_rejections_go_back_one_centre_step_only():
    c, x = verified()
    back = STEPS["review_reject"](c, x)
    data = back.events[0][1]
    assert (data["stage"], data["returned_to"], data["application_rejected"]) == (
        "review", "verify", False)
    assert data["returned_to_person_id"] == "p01-spec-1"
    assert back.closures[0].verified_at is None and back.closures[0].satisfaction is None
    assert back.complaint.closure_application_id == APP
    c, x = reviewed()
    back = STEPS["approve_reject"](c, x)
    data = back.events[0][1]
    assert (data["stage"], data["returned_to"], data["application_rejected"]) == (
        "approve", "review", False)
    assert back.closures[0].reviewed_at is None and back.closures[0].satisfaction == 4


def test_the_approval_closes_the_complaint_with_the_survey():
    c, x = closed()
    assert c.state == vocabulary.CLOSED and c.closed_at == LATER + 3 * MIN
    assert (x.status, x.closed_by, x.satisfaction) == ("approved", "centre-gm", 4)
    reviewed_complaint, current = reviewed()
    data = STEPS["approve_approve"](reviewed_complaint, current).events[0][1]
    assert (data["application_id"], data["by"], data["satisfaction"]) == (APP, "centre-gm", 4)
    assert data["closed_at"] == (LATER + 9 * MIN).astimezone(ZONE)


def test_steps_out_of_order_say_what_comes_first():
    c, x = applied()
    with pytest.raises(Conflict) as caught:
        STEPS["review_approve"](c, x)
    assert "核查" in caught.value.message
    c, x = verified()
    with pytest.raises(Conflict) as caught:
        STEPS["approve_approve"](c, x)
    assert "副总经理审核" in caught.value.message
    with pytest.raises(Conflict) as caught:
        STEPS["verify_approve"](routed(), None)
    assert "尚未申请结案" in caught.value.message


@pytest.mark.parametrize("step, actor", [
    ("verify", DEP), ("verify", BOSS), ("verify", STAFFER), ("verify", OTHER), ("verify", HEAD),
    ("review", SPEC), ("review", BOSS), ("review", STAFFER),
    ("approve", SPEC), ("approve", DEP), ("approve", STAFFER),
])
def test_the_wrong_role_is_refused_before_the_state_is_looked_at(step, actor):
    c = routed()   # no closure step is allowed here: the role decides first
    with pytest.raises(Forbidden):
        if step == "verify":
            closure.verify(c, None, actor, VERIFY_OK, NOW)
        elif step == "review":
            closure.review(c, None, actor, "approve", None, NOW)
        else:
            closure.approve(c, None, actor, "approve", None, NOW)


def test_verification_needs_the_survey_and_rejections_need_a_reason():
    c, x = applied()
    with pytest.raises(InvalidInput) as caught:
        closure.verify(c, x, SPEC, {"decision": "approve", "satisfaction": None}, NOW)
    assert "satisfaction" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        closure.verify(c, x, SPEC, {"decision": "reject", "reason": "  "}, NOW)
    assert "reason" in caught.value.fields
    c, x = verified()
    with pytest.raises(InvalidInput):
        closure.review(c, x, DEP, "reject", None, NOW)
    with pytest.raises(InvalidInput):
        closure.review(c, x, DEP, "maybe", "x", NOW)


def test_a_reopen_starts_the_next_round_without_the_last_rounds_responsibility():
    c, _ = closed()
    c = replace(c, callback_due_since=NOW)
    reopened = order.reopen(c, SPEC, "漏水复发", LATER + timedelta(days=1)).complaint
    assert reopened.order_round == 2 and reopened.handler_id is None
    assert reopened.responsibility is None and reopened.closure_application_id is None
    assert reopened.callback_due_since is None and reopened.responsible_person_ids == ()
