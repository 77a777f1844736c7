"""The RPC contract between the gateway and penalty (shared.contracts.penalty):

- the typed client and the service have the same methods and parameters;
- the gateway's penalty routes take the contract's forms and answer its views,
  so what the gateway accepts penalty accepts, and the reverse;
- what the real service answers loads with the contract's views (here for
  every method, and in every integration test through conftest's checked
  proxy); a planted wrong field fails.
"""
import inspect
from datetime import timedelta

import pytest

from services.gateway.api import ROUTES
from services.gateway.routes import penalty as routes
from services.penalty import readmodel
from services.penalty.service import PenaltyService
from services.penalty.tests.conftest import GM, HR, SPEC, lines
from services.penalty.tests.helpers import at, missed
from shared.contracts.penalty import PenaltyClient, access, forms, views
from shared.contracts.penalty.views import ANSWERS, answer_errors
from shared.errors import InvalidInput
from shared.paging import PAGING_KEYS, without_paging
from shared.validation import load_input

CID = "C-GZ-2026-000001"


def rpc_methods(cls):
    return {name: fn for name, fn in inspect.getmembers(cls, inspect.isfunction)
            if any(type(e).__name__ == "Rpc" for e in getattr(fn, "nameko_entrypoints", ()))}


def client_methods():
    return {name: fn for name, fn in vars(PenaltyClient).items()
            if inspect.isfunction(fn) and not name.startswith("_")}


def parameters(fn):
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]


# -- the client and the service -------------------------------------------------------------

def test_the_client_and_the_service_have_the_same_methods_and_parameters():
    served, offered = rpc_methods(PenaltyService), client_methods()
    assert sorted(served) == sorted(offered)
    for name, fn in served.items():
        assert parameters(fn) == parameters(offered[name]), name


def test_every_method_has_a_view_of_its_answer():
    assert set(ANSWERS) == set(client_methods())


# -- the gateway's requests -------------------------------------------------------------------

PENALTY_ROUTES = {spec.handler: spec for spec in ROUTES
                  if spec.handler in vars(routes.PenaltyRoutes)}

# handler -> (the contract form of its body or query, the view of its answer, roles)
EXPECTED = {
    "list_deductions": (forms.DeductionFilters, views.LinePage, None),
    "get_deduction": (None, views.LineView, None),
    "appeal_deduction": (forms.AppealForm, views.AppealView, None),
    "list_appeals": (forms.AppealFilters, routes.AppealList, None),
    "decide_appeal": (forms.AppealDecisionForm, views.AppealView, access.APPEAL_DECIDERS),
    "get_monthly_report": (forms.ReportQuery, views.ReportView, access.REPORT_READERS),
    "issue_monthly_report": (None, views.ReportView, access.REPORT_ISSUERS),
    "get_rankings": (None, views.RankingsView, access.RANKING_READERS),
    "list_report_revisions": (None, routes.RevisionList, access.REPORT_READERS),
    "confirm_person_month": (forms.ReviewForm, views.ReportView, access.REPORT_REVIEWERS),
    "refer_person_month": (forms.ReviewForm, views.ReportView, access.REPORT_REVIEWERS),
    "issue_analysis": (None, views.IssuedAnalysisView, access.ANALYSIS_ISSUERS),
    "get_analysis": (None, views.AnalysisView, access.ANALYSIS_READERS),
    "file_measures": (forms.MeasuresForm, views.MeasuresView, access.MEASURES_FILERS),
    "list_sanction_cases": (forms.CaseFilters, routes.CaseList, access.CASE_READERS),
    "open_sanction_case": (forms.CaseForm, views.CaseView, access.CASE_OPENERS),
    "decide_sanction_case": (forms.CaseDecisionForm, views.CaseView, access.CASE_DECIDERS),
}


def test_the_gateway_routes_take_the_contract_forms_and_roles():
    assert set(PENALTY_ROUTES) == set(EXPECTED)
    for handler, (form, view, allowed) in EXPECTED.items():
        spec = PENALTY_ROUTES[handler]
        taken = spec.body or spec.query
        if form is None:      # penalty takes nothing; the gateway may still page the list
            assert taken is None or set(taken().fields) <= set(PAGING_KEYS), handler
        else:
            assert issubclass(taken, form), handler
            # The gateway pages lists itself (shared.paging): it adds the paging keys and
            # takes them off before asking penalty.
            added = set(PAGING_KEYS) - set(form().fields)
            assert set(taken().fields) - added == set(form().fields), handler
        assert spec.response is view, handler
        assert spec.roles == (frozenset(allowed) if allowed else None), handler


# What the gateway's tests send (test_penalty_api, test_month_scenario), by route.
REQUESTS = {
    "list_deductions": [{}, {"month": "2026-11", "person_id": "p01-spec-1"},
                        {"rule": "order_submit", "limit": "10", "offset": "0"}],
    "appeal_deduction": [{"reason": "系统当时无法登录"}],
    "list_appeals": [{}, {"status": "pending"}, {"person_id": "p01-spec-1"}],
    "decide_appeal": [{"decision": "upheld"}, {"decision": "rejected", "reason": "属实"}],
    "get_monthly_report": [{}, {"format": "csv"}, {"format": "xlsx", "revision": "1"}],
    "list_sanction_cases": [{}, {"status": "open"}, {"kind": "bottom_ten"}],
    "open_sanction_case": [{"kind": "concealed", "person_id": "p01-spec-2", "note": "漏报"},
                           {"kind": "reception_attitude", "person_id": "p01-spec-1",
                            "complaint_id": CID, "note": "态度生硬",
                            "observed_at": "2026-11-20T10:00:00+08:00"}],
    "file_measures": [{"unit_id": "rc-gz.marketing", "text": "加强签约前的合同条款讲解与复核"},
                      {"unit_id": "pc-gz", "text": "每周巡查公共区域渗漏点并记录",
                       "media_ids": ["0b6f1c1e-5f43-4c2b-9a3e-2d1c0e9b8a7f"]}],
    "decide_sanction_case": [{"measure": "bonus", "bonus_percent": "50"},
                             {"measure": "fine", "amount": "200.00", "note": "罚款"},
                             {"measure": "pay_grade_cut", "pay_grades": 1}],
}
# Planted wrong fields: each is refused, by the gateway and by penalty alike.
WRONG = {
    "list_deductions": [({"month": "2026-13"}, "month"), ({"limit": "5000"}, "limit"),
                        ({"persons": "x"}, "persons")],
    "appeal_deduction": [({"reason": "x"}, "reason"), ({"reason": "ok\x00"}, "reason"),
                         ({"reason": "好的理由", "amount": "1"}, "amount")],
    "decide_appeal": [({"decision": "maybe"}, "decision"), ({}, "decision")],
    "get_monthly_report": [({"format": "pdf"}, "format"), ({"revision": "0"}, "revision")],
    "open_sanction_case": [({"kind": "overdue", "person_id": "p", "note": "备注"}, "kind"),
                           ({"kind": "concealed", "person_id": "p", "note": "备注",
                             "observed_at": "2026-11-20 10:00"}, "observed_at")],
    "file_measures": [({"unit_id": "pc-gz", "text": "太短"}, "text"),
                      ({"text": "加强签约前的合同条款讲解与复核"}, "unit_id"),
                      ({"unit_id": "pc-gz", "text": "加强签约前的合同条款讲解与复核",
                        "media_ids": ["a", "a"]}, "media_ids"),
                      ({"unit_id": "pc-gz", "text": "加强签约前的合同条款讲解与复核",
                        "owner": "x"}, "owner")],
    "decide_sanction_case": [({"measure": "fine", "amount": "NaN"}, "amount"),
                             ({"measure": "fine", "amount": "1e12"}, "amount"),
                             ({"measure": "promotion"}, "measure")],
}


@pytest.mark.parametrize("handler", sorted(REQUESTS))
def test_the_gateways_requests_load_alike_on_both_sides(handler):
    spec = PENALTY_ROUTES[handler]
    taken, form = spec.body or spec.query, EXPECTED[handler][0]
    pages_itself = not set(PAGING_KEYS) & set(form().fields)   # the gateway pages it
    for request in REQUESTS[handler]:
        mine, theirs = load_input(taken, request), request
        if pages_itself:
            mine, theirs = without_paging(mine), without_paging(request)
        assert mine == load_input(form, theirs), request


@pytest.mark.parametrize("handler", sorted(WRONG))
def test_a_planted_wrong_request_field_is_refused_on_both_sides(handler):
    spec = PENALTY_ROUTES[handler]
    for schema in (spec.body or spec.query, EXPECTED[handler][0]):
        for request, field in WRONG[handler]:
            with pytest.raises(InvalidInput) as caught:
                load_input(schema, request)
            assert field in caught.value.fields, (request, caught.value.fields)


# -- penalty's answers ----------------------------------------------------------------------------

def a_month_of_facts(database, month):
    """Two complaints of GZ-P01 in `month` (YYYY-MM), routed and closed (the
    second late), surveyed and rated, in the same room; one reopened: enough
    for every ranking and for the analysis."""
    with database.transaction() as conn:
        for n, (due, applied) in enumerate((("10 18:00", "09 10:00"), ("12 18:00", "14 10:00"))):
            cid, day = f"C-{month}-{n}", f"{month}-0{n + 2}"
            readmodel.apply_intake_facts(conn, {
                "complaint_id": cid, "project_id": "GZ-P01", "region_company_id": "rc-gz",
                "property_company_id": "pc-gz", "category": "sales_contract", "channel": "visit",
                "room": "1-101", "order_round": 1, "specialist_id": "p01-spec-1",
                "recorded_at": at(f"{day} 09:00"), "first_submitted_at": None,
                "signed_at": at(f"{day} 10:00"), "department": "marketing",
                "escalation_level": None, "reopen_count": 0, "holders": [],
                "resolved_on_spot": n == 0}, at(f"{day} 10:00"))
            readmodel.apply_routing(conn, {"complaint_id": cid, "department": "marketing",
                                           "handler": {"person_id": "rcgz-mkt-head"},
                                           "completion_due_at": at(f"{month}-{due}")},
                                    at(f"{day} 11:00"))
            applied_at = at(f"{month}-{applied}")
            readmodel.closure_applied(conn, {"application_id": f"A-{cid}", "complaint_id": cid,
                                             "applied_at": applied_at})
            readmodel.closure_verified(conn, cid, {
                "application_id": f"A-{cid}", "verified_at": applied_at + timedelta(hours=2),
                "satisfaction": 4 + n})
            readmodel.rating(conn, cid, "p01-spec-1", 5 - n, at(f"{day} 12:00"))
        readmodel.reopened(conn, f"C-{month}-0", 2, at(f"{month}-20 09:00"))


@pytest.mark.integration
def test_every_answer_of_the_real_service_loads_with_its_view(running, penalty):
    """`penalty` is conftest's ContractChecked proxy: each call below fails
    if its answer does not load with the view of its method."""
    a_month_of_facts(running.database, "2026-11")
    a_month_of_facts(running.database, "2026-08")
    event = running.publish("sla", "deadline.missed",
                            missed("order_submit", at("2026-11-03 10:30"), 61, timer="t-c"),
                            complaint_id=CID)
    running.applied(event)
    line_id = str(lines(running.database, timer_id="t-c")[0]["id"])
    assert penalty.list_deductions(HR, {"month": "2026-11"})["total"] == 1
    penalty.get_deduction(SPEC, line_id)
    appeal = penalty.appeal_deduction(SPEC, line_id, {"reason": "系统当时无法登录"})
    assert penalty.list_appeals(GM, {"status": "pending"})[0]["id"] == appeal["id"]
    penalty.decide_appeal(GM, appeal["id"], {"decision": "upheld", "reason": "属实"})
    case = penalty.open_sanction_case(GM, {"kind": "reception_attitude",
                                           "person_id": "p01-spec-1", "complaint_id": CID,
                                           "note": "态度生硬",
                                           "observed_at": "2026-11-20T10:00:00+08:00"})
    assert penalty.list_sanction_cases(HR, {"status": "open"})[0]["id"] == case["id"]
    penalty.decide_sanction_case(HR, case["id"], {"measure": "pay_grade_cut", "pay_grades": 1})
    issued = penalty.issue_monthly_report(GM, "2026-11")
    assert issued["people"] and issued["people"][0]["rules"]
    penalty.monthly_report(HR, "2026-11")
    penalty.monthly_report(HR, "2026-11", {"format": "csv"})
    assert [r["revision"] for r in penalty.list_report_revisions(HR, "2026-11")] == [1]
    ranked = penalty.rankings(GM, "2026-11")
    assert ranked["companies"]["region_company"][0]["projects"] and ranked["desks"]
    assert ranked["specialists"]["entries"]
    analysis = penalty.issue_analysis(GM, "2026-Q3")
    assert analysis["repeat_rooms"] and analysis["departments"]
    penalty.get_analysis(GM, "2026-Q3")
    health = penalty.health()
    assert health["status"] == "ok"


@pytest.mark.integration
def test_a_planted_wrong_answer_field_fails_its_view(running, penalty):
    event = running.publish("sla", "deadline.missed",
                            missed("order_submit", at("2026-11-03 10:30"), 61, timer="t-w"),
                            complaint_id=CID)
    running.applied(event)
    line = penalty.get_deduction(HR, str(lines(running.database, timer_id="t-w")[0]["id"]))
    page = penalty.list_deductions(HR, {})
    assert answer_errors("get_deduction", line) == {}
    assert "surprise" in answer_errors("get_deduction", dict(line, surprise=1))
    renamed = {("amonut" if k == "amount" else k): v for k, v in line.items()}
    assert set(answer_errors("get_deduction", renamed)) == {"amount", "amonut"}
    assert "charged_at" in answer_errors("get_deduction", dict(line, charged_at="yesterday"))
    assert "amount" in answer_errors("get_deduction", dict(line, amount="three hundred"))
    assert "id" in answer_errors("get_deduction", dict(line, id=None))
    assert "items" in answer_errors("list_deductions", dict(page, items=[dict(line, rule=5)]))
    assert answer_errors("list_appeals", {"items": []}) != {}
    assert answer_errors("monthly_report", {"filename": "x.csv", "content_b64": ""}) != {}
