"""Intake's pure rules, the order's state machine: every step in every state,
the role rules checked before the state, rejections and their reasons, the
holders' intervals, a vacant deputy post, and the GM's department override."""

import pytest

from services.intake import model, order
from services.intake.tests.helpers import (
    BOSS,
    DEP,
    MIN,
    NOW,
    OTHER,
    SPEC,
    SPEC2,
    STAFFER,
    ZONE,
    assert_events_match_schemas,
    drafted,
    recorded,
    reviewed,
    signed,
    submitted,
)
from shared import roles
from shared.contracts.intake import vocabulary
from shared.errors import Conflict, Forbidden, InvalidInput

STEPS = {
    "submit": lambda c: order.submit(c, SPEC, NOW + 9 * MIN, "centre-deputy-gm"),
    "review_approve": lambda c: order.review(c, DEP, "approve", None, NOW + 9 * MIN,
                                              gm_id="centre-gm"),
    "review_reject": lambda c: order.review(c, DEP, "reject", "缺少照片", NOW + 9 * MIN,
                                             gm_id=None),
    "sign_approve": lambda c: order.sign(c, BOSS, "approve", None, NOW + 9 * MIN),
    "sign_reject": lambda c: order.sign(c, BOSS, "reject", "部门有误", NOW + 9 * MIN,
                                         deputy_gm_id="centre-deputy-gm"),
    "reopen": lambda c: order.reopen(c, SPEC, "客户再次来电", NOW + 9 * MIN),
}


STATES = {
    vocabulary.ORDER_DRAFTED: drafted,
    vocabulary.ORDER_SUBMITTED: submitted,
    vocabulary.ORDER_REVIEWED: reviewed,
    vocabulary.ORDER_SIGNED: signed,
    vocabulary.CLOSED: lambda: recorded("visit", on_spot=True).complaint,
}


ALLOWED = {
    (vocabulary.ORDER_DRAFTED, "submit"): vocabulary.ORDER_SUBMITTED,
    (vocabulary.ORDER_SUBMITTED, "review_approve"): vocabulary.ORDER_REVIEWED,
    (vocabulary.ORDER_SUBMITTED, "review_reject"): vocabulary.ORDER_DRAFTED,
    (vocabulary.ORDER_REVIEWED, "sign_approve"): vocabulary.ORDER_SIGNED,
    (vocabulary.ORDER_REVIEWED, "sign_reject"): vocabulary.ORDER_SUBMITTED,
    (vocabulary.CLOSED, "reopen"): vocabulary.ORDER_DRAFTED,
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("step", list(STEPS))
def test_every_step_in_every_state(state, step):
    complaint = STATES[state]()
    assert complaint.state == state
    if (state, step) in ALLOWED:
        outcome = STEPS[step](complaint)
        assert outcome.complaint.state == ALLOWED[(state, step)]
        assert outcome.entries[-1].from_state == state
        assert outcome.entries[-1].to_state == ALLOWED[(state, step)]
        assert len(outcome.events) == 1
        assert_events_match_schemas(outcome)
    else:
        with pytest.raises(Conflict):
            STEPS[step](complaint)


def test_signing_an_order_never_reviewed_says_why():
    with pytest.raises(Conflict) as caught:
        STEPS["sign_approve"](submitted())
    assert "审核" in caught.value.message


@pytest.mark.parametrize("step, actor", [
    ("submit", DEP), ("submit", BOSS), ("submit", OTHER), ("submit", STAFFER),
    ("review", SPEC), ("review", BOSS), ("review", STAFFER),
    ("sign", SPEC), ("sign", DEP), ("sign", STAFFER),
])
def test_the_wrong_role_is_refused_before_the_state_is_looked_at(step, actor):
    complaint = signed()   # a state where no step is allowed: the role decides first
    with pytest.raises(Forbidden):
        if step == "submit":
            order.submit(complaint, actor, NOW, None)
        elif step == "review":
            order.review(complaint, actor, "approve", None, NOW, gm_id=None)
        else:
            order.sign(complaint, actor, "approve", None, NOW)


def test_another_specialist_of_the_desk_may_submit():
    outcome = order.submit(drafted(), SPEC2, NOW + MIN, "centre-deputy-gm", zone=ZONE)
    assert outcome.complaint.submitted_by == "p01-spec-2"


def test_a_rejection_needs_a_reason():
    with pytest.raises(InvalidInput) as caught:
        order.review(submitted(), DEP, "reject", "  ", NOW + 5 * MIN, gm_id=None)
    assert "reason" in caught.value.fields
    with pytest.raises(InvalidInput):
        order.sign(reviewed(), BOSS, "reject", None, NOW + 5 * MIN)


def test_holder_intervals_through_rejections_back_one_step():
    t = [NOW + n * 10 * MIN for n in range(9)]
    c = recorded(now=t[0]).complaint
    c = order.submit(c, SPEC2, t[1], "centre-deputy-gm").complaint
    rejected = order.review(c, DEP, "reject", "诉求不清", t[2], gm_id=None)
    c = rejected.complaint
    assert c.state == vocabulary.ORDER_DRAFTED and c.holder.person_id == "p01-spec-2"
    assert rejected.events[0][0] == "order.rejected"
    assert rejected.events[0][1]["returned_to_role"] == roles.SPECIALIST
    resubmitted = order.submit(c, SPEC, t[3], "centre-deputy-gm")
    assert resubmitted.events[0][1]["resubmitted"] is True
    c = resubmitted.complaint
    c = order.review(c, DEP, "approve", "同意", t[4], gm_id="centre-gm").complaint
    c = order.sign(c, BOSS, "reject", "请再核实", t[5], deputy_gm_id="centre-deputy-gm").complaint
    assert c.state == vocabulary.ORDER_SUBMITTED and c.reviewed_at is None
    c = order.review(c, DEP, "approve", None, t[6], gm_id="centre-gm").complaint
    final = order.sign(c, BOSS, "approve", None, t[7])
    c = final.complaint
    assert c.state == vocabulary.ORDER_SIGNED and c.holder is None
    assert c.first_submitted_at == t[1] and c.submitted_at == t[3]
    assert c.reviewed_at == t[6] and c.signed_at == t[7]
    assert [(h.person_id, h.role, h.held_from, h.held_to) for h in c.holders] == [
        ("p01-spec-1", roles.SPECIALIST, t[0], t[1]),
        ("centre-deputy-gm", roles.CENTRE_DEPUTY_GM, t[1], t[2]),
        ("p01-spec-2", roles.SPECIALIST, t[2], t[3]),
        ("centre-deputy-gm", roles.CENTRE_DEPUTY_GM, t[3], t[4]),
        ("centre-gm", roles.CENTRE_GM, t[4], t[5]),
        ("centre-deputy-gm", roles.CENTRE_DEPUTY_GM, t[5], t[6]),
        ("centre-gm", roles.CENTRE_GM, t[6], t[7]),
    ]
    holders = final.events[0][1]["holders"]
    assert holders[-1]["held_to"] == t[7] and holders[-1]["person_id"] == "centre-gm"
    assert_events_match_schemas(final)


def test_a_vacant_deputy_post_still_moves_the_order():
    c = order.submit(drafted(), SPEC, NOW + MIN, None).complaint
    assert c.holder == model.Holder(None, roles.CENTRE_DEPUTY_GM, NOW + MIN)


def test_the_gm_may_override_the_department_with_a_reason_that_is_kept():
    outcome = order.sign(reviewed(), BOSS, "approve", "同意", NOW + 5 * MIN,
                          department="engineering", department_reason="属工程质量问题")
    c = outcome.complaint
    assert (c.department, c.department_reason) == ("engineering", "属工程质量问题")
    assert outcome.entries[0].details["department"] == "engineering"
    data = outcome.events[0][1]
    assert data["department"] == "engineering" and data["department_overridden"] is True
    assert_events_match_schemas(outcome)


@pytest.mark.parametrize("decision, department, reason, field", [
    ("approve", "sales", "理由", "department"),
    ("approve", "engineering", " ", "department_reason"),
    ("approve", None, "理由", "department"),
    ("reject", "engineering", "理由", "department"),
])
def test_bad_department_overrides_are_refused(decision, department, reason, field):
    with pytest.raises(InvalidInput) as caught:
        order.sign(reviewed(), BOSS, decision, "退回理由", NOW + 5 * MIN, department=department,
                    department_reason=reason)
    assert field in caught.value.fields
