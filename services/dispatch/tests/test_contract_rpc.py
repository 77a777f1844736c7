"""Dispatch's RPC contract (shared.contracts.dispatch) holds both ways:

- the typed client's methods are the service's entrypoints (same names, same
  parameters), so a caller's go-to-definition lands on what runs;
- requests as the gateway and intake send them load with the contract's forms
  (the schemas the service itself loads them with);
- the service's answers, from a real worker on the test database, load with
  the contract's views (they refuse an unknown field or a wrong type), and a
  planted wrong field is caught.
"""
import inspect
from datetime import timedelta
from decimal import Decimal

import pytest
from marshmallow import Schema

from services.dispatch.service import DispatchService
from services.dispatch.tests.casework import NOW, envelope_body, facts_data
from services.dispatch.tests.test_service_units import HEAD, service  # noqa: F401 (fixture)
from shared.contracts.base import ServiceClient
from shared.contracts.dispatch import DispatchClient, directory_views, forms, views
from shared.validation import load_input

CID = "C-GZ-2026-000001"
MAJOR = "C-GZ-2026-000002"


def entrypoints():
    return {name for name, member in inspect.getmembers(DispatchService, inspect.isfunction)
            if hasattr(member, "nameko_entrypoints") and any(
                type(e).__name__ == "Rpc" for e in member.nameko_entrypoints)}


def client_methods():
    return {name for name, member in inspect.getmembers(DispatchClient, inspect.isfunction)
            if not name.startswith("_") and not hasattr(ServiceClient, name)}


def test_the_client_mirrors_the_service_entrypoints():
    assert client_methods() == entrypoints()
    for name in entrypoints():
        served = inspect.signature(getattr(DispatchService, name))
        called = inspect.signature(getattr(DispatchClient, name))
        assert [(p.name, p.default) for p in served.parameters.values()] == \
               [(p.name, p.default) for p in called.parameters.values()], name


# -- requests as the callers send them -----------------------------------------------------

SIGNATURE, PHOTO = "M-GZ-" + "a" * 32, "M-GZ-" + "b" * 32
# The gateway forwards each body as sent (services/gateway/routes/dispatch.py).
GATEWAY_BODIES = [
    (forms.VisitForm, {"outcome": "done", "visited_at": "2026-11-27T10:00:00+08:00",
                       "plan": "更换门锁\n三日内完成", "agreed_completion_at":
                       "2026-11-30T18:00:00+08:00", "customer_signature_media_id": SIGNATURE,
                       "photo_media_ids": [PHOTO]}),
    (forms.VisitForm, {"outcome": "blocked", "visited_at": "2026-11-27T10:00:00+08:00",
                       "reason": "业主拒绝上门"}),
    (forms.ProgressForm, {"note": "已订购材料", "photo_media_ids": []}),
    (forms.ClosureForm, {"material_media_ids": [PHOTO], "customer_signature_media_id": SIGNATURE}),
    (forms.ClaimForm, {"amount_claimed": "1200.50", "description": "漏水损坏地板"}),
    (forms.ClaimReportForm, {"report_text": "情况属实", "report_media_id": None}),
    (forms.ClaimDecisionForm, {"decision": "approve", "amount_granted": "800", "note": None}),
    (forms.ClaimDecisionForm, {"decision": "reject", "note": "不属于责任范围"}),
    (forms.MeetingForm, {"held_at": "2026-11-27T09:00:00+08:00", "responsible": "邓海峰",
                         "solution": "整改", "due_at": "2026-12-05T18:00:00+08:00"}),
    (forms.MinutesForm, {"minutes_media_id": PHOTO}),
    (forms.RoutingErrorQuery, {"open_only": "false"}),
    (forms.ReasonForm, {"reason": "地下室无信号，回办公室补登"}),
]
# intake asks for a project and for people by role (services/intake/remote.py); sla for
# everyone, inactive included; the gateway for a person.
DIRECTORY_ARGUMENTS = [
    (forms.IdArgument, {"id": "GZ-P01"}),
    (forms.PeopleQuery, {"role": "specialist", "project_id": None, "include_inactive": False}),
    (forms.PeopleQuery, {"role": None, "project_id": None, "include_inactive": True}),
    (forms.ResponsibilityQuery, {"project_id": "GZ-P01", "department": "marketing",
                                 "major": False}),
]


@pytest.mark.parametrize(("form", "body"), GATEWAY_BODIES + DIRECTORY_ARGUMENTS)
def test_callers_requests_load_with_the_contract(form, body):
    load_input(form, body)


def test_a_planted_wrong_request_field_is_refused():
    from shared.errors import InvalidInput
    with pytest.raises(InvalidInput) as caught:
        load_input(forms.ClaimForm, {"amount_claimed": "10", "description": "x", "amount": "5"})
    assert set(caught.value.fields) == {"amount"}


# -- answers as the service gives them ------------------------------------------------------

def valid(schema: Schema, answer, many=False):
    """The answer loads with the view (unknown fields and wrong types refused)."""
    errors = schema.validate(answer, many=many)
    assert errors == {}, errors
    return answer


@pytest.fixture
def answers(service):  # noqa: F811
    """One run of the department's work through the real worker (fake media)."""
    worker, media = service
    worker.on_order_signed(envelope_body("order.signed", dict(
        facts_data(), department_overridden=False), CID))
    signature, photo = media.add(SIGNATURE, "signature"), media.add(PHOTO, "photo")
    got = {"visit": worker.record_visit(HEAD, CID, {
        "outcome": "done", "visited_at": NOW.isoformat(), "plan": "维修",
        "agreed_completion_at": (NOW + timedelta(days=1)).isoformat(),
        "customer_signature_media_id": signature, "photo_media_ids": [photo]})}
    got["progress"] = worker.record_progress(HEAD, CID, "已订购材料")
    got["application"] = worker.apply_closure(HEAD, CID, [], media.add(
        "M-GZ-" + "c" * 32, "signature"))
    got["claim"] = worker.raise_claim(HEAD, CID, "1200.50", "漏水损坏地板")
    got["reported"] = worker.report_claim(HEAD, got["claim"]["id"], "情况属实")
    page = worker.get_complaint_view(CID)
    decider = page["routing"]["supervising_leader"] or page["routing"]["chairman"]
    got["decided"] = worker.decide_claim({"person_id": decider["person_id"], "kind": "person"},
                                         got["claim"]["id"], "approve", "800")
    got["filed"] = worker.file_claim(HEAD, got["claim"]["id"])

    worker.on_order_signed(envelope_body("order.signed", dict(
        facts_data(MAJOR, escalation_level="major"), department_overridden=False), MAJOR))
    chairman = worker.get_complaint_view(MAJOR)["routing"]["chairman"]["person_id"]
    got["meeting"] = worker.record_meeting(
        {"person_id": chairman, "kind": "person"}, MAJOR, NOW.isoformat(), "邓海峰", "整改",
        (NOW + timedelta(days=7)).isoformat())
    got["minutes"] = worker.file_meeting_minutes(
        {"person_id": chairman, "kind": "person"}, got["meeting"]["id"],
        media.add("M-GZ-" + "d" * 32, "minutes"))
    got["page"] = worker.get_complaint_view(CID)
    got["major_page"] = worker.get_complaint_view(MAJOR)
    return worker, got


def test_step_answers_load_with_the_contract_views(answers):
    _, got = answers
    valid(views.VisitOut(), got["visit"])
    valid(views.ProgressOut(), got["progress"])
    valid(views.ApplicationOut(), got["application"])
    for key in ("claim", "reported", "decided", "filed"):
        valid(views.ClaimOut(), got[key])
    assert Decimal(got["filed"]["amount_granted"]) == Decimal("800")
    valid(views.MeetingOut(), got["meeting"])
    valid(views.MeetingOut(), got["minutes"])
    page = valid(views.DispatchView(), got["page"])
    assert page["visits"] and page["claims"] and page["applications"] and page["history"]
    assert valid(views.DispatchView(), got["major_page"])["meetings"]


DEPUTY = {"person_id": "centre-deputy-gm", "roles": ["centre_deputy_gm"], "kind": "person"}
LATE = "C-GZ-2026-000003"


def test_an_accepted_visit_time_loads_with_the_contract_views(answers):
    worker, _ = answers
    worker.on_order_signed(envelope_body("order.signed", dict(
        facts_data(LATE), department_overridden=False), LATE))
    stated = NOW + timedelta(minutes=5)
    worker.clock.set(NOW + timedelta(hours=4))          # recorded four hours later
    visit = valid(views.VisitOut(), worker.record_visit(HEAD, LATE, {
        "outcome": "blocked", "attempted_at": stated.isoformat(), "reason": "业主拒绝上门"}))
    assert visit["time_acceptable"] is True
    accepted = valid(views.TimeAcceptanceOut(), worker.accept_visit_time(
        DEPUTY, LATE, visit["id"], "信号差，补登"))
    assert (accepted["act_id"], accepted["act_kind"]) == (visit["id"], "blocked_visit")
    page = valid(views.DispatchView(), worker.get_complaint_view(LATE))
    assert page["visits"][0]["time_accepted"] == accepted
    assert page["time_acceptances"] == [accepted]


def test_reading_answers_load_with_the_contract_views(answers):
    worker, _ = answers
    valid(views.RoutingErrorOut(), worker.list_routing_errors(False), many=True)
    valid(directory_views.PersonOut(), worker.get_person("p01-spec-1"))
    valid(directory_views.PersonOut(), worker.list_people(role="specialist"), many=True)
    valid(directory_views.ProjectOut(), worker.get_project("GZ-P01"))
    valid(directory_views.ProjectOut(), worker.list_projects(), many=True)
    valid(directory_views.ResponsibilityOut(),
          worker.resolve_responsibility("GZ-P01", "marketing"))


def test_a_planted_wrong_answer_field_fails(answers):
    _, got = answers
    assert views.VisitOut().validate(dict(got["visit"], surprise=1)) == {
        "surprise": ["Unknown field."]}
    assert "order_round" in views.ClaimOut().validate(dict(got["claim"], order_round="one"))
    page = dict(got["page"], visits=[dict(got["page"]["visits"][0], recorded_at="yesterday")])
    assert "visits" in views.DispatchView().validate(page)
