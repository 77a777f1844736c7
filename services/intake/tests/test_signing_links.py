"""Intake's pure rules, the customer's links: the link's checks, signing once
through it, the reception rated once (through a link or not), a refused
signature bind, and the bind's retry back-off."""
from dataclasses import replace
from datetime import timedelta

import pytest

from services.intake import links, model, signature
from services.intake.tests.helpers import (
    MIN,
    NOW,
    OTHER,
    SPEC,
    assert_events_match_schemas,
    drafted,
    recorded,
    signature_media,
)
from shared import signature_binding
from shared.contracts.intake import vocabulary
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


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
