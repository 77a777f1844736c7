"""Issue 13's acts on intake's side, as pure rules: void (before the order is
signed), a new signing link (Art. 13), and a callback's stated time accepted
by the deputy GM beyond the grace."""
from dataclasses import replace
from datetime import timedelta

import pytest

from services.intake import acts, aftercare, links, model
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
from services.intake.tests.test_closure import blocked_data, routed
from shared import roles
from shared.contracts.intake import vocabulary
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

GRACE = timedelta(minutes=30)
CB1 = "C-GZ-2026-000001-CB1"


# -- void -----------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [drafted, submitted, reviewed])
def test_the_deputy_gm_voids_a_complaint_until_the_order_is_signed(make):
    c = make()
    outcome = acts.void(c, DEP, "重复登记，与 C-GZ-2026-000002 同一诉求", NOW + 9 * MIN, zone=ZONE)
    new = outcome.complaint
    assert new.state == vocabulary.VOIDED and new.holder is None
    assert (new.voided_by, new.voided_at) == ("centre-deputy-gm", NOW + 9 * MIN)
    assert new.void_reason.startswith("重复登记")
    [entry] = outcome.entries
    assert (entry.action, entry.from_state, entry.to_state, entry.note) == (
        "voided", c.state, "voided", new.void_reason)
    [(event_type, data)] = outcome.events
    assert event_type == "complaint.voided" and data["previous_state"] == c.state
    assert data["reason"] == new.void_reason and data["voided_by"] == "centre-deputy-gm"
    assert outcome.revoke_links == (vocabulary.STEP_RECORD_SIGNATURE, vocabulary.STEP_RATING)
    assert_events_match_schemas(outcome)


def test_void_is_refused_after_signing_to_others_and_without_a_reason():
    with pytest.raises(Conflict) as late:
        acts.void(signed(), DEP, "登记错误", NOW + 9 * MIN)
    assert "督办单已签发" in late.value.message
    on_spot = recorded(on_spot=True).complaint
    with pytest.raises(Conflict):
        acts.void(on_spot, DEP, "登记错误", NOW + 9 * MIN)
    reopened = replace(drafted(), order_round=2)
    with pytest.raises(Conflict):
        acts.void(reopened, DEP, "登记错误", NOW + 9 * MIN)
    for who in (SPEC, BOSS, STAFFER):
        with pytest.raises(Forbidden):
            acts.void(drafted(), who, "登记错误", NOW + 9 * MIN)
    with pytest.raises(InvalidInput) as blank:
        acts.void(drafted(), DEP, "  ", NOW + 9 * MIN)
    assert "reason" in blank.value.fields
    voided = acts.void(drafted(), DEP, "登记错误", NOW + 9 * MIN).complaint
    with pytest.raises(Conflict) as again:
        acts.void(voided, DEP, "再次作废", NOW + 10 * MIN)
    assert "已作废" in again.value.message


# -- the signing link again (Art. 13) --------------------------------------------------------

@pytest.mark.parametrize("actor, role", [(SPEC2, roles.SPECIALIST), (STAFFER, roles.CENTRE_STAFF),
                                         (DEP, roles.CENTRE_DEPUTY_GM)])
def test_a_new_signing_link_replaces_the_old_one(actor, role):
    c = recorded("phone").complaint
    outcome = acts.resend_signing_link(c, actor, NOW + 20 * MIN, token="n" * 43,
                                       ttl=timedelta(hours=24), zone=ZONE)
    [made] = outcome.new_links
    assert made.link.step == vocabulary.STEP_RECORD_SIGNATURE
    assert made.link.expires_at == NOW + 20 * MIN + timedelta(hours=24)
    assert outcome.revoke_links == (vocabulary.STEP_RECORD_SIGNATURE,)
    [(event_type, data)] = outcome.events
    assert event_type == "complaint.signature_requested" and data["resent"] is True
    assert data["link_path"] == made.path and data["actor_role"] == role
    assert outcome.entries[0].action == "signing_link_resent"
    assert_events_match_schemas(outcome)


def test_a_revoked_link_stops_working():
    link = model.new_link("o" * 43, drafted(), vocabulary.STEP_RECORD_SIGNATURE, NOW,
                          timedelta(hours=24)).link
    with pytest.raises(Conflict) as caught:
        links.check_link(replace(link, revoked_at=NOW + MIN), NOW + 2 * MIN)
    assert "失效" in caught.value.message


def test_a_new_link_is_refused_when_signed_at_the_desk_already_signed_or_by_others():
    with pytest.raises(Conflict):
        acts.resend_signing_link(recorded("visit").complaint, SPEC, NOW, token="n" * 43,
                                 ttl=timedelta(hours=24))
    signed_phone = replace(recorded("phone").complaint, signature_status=vocabulary.SIG_SIGNED)
    with pytest.raises(Conflict):
        acts.resend_signing_link(signed_phone, SPEC, NOW, token="n" * 43,
                                 ttl=timedelta(hours=24))
    with pytest.raises(Forbidden):
        acts.resend_signing_link(recorded("phone").complaint, OTHER, NOW, token="n" * 43,
                                 ttl=timedelta(hours=24))


# -- a callback's stated time --------------------------------------------------------------

def called(stated_minutes_before, recorded_at=NOW + 90 * MIN):
    due = aftercare.on_visit_blocked(routed(), blocked_data(), NOW).complaint
    outcome = aftercare.record_callback(
        due, STAFFER, {"outcome": "reached",
                       "callback_at": recorded_at - stated_minutes_before * MIN},
        recorded_at, zone=ZONE, callback_id=CB1)
    return outcome.complaint, outcome.callback


def test_the_deputy_gm_accepts_a_callback_time_beyond_the_grace():
    c, callback = called(45)
    outcome = acts.accept_callback_time(c, callback, None, DEP, "客户手机信号差，登记延后",
                                        NOW + 2 * timedelta(hours=1), GRACE, zone=ZONE)
    accepted = outcome.time_acceptance
    assert (accepted.callback_id, accepted.stated_at, accepted.received_at) == (
        CB1, callback.callback_at, callback.recorded_at)
    [(event_type, data)] = outcome.events
    assert event_type == "callback.time_accepted"
    assert data["visit_ids"] == ["C-GZ-2026-000001-V1"] and data["accepted_by"] == DEP.person_id
    assert outcome.entries[0].action == "callback_time_accepted"
    assert outcome.entries[0].note == "客户手机信号差，登记延后"
    assert_events_match_schemas(outcome)


def test_accepting_is_refused_within_the_grace_twice_unknown_or_by_others():
    c, callback = called(30)               # exactly the grace: judged by the stated time
    with pytest.raises(Conflict) as within:
        acts.accept_callback_time(c, callback, None, DEP, "x", NOW + 2 * MIN * 60, GRACE)
    assert "无需认可" in within.value.message
    c, callback = called(31)
    done = acts.accept_callback_time(c, callback, None, DEP, "x", NOW + 120 * MIN, GRACE)
    with pytest.raises(Conflict):
        acts.accept_callback_time(c, callback, done.time_acceptance, DEP, "x", NOW + 121 * MIN,
                                  GRACE)
    with pytest.raises(NotFound):
        acts.accept_callback_time(c, None, None, DEP, "x", NOW + 121 * MIN, GRACE)
    with pytest.raises(NotFound):
        acts.accept_callback_time(replace(c, id="C-GZ-2026-000009"), callback, None, DEP, "x",
                                  NOW + 121 * MIN, GRACE)
    with pytest.raises(Forbidden):
        acts.accept_callback_time(c, callback, None, BOSS, "x", NOW + 121 * MIN, GRACE)
    with pytest.raises(InvalidInput):
        acts.accept_callback_time(c, callback, None, DEP, " ", NOW + 121 * MIN, GRACE)
