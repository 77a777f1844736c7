"""Intake's pure rules: recording, reopen, escalate, who sees what, phones,
times and ids. The order's state machine (holder intervals, role rules):
test_order_steps; links, signing and ratings: test_signing_links."""
from dataclasses import replace
from datetime import timedelta

import pytest

from services.intake import access, model, order
from services.intake.access import Actor
from services.intake.tests.helpers import (
    BOSS,
    CID,
    DEP,
    MIN,
    NOW,
    OTHER,
    PROJECT_RECORD,
    SPEC,
    SPEC2,
    STAFFER,
    assert_events_match_schemas,
    drafted,
    loaded,
    recorded,
    signature_media,
    submitted,
)
from shared import ids, roles, validation
from shared.contracts.intake import forms, vocabulary
from shared.errors import Conflict, Forbidden, InvalidInput

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
