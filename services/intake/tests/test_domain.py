"""Intake's pure rules: recording, the order's state machine, holder
intervals, role rules, links, ratings, reopen, escalate, ids."""
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from services.intake import access, links, model, order, signature
from services.intake.access import Actor
from services.intake.tests.helpers import (
    DEPUTY,
    GM,
    NOW,
    OTHER_SPECIALIST,
    PROJECT_RECORD,
    SPECIALIST,
    SPECIALIST_2,
    STAFF,
    form,
    signature_media,
)
from shared import ids, roles, signature_binding, validation
from shared.contracts.intake import forms, vocabulary
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events.envelope import build_envelope

ZONE = ZoneInfo("Asia/Shanghai")
SPEC, SPEC2 = Actor.from_dict(SPECIALIST), Actor.from_dict(SPECIALIST_2)
OTHER = Actor.from_dict(OTHER_SPECIALIST)
DEP, BOSS, STAFFER = Actor.from_dict(DEPUTY), Actor.from_dict(GM), Actor.from_dict(STAFF)
MIN = timedelta(minutes=1)
CID = "C-GZ-2026-000001"


def loaded(now=NOW, **changes):
    return forms.load(forms.RecordForm(now=now), form(now, **changes))


def recorded(channel="visit", now=NOW, on_spot=False, actor=SPEC, token="t" * 43, **changes):
    media = signature_media() if channel in vocabulary.SIGNED_AT_DESK else None
    data = loaded(now, channel=channel, resolved_on_spot=on_spot,
                  customer_signature_media_id=media["id"] if media else None, **changes)
    return order.record(CID, "GZ", data, actor, PROJECT_RECORD, now, signature_media=media,
                         link_token=None if media else token, zone=ZONE)


def drafted(now=NOW):
    return recorded(now=now).complaint


def submitted(now=NOW):
    return order.submit(drafted(now), SPEC, now + MIN, "centre-deputy-gm").complaint


def reviewed(now=NOW):
    return order.review(submitted(now), DEP, "approve", None, now + 2 * MIN,
                         gm_id="centre-gm").complaint


def signed(now=NOW):
    return order.sign(reviewed(now), BOSS, "approve", None, now + 3 * MIN).complaint


def assert_events_match_schemas(outcome):
    for event_type, data in outcome.events:
        build_envelope(event_type, data, producer="intake", region="GZ", occurred_at=NOW,
                       complaint_id=outcome.complaint.id)


# -- recording -----------------------------------------------------------------------------

def test_a_visit_is_recorded_with_its_order_drafted_and_held_by_the_specialist():
    outcome = recorded("visit")
    c = outcome.complaint
    assert c.state == vocabulary.ORDER_DRAFTED and c.order_round == 1
    assert c.holders == (model.Holder("p01-spec-1", roles.SPECIALIST, NOW),)
    assert c.signature_status == vocabulary.SIG_BINDING
    assert c.signature_media_id == signature_media()["id"]
    assert c.region_company_id == "rc-gz" and c.property_company_id == "pc-gz"
    assert c.round_started_at == c.contact_ended_at
    assert [(e.action, e.from_state, e.to_state) for e in outcome.entries] == [
        ("recorded", None, vocabulary.RECEIVED),
        ("order_drafted", vocabulary.RECEIVED, vocabulary.ORDER_DRAFTED)]
    assert [t for t, _ in outcome.events] == ["complaint.received"]
    assert outcome.binding.record_sha256 == model.record_hash(c)
    assert outcome.binding.state == "pending" and outcome.new_links == []
    data = outcome.events[0][1]
    assert data["specialist_id"] == "p01-spec-1" and data["actor_id"] == "p01-spec-1"
    assert data["contact_ended_at"].utcoffset() == timedelta(hours=8)
    assert data["holders"][0]["held_to"] is None
    assert_events_match_schemas(outcome)


def test_a_phone_complaint_waits_for_the_customer_to_sign_through_a_link():
    outcome = recorded("phone", token="secret-token-" + "x" * 30)
    c = outcome.complaint
    assert c.signature_status == vocabulary.SIG_PENDING and c.signature_media_id is None
    assert outcome.binding is None
    [made] = outcome.new_links
    assert made.link.step == vocabulary.STEP_RECORD_SIGNATURE
    assert made.link.token_sha256 == model.token_hash(made.token) != made.token
    assert made.link.expires_at == NOW + timedelta(hours=24)
    assert [t for t, _ in outcome.events] == ["complaint.received", "complaint.signature_requested"]
    requested = outcome.events[1][1]
    assert requested["link_path"] == "/sign/secret-token-" + "x" * 30
    assert requested["customer_phone"] == "13812345678"
    assert_events_match_schemas(outcome)


def test_resolved_on_the_spot_is_closed_without_an_order():
    outcome = recorded("visit", on_spot=True)
    c = outcome.complaint
    assert c.state == vocabulary.CLOSED and c.closed_at == NOW and c.holders == ()
    assert [e.action for e in outcome.entries] == ["recorded", "resolved_on_spot"]
    assert [t for t, _ in outcome.events] == ["complaint.received", "complaint.resolved_on_spot"]
    assert_events_match_schemas(outcome)


@pytest.mark.parametrize("actor", [DEP, BOSS, STAFFER, OTHER])
def test_only_a_specialist_of_the_projects_desk_records(actor):
    with pytest.raises(Forbidden):
        recorded("visit", actor=actor)


@pytest.mark.parametrize("media, message", [
    (signature_media(kind="photo"), "不是签名"),
    (signature_media(binding={"record_type": "visit", "record_id": "V-1"}), "已用于"),
    (signature_media(complaint_id="C-GZ-2026-000099"), "属于投诉"),
])
def test_a_desk_signature_must_be_a_free_signature(media, message):
    data = loaded(channel="visit", customer_signature_media_id=media["id"])
    with pytest.raises(InvalidInput) as caught:
        order.record(CID, "GZ", data, SPEC, PROJECT_RECORD, NOW, signature_media=media)
    assert message in caught.value.fields["customer_signature_media_id"][0]


def test_the_record_hash_covers_what_was_signed_and_nothing_else():
    c = drafted()
    assert model.record_hash(c) == model.record_hash(replace(c, state=vocabulary.ORDER_SIGNED,
                                                               reopen_count=3))
    assert model.record_hash(c) != model.record_hash(replace(c, demand=c.demand + "。"))
    assert model.record_hash(c) != model.record_hash(replace(c, room="3-2-1802"))


# -- the order's state machine --------------------------------------------------------------

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


# -- reopen and escalate --------------------------------------------------------------------

def test_reopening_starts_a_new_round_and_keeps_the_history():
    closed = recorded("visit", on_spot=True).complaint
    outcome = order.reopen(closed, SPEC2, "客户再次投诉漏水", NOW + timedelta(days=3))
    c = outcome.complaint
    assert c.state == vocabulary.ORDER_DRAFTED and c.order_round == 2 and c.reopen_count == 1
    assert c.round_started_at == NOW + timedelta(days=3) and c.closed_at is None
    assert c.holders == (model.Holder("p01-spec-2", roles.SPECIALIST, NOW + timedelta(days=3)),)
    assert c.contact_ended_at == closed.contact_ended_at   # the signed record is unchanged
    assert model.record_hash(c) == model.record_hash(closed)
    assert outcome.events[0][1]["previous_closed_at"] == NOW
    assert_events_match_schemas(outcome)
    with pytest.raises(Forbidden):
        order.reopen(closed, OTHER, "x", NOW)


def test_escalation_is_the_gms_and_changes_no_state():
    c = submitted()
    outcome = order.escalate(c, BOSS, "major", "涉及多户", NOW + 5 * MIN)
    assert outcome.complaint.state == c.state and outcome.complaint.escalation_level == "major"
    assert outcome.entries[0].from_state == outcome.entries[0].to_state == c.state
    assert_events_match_schemas(outcome)
    with pytest.raises(Conflict):
        order.escalate(outcome.complaint, BOSS, "major", "again", NOW + 6 * MIN)
    regrouped = order.escalate(outcome.complaint, BOSS, "group", "群体", NOW + 6 * MIN)
    assert regrouped.events[0][1]["previous_level"] == "major"
    with pytest.raises(Forbidden):
        order.escalate(c, DEP, "major", "x", NOW)
    with pytest.raises(Conflict):
        order.escalate(recorded("visit", on_spot=True).complaint, BOSS, "major", "x", NOW)


# -- links, signing, rating ------------------------------------------------------------------

def phone_complaint():
    outcome = recorded("phone")
    return outcome.complaint, outcome.new_links[0].link


def test_link_checks():
    _, link = phone_complaint()
    links.check_link(link, NOW + MIN, vocabulary.STEP_RECORD_SIGNATURE)
    with pytest.raises(NotFound):
        links.check_link(None, NOW)
    with pytest.raises(Conflict, match="过期"):
        links.check_link(link, NOW + timedelta(hours=24))
    with pytest.raises(Conflict, match="已使用"):
        links.check_link(replace(link, used_at=NOW), NOW)
    with pytest.raises(Conflict, match="不能用于"):
        links.check_link(link, NOW, vocabulary.STEP_RATING)


def test_the_customer_signs_once_through_the_link():
    c, link = phone_complaint()
    media = signature_media(complaint_id=c.id)
    outcome = links.sign_by_link(c, link, media, NOW + MIN, rating_token="r" * 43,
                                  link_ttl=timedelta(hours=72))
    assert outcome.complaint.signature_status == vocabulary.SIG_BINDING
    assert outcome.complaint.signature_media_id == media["id"]
    assert outcome.used_link.used_at == NOW + MIN
    assert outcome.binding.record_sha256 == model.record_hash(outcome.complaint)
    [rating_link] = outcome.new_links
    assert rating_link.link.step == vocabulary.STEP_RATING
    assert outcome.events[0][1]["rating_link_path"] == "/sign/" + "r" * 43
    assert_events_match_schemas(outcome)
    with pytest.raises(Conflict):
        links.sign_by_link(outcome.complaint, outcome.used_link, media, NOW + 2 * MIN,
                            rating_token="s" * 43, link_ttl=timedelta(hours=1))
    with pytest.raises(InvalidInput):   # a signature uploaded for another complaint
        links.sign_by_link(c, link, signature_media(complaint_id="C-GZ-2026-000002"), NOW,
                            rating_token="s" * 43, link_ttl=timedelta(hours=1))


def test_reception_is_rated_once():
    c = drafted()
    outcome = links.rate(c, 5, "态度很好", NOW + MIN, existing=None, via="terminal", actor=SPEC)
    assert outcome.rating.score == 5 and outcome.rating.specialist_id == "p01-spec-1"
    assert outcome.events[0][0] == "complaint.reception_rated"
    assert_events_match_schemas(outcome)
    with pytest.raises(Conflict):
        links.rate(c, 4, None, NOW + 2 * MIN, existing=outcome.rating, via="terminal", actor=SPEC)
    with pytest.raises(Forbidden):
        links.rate(c, 4, None, NOW, existing=None, via="terminal", actor=OTHER)
    for bad in (0, 6, True, "5"):
        with pytest.raises(InvalidInput):
            links.rate(c, bad, None, NOW, existing=None, via="terminal", actor=SPEC)


def test_rating_through_a_link_uses_it_up():
    c, sign_link = phone_complaint()
    rating_link = model.new_link("r" * 43, c, vocabulary.STEP_RATING, NOW, timedelta(hours=1)).link
    outcome = links.rate(c, 3, None, NOW + MIN, existing=None, via="link", link=rating_link)
    assert outcome.used_link.used_at == NOW + MIN and outcome.rating.via == "link"
    with pytest.raises(Conflict):   # the signing link is not a rating link
        links.rate(c, 3, None, NOW, existing=None, via="link", link=sign_link)


def test_a_refused_bind_marks_the_signature_refused():
    outcome = recorded("visit")
    c, binding, entry = signature.signature_refused(outcome.complaint, outcome.binding,
                                                 "bound to V-1", NOW + MIN)
    assert c.signature_status == vocabulary.SIG_REFUSED and binding.state == "refused"
    assert entry.action == "signature_refused" and entry.note == "bound to V-1"
    c, binding, entry = signature.signature_bound(outcome.complaint, outcome.binding, NOW + MIN)
    assert c.signature_status == vocabulary.SIG_SIGNED and binding.bound_at == NOW + MIN


def test_bind_retries_back_off():
    assert [signature_binding.retry_delay(n).total_seconds()
            for n in (1, 2, 3, 10)] == [5, 10, 20, 300]


# -- who sees what -----------------------------------------------------------------------------

def test_visibility():
    c = drafted()
    access.require_may_see(SPEC, c)
    access.require_may_see(STAFFER, c)
    access.require_may_see(BOSS, c)
    with pytest.raises(Forbidden):
        access.require_may_see(OTHER, c)
    with pytest.raises(Forbidden):
        access.require_may_see(Actor.from_dict({"person_id": "hr-1", "roles": ["hr"]}), c)
    with pytest.raises(Forbidden):
        Actor.from_dict({"roles": ["centre_gm"]})


# -- phones, times, ids ------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "13812345678"), ("+86 138 1234 5678", "13812345678"),
    ("0086-13812345678", "13812345678"), ("020-12345678", "020-12345678"),
    ("0771-1234567", "0771-1234567"), ("02012345678-123", "02012345678-123"),
    ("12812345678", None), ("1381234567", None), ("138123456789", None), ("abc", None),
    ("+86 020-12345678", None), ("20-12345678", None), ("", None), (None, None),
])
def test_phone_numbers(raw, expected):
    assert validation.normalise_phone(raw) == expected


def test_recording_times():
    ok = forms.recording_time_errors(NOW + MIN, NOW - MIN, NOW)
    assert ok == {}
    errors = forms.recording_time_errors(NOW - MIN, NOW + timedelta(hours=1), NOW)
    assert set(errors) == {"requested_completion_at", "contact_ended_at"}
    assert forms.recording_time_errors(NOW + MIN, NOW + MIN, NOW) == {}   # clock skew
    too_old = NOW - timedelta(days=31)
    assert "contact_ended_at" in forms.recording_time_errors(NOW + MIN, too_old, NOW)
    assert "requested_completion_at" in forms.recording_time_errors(
        NOW + timedelta(days=800), NOW, NOW)


def test_complaint_ids():
    assert ids.complaint_id("GZ", 2026, 123) == "C-GZ-2026-000123"
    assert ids.complaint_id("gz", 2026, 1234567) == "C-GZ-2026-1234567"
    assert ids.parse_complaint_id("C-GZ-2026-000123") == ("GZ", 2026, 123)
    for bad in ("C-GZ-2026-123", "C-gz-2026-000123", "X-GZ-2026-000123", None, "C-GZ-26-000001",
                "C-GZ-2026-000123; DROP TABLE"):
        assert not ids.is_complaint_id(bad)
    with pytest.raises(ValueError):
        ids.complaint_id("G Z", 2026, 1)
    with pytest.raises(ValueError):
        ids.complaint_id("GZ", 2026, 0)
