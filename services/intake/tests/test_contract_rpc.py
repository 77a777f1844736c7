"""The RPC contract between the gateway (caller) and intake (callee),
shared/contracts/intake: like sla's test_contract.py for events.

- the typed client and the service have the same methods and parameters;
- the gateway's routes check requests with the contract's forms and
  document answers with its views, and requests as the gateway sends them
  (bodies taken from the gateway's and the end-to-end tests) load with the
  forms intake loads them with;
- answers intake gives (a real service on the test database, a complaint
  taken through the whole closure loop) load back with the contract's
  views, and a planted wrong field is refused.
"""
import inspect
import json
from datetime import timedelta

import pytest
from marshmallow import Schema

import services.gateway.service  # noqa: F401  (fills the route table)
from services.gateway.api import ROUTES
from services.gateway.routes.complaint_acts import ComplaintActs
from services.gateway.routes.complaints import ComplaintRoutes
from services.intake.service import IntakeService
from services.intake.tests.helpers import DEPUTY, GM, NOW, SPECIALIST, STAFF, form
from services.intake.tests.test_closure_consumers import applied, blocked, routed
from services.intake.tests.test_service_units import FakeMedia, make_service
from shared.contracts.base import ServiceClient
from shared.contracts.intake import IntakeClient, forms, views
from shared.errors import InvalidInput

# -- the client and the service ------------------------------------------------------------


def _rpc_methods(cls):
    return {name: fn for name, fn in vars(cls).items()
            if callable(fn) and not name.startswith("_")
            and any(type(e).__name__ == "Rpc" for e in getattr(fn, "nameko_entrypoints", ()))}


def _client_methods():
    return {name: fn for name, fn in vars(IntakeClient).items()
            if callable(fn) and not name.startswith("_") and name not in vars(ServiceClient)}


def _parameters(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_the_client_has_every_rpc_method_of_intake_with_the_same_parameters():
    service, client = _rpc_methods(IntakeService), _client_methods()
    assert len(service) == 24 and sorted(service) == sorted(client)
    for name in service:
        assert _parameters(service[name]) == _parameters(client[name]), name


# -- requests: what the gateway sends -------------------------------------------------------

# The gateway's routes over intake: those of its ComplaintRoutes mixin.
INTAKE_ROUTES = {route.handler: route for route in ROUTES
                 if route.handler in vars(ComplaintRoutes) or route.handler in vars(ComplaintActs)}


def test_the_gateway_checks_intakes_requests_with_the_contracts_forms():
    expected = {"record_complaint": forms.RecordForm, "review_complaint_order": forms.DecisionForm,
                "sign_complaint_order": forms.SignForm, "reopen_complaint": forms.ReopenForm,
                "escalate_complaint": forms.EscalateForm,
                "rate_complaint_reception": forms.RatingForm,
                "record_complaint_callback": forms.CallbackForm,
                "verify_complaint_closure": forms.VerifyForm,
                "review_complaint_closure": forms.DecisionForm,
                "approve_complaint_closure": forms.DecisionForm,
                "sign_customer_link": forms.LinkSignForm, "rate_customer_link": forms.RatingForm,
                "void_complaint": forms.ReasonForm, "accept_act_time": forms.ReasonForm}
    for name, form_class in expected.items():
        assert issubclass(INTAKE_ROUTES[name].body, form_class), name
    assert issubclass(INTAKE_ROUTES["list_complaints"].query, forms.ListFilters)


def test_the_gateway_documents_intakes_answers_with_the_contracts_views():
    contract = [v for v in vars(views).values()
                if isinstance(v, type) and issubclass(v, Schema) and v is not Schema]
    for name, route in INTAKE_ROUTES.items():
        if name in ("upload_customer_signature",     # media's answer, not intake's
                    "export_complaints"):            # a CSV / XLSX file
            continue
        assert route.response is not None, name
        assert any(issubclass(route.response, view) for view in contract), name


def _as_json(value):
    """What travels: the gateway sends the request's JSON as it came."""
    return json.loads(json.dumps(value))


# Bodies as the gateway's and the end-to-end tests send them (test_complaints_api.py,
# tests/test_e2e_closure.py); the arguments intake is called with are put back together
# as each entrypoint does.
REQUESTS = [
    (forms.RecordForm(now=NOW), form()),
    (forms.RecordForm(now=NOW), form(channel="visit",
                                     customer_signature_media_id="M-GZ-" + "a" * 32)),
    (forms.DecisionForm(), {"decision": "approve", "reason": None}),
    (forms.DecisionForm(), {"decision": "approve", "reason": "同意结案"}),
    (forms.SignForm(), {"decision": "approve", "reason": "同意派单", "department": "property",
                        "department_reason": "物业维保范围"}),
    (forms.SignForm(), {"decision": "approve", "reason": "同意", "department": None,
                        "department_reason": None}),
    (forms.ReopenForm(), {"reason": "客户再次投诉"}),
    (forms.EscalateForm(), {"level": "common_issue", "reason": "同类问题多发"}),
    (forms.RatingForm(), {"score": 5, "comment": "好"}),
    (forms.RatingForm(), {"score": 4, "comment": None}),
    (forms.CallbackForm(), {"outcome": "reached", "note": "客户同意明天上午上门"}),
    (forms.VerifyForm(), {"satisfaction": 5, "comment": "客户确认已修好", "decision": "approve",
                          "reason": None}),
    (forms.VerifyForm(), {"satisfaction": 1, "comment": None, "decision": "reject",
                          "reason": "客户称问题未处理"}),
    (forms.LinkSignForm(), {"signature_media_id": "M-GZ-" + "b" * 32}),
    (forms.ReasonForm(), {"reason": "重复登记"}),
    (forms.ReasonForm(), {"reason": "回访时客户手机信号差，\n登记延后"}),
    (forms.ListFilters(), {}),
    (forms.ListFilters(), {"state": "voided"}),
    (forms.ListFilters(), {"state": "order_drafted", "assigned_to_me": True, "page": 2,
                           "page_size": 100}),
]


@pytest.mark.parametrize("schema, body", REQUESTS,
                         ids=[f"{type(s).__name__}-{i}" for i, (s, _) in enumerate(REQUESTS)])
def test_a_request_as_the_gateway_sends_it_loads_with_the_contract(schema, body):
    assert schema.validate(_as_json(body)) == {}
    forms.load(schema, _as_json(body))


@pytest.mark.parametrize("schema, body, field", [
    (forms.RecordForm(now=NOW), form(customer_phone="12345"), "customer_phone"),
    (forms.RecordForm(now=NOW), dict(form(), recorded_by="centre-gm"), "recorded_by"),
    (forms.SignForm(), {"decision": "approve", "department": "hr"}, "department"),
    (forms.CallbackForm(), {"outcome": "busy"}, "outcome"),
    (forms.VerifyForm(), {"satisfaction": "5"}, "satisfaction"),
    (forms.ListFilters(), {"bogus": 1}, "bogus"),
])
def test_a_wrong_request_field_is_refused_by_the_contract(schema, body, field):
    with pytest.raises(InvalidInput) as refused:
        forms.load(schema, _as_json(body))
    assert field in refused.value.fields


def test_the_gateway_checks_shape_only_and_intake_the_times():
    late = form(contact_ended_at=(NOW + timedelta(hours=2)).isoformat())
    assert forms.RecordForm().validate(late) == {}                 # the gateway's check
    assert "contact_ended_at" in forms.RecordForm(now=NOW).validate(late)   # intake's


# -- answers: what intake gives -------------------------------------------------------------

@pytest.fixture
def answers(clean_database):
    """Real answers of intake (worker_factory on the test database): a
    complaint recorded, its order signed, routed by dispatch, a blocked visit
    called back, the closure applied, verified, reviewed and approved, then
    rated; with the list and the signature check."""
    service = make_service(clean_database, FakeMedia())
    recorded = service.record_complaint(SPECIALIST, form(channel="visit",
                                                         customer_signature_media_id="M-GZ-"
                                                         + "c" * 32))
    cid = recorded["id"]
    service.submit_order(SPECIALIST, cid)
    service.review_order(DEPUTY, cid, "approve")
    service.sign_order(GM, cid, "approve", "同意派单", department="property",
                       department_reason="物业维保范围")
    service.on_complaint_routed(routed(cid))
    service.on_visit_blocked(blocked(cid))
    called = service.record_callback(STAFF, cid, {"outcome": "reached", "note": "客户同意上门"})
    service.on_closure_applied(applied(cid))
    service.verify_closure(SPECIALIST, cid, 5, "客户确认已修好")
    service.review_closure(DEPUTY, cid, "approve")
    closed = service.approve_closure(GM, cid, "approve", "同意结案")
    rated = service.rate_reception(SPECIALIST, cid, 5, "好")
    escalated = service.escalate(GM, service.record_complaint(SPECIALIST, form())["id"],
                                 "major", "重大")
    return {"recorded": recorded, "called": called, "closed": closed, "rated": rated,
            "escalated": escalated, "page": service.list_complaints(STAFF, {"page_size": 5}),
            "checked": service.check_access(STAFF, cid),
            "verified": service.verify_record_signature(STAFF, cid)}


def test_intakes_answers_load_with_the_contracts_views(answers):
    closed = answers["closed"]
    assert closed["state"] == "closed" and closed["closure"] and closed["callbacks"]
    assert closed["responsibility"] and closed["order"]["decisions"]
    for name in ("recorded", "called", "closed", "rated", "escalated"):
        assert views.ComplaintView().validate(_as_json(answers[name])) == {}, name
    assert views.ComplaintPage().validate(_as_json(answers["page"])) == {}
    assert views.AccessGranted().validate(_as_json(answers["checked"])) == {}
    assert answers["verified"]["intact"] is True
    assert views.Verification().validate(_as_json(answers["verified"])) == {}
    # a dump of the loaded answer is the answer: nothing dropped, nothing added
    loaded = views.ComplaintView().load(_as_json(closed))
    assert _as_json(views.ComplaintView().dump(loaded)).keys() == closed.keys()


@pytest.mark.parametrize("plant", [
    lambda a: a.update(reopen_count="many"),
    lambda a: a.update(state_label=None),
    lambda a: a.update(unexpected_field=1),
    lambda a: a["order"]["holders"][0].update(**{"from": "yesterday"}),
    lambda a: a["timeline"][0].update(order_round="first"),
    lambda a: a["closure"].update(satisfaction="5 stars"),
])
def test_a_planted_wrong_field_in_an_answer_is_refused(answers, plant):
    answer = _as_json(answers["closed"])
    plant(answer)
    assert views.ComplaintView().validate(answer) != {}


def test_the_customer_link_answers_load_with_the_contracts_views(clean_database):
    service = make_service(clean_database, FakeMedia())
    service.record_complaint(SPECIALIST, form(channel="phone"))
    with clean_database.connection() as conn:
        body = conn.execute("""SELECT body FROM intake.outbox
            WHERE routing_key = 'complaint.signature_requested'""").fetchone()["body"]
    token = json.loads(body)["data"]["link_path"].rsplit("/", 1)[1]
    assert views.LinkView().validate(_as_json(service.open_signing_link(token))) == {}
    assert views.LinkChecked().validate(_as_json(service.check_link(token))) == {}
    signed = service.sign_by_link(token, "M-GZ-" + "d" * 32)
    assert views.LinkSigned().validate(_as_json(signed)) == {}
    rating_token = signed["rating_link_path"].rsplit("/", 1)[1]
    rated = service.rate_by_link(rating_token, 4, "态度好")
    assert views.LinkRated().validate(_as_json(rated)) == {}
    planted = dict(_as_json(signed), signature_status=7)
    assert "signature_status" in views.LinkSigned().validate(planted)
