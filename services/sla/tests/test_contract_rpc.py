"""sla's RPC contract (shared/contracts/sla.py) holds its callers and sla
together, as test_contract.py does for the events sla reads:

- the typed client has the service's methods, with the same parameters;
- what the gateway sends (its notification query) is what sla loads;
- what sla answers, from a real service, loads with the contract's views, and
  a planted wrong field does not.
"""
import copy
import inspect
import json

import pytest
from marshmallow import ValidationError
from nameko.rpc import Rpc
from nameko.standalone.rpc import ServiceRpcProxy

from services.gateway.routes.notifications import NotificationQuery
from services.gateway.routes.web import _board_item
from services.sla.service import SlaService
from services.sla.tests.helpers import CID, HANDLER, at
from services.sla.tests.producers import (
    REQUESTED,
    publish_signed_order,
    routed_data,
    scalar,
    visit_data,
    wait_until,
)
from shared.contracts.sla import (
    DeadlinesView,
    ErrorView,
    NotificationFilters,
    NotificationPage,
    OverdueComplaintView,
    OverduePage,
    OverdueQuery,
    OverdueTiers,
    SlaClient,
    overdue_tier,
)
from shared.errors import InvalidInput
from shared.paging import PAGING_KEYS
from shared.validation import load_input

# -- the client mirrors the service ------------------------------------------------------


def rpc_methods(cls):
    return {name: fn for name, fn in vars(cls).items()
            if any(isinstance(e, Rpc) for e in getattr(fn, "nameko_entrypoints", ()))}


def parameters(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_the_client_has_each_rpc_method_with_the_same_parameters():
    served = rpc_methods(SlaService)
    offered = {name for name in vars(SlaClient) if not name.startswith("_")} - {"service"}
    assert offered == set(served)
    for name, fn in served.items():
        assert parameters(getattr(SlaClient, name)) == parameters(fn), name


# -- the gateway's requests --------------------------------------------------------------

def test_the_gateway_query_is_the_contract_filters():
    # The gateway pages by limit / offset (shared.paging) and asks sla by page.
    gateway_only = {"limit", "offset"}
    assert set(NotificationQuery().fields) - gateway_only == set(NotificationFilters().fields)


GATEWAY_QUERIES = [
    {},
    {"status": "sent"},
    {"page": "2", "page_size": "20"},
    {"template": "daily_reminder", "complaint_id": CID},
    {"person_id": HANDLER["person_id"], "status": "failed"},
    {"template": " ", "complaint_id": ""},      # blank: no filter
]


@pytest.mark.parametrize("query", GATEWAY_QUERIES)
def test_what_the_gateway_sends_sla_loads_to_the_same_filters(query):
    loaded = load_input(NotificationQuery, query)
    # what routes/notifications.py sends: the filters without None and without the
    # paging keys, and sla's page of the limit / offset asked
    filters = {k: v for k, v in loaded.items() if v is not None and k not in PAGING_KEYS}
    page = {"page": loaded["offset"] // loaded["limit"] + 1, "page_size": loaded["limit"]}
    sent = json.loads(json.dumps(dict(filters, **page)))
    mine = {k: v for k, v in load_input(NotificationFilters, sent).items() if v is not None}
    assert mine == dict(filters, **page)


@pytest.mark.parametrize("query, field", [
    ({"status": "lost"}, "status"),
    ({"page_size": "500"}, "page_size"),
    ({"page": "0"}, "page"),
    ({"colour": "red"}, "colour"),
    ({"template": "daily\x01"}, "template"),
])
def test_a_bad_query_is_refused_by_both_sides(query, field):
    for schema in (NotificationQuery, NotificationFilters):
        with pytest.raises(InvalidInput) as refused:
            load_input(schema, query)
        assert field in refused.value.fields


def test_the_board_reads_only_fields_of_the_overdue_view():
    read = {"complaint_id", "days_overdue", "tier", "completion_due_at",
            "handler_person_id"}                       # routes/web.py _board_item
    assert read <= set(OverdueComplaintView().fields)
    item = {"complaint_id": CID, "project_id": "GZ-P01", "department": "property",
            "completion_due_at": "2026-11-30T18:00:00+08:00", "days_overdue": 9, "tier": 2,
            "handler_person_id": HANDLER["person_id"], "leader_person_ids": [],
            "chairman_person_id": None}
    OverdueComplaintView().load(item)
    row = _board_item({"id": CID, "project_id": "GZ-P01"}, item, None)
    assert (row["days_overdue"], row["tier"], row["handler_id"]) == (9, 2, HANDLER["person_id"])


@pytest.mark.parametrize("query, field", [
    ({"complaint_ids": "C-1"}, "complaint_ids"),
    ({"complaint_ids": [""]}, "complaint_ids.0"),
    ({"limit": 0}, "limit"),
    ({"limit": 5000}, "limit"),
    ({"offset": -1}, "offset"),
])
def test_a_bad_overdue_query_is_refused(query, field):
    with pytest.raises(InvalidInput) as refused:
        load_input(OverdueQuery, query)
    assert field in refused.value.fields


def view_of_timer():
    return {"timer_id": "t-1", "rule": "visit", "label": "上门回访", "article": "22, 35",
            "person_id": None, "role": "handler", "due_at": "2026-11-27T11:40:00+08:00",
            "state": "armed", "done_at": None, "late_seconds": None, "final": False,
            "summary": "进行中 (armed)", "charges": [], "day": None}


@pytest.mark.parametrize("day, tier", [(1, 1), (7, 1), (8, 2), (15, 2), (16, 3)])
def test_the_tiers_are_spec_section_4(day, tier):
    assert overdue_tier(day) == tier == overdue_tier(day, OverdueTiers.from_config({}))


def test_the_tiers_follow_the_config_sla_reads():
    tiers = OverdueTiers.from_config({"SLA": {"overdue_tier1_last_day": 5,
                                              "overdue_tier2_last_day": "10"}})
    assert [overdue_tier(d, tiers) for d in (5, 6, 10, 11)] == [1, 2, 2, 3]


# -- sla's answers, from a real service --------------------------------------------------

UNKNOWN = "C-GZ-2026-000999"


@pytest.fixture
def answers(start_sla, producers, sim_clock, clean_database, sla_config):
    """The worked example up to the missed visit, and a visit of an unknown
    complaint (parked): sla's three list answers, as a caller receives them."""
    sim_clock.set(at("11:10"))
    start_sla()
    producers.dispatch("visit.recorded", visit_data(at("11:05"), REQUESTED, at("12:00", day=29),
                                                    complaint_id=UNKNOWN), at("11:05"), UNKNOWN)
    g = publish_signed_order(producers)
    producers.dispatch("complaint.routed", routed_data(g, REQUESTED), g)
    wait_until(lambda: scalar(clean_database, "SELECT count(*) FROM sla.notifications "
                                              "WHERE status = 'sent'"))
    wait_until(lambda: scalar(clean_database, "SELECT count(*) FROM sla.event_errors "
                                              "WHERE state = 'parked'"))
    with ServiceRpcProxy("sla", sla_config, timeout=10) as proxy:
        sla = SlaClient(proxy, timeout=10)
        return {"timers": sla.list_timers(CID),
                "overdue": sla.list_overdue([CID, UNKNOWN], limit=10),
                "notifications": sla.list_notifications(
                    {"person_id": "admin-1", "roles": ["admin"]}, {"page_size": 10}),
                "errors": sla.list_errors()}


@pytest.mark.integration
def test_sla_answers_load_with_the_contract_views(answers):
    deadlines = DeadlinesView().load(answers["timers"])
    assert {t["rule"] for t in deadlines["timers"]} >= {"order_submit", "order_sign", "visit"}
    overdue = OverduePage().load(answers["overdue"])
    assert (overdue["total"], overdue["items"], overdue["limit"]) == (0, [], 10)
    page = NotificationPage().load(answers["notifications"])
    assert page["total"] >= 1 and page["page_size"] == 10
    [parked] = [e for e in ErrorView(many=True).load(answers["errors"])
                if e["state"] == "parked"]
    assert parked["state"] == "parked" and parked["complaint_id"] == UNKNOWN


PLANTED = [
    ("timers", DeadlinesView(), lambda a: a["timers"][0].update(surprise=1)),
    ("timers", DeadlinesView(), lambda a: a["timers"][0].update(state="lost")),
    ("timers", DeadlinesView(), lambda a: a["timers"][0].update(due_at="2026-11-27T10:30:00")),
    ("timers", DeadlinesView(), lambda a: a["timers"][0]["charges"].append({"who": "x"})),
    ("notifications", NotificationPage(), lambda a: a["items"][0].update(status="queued")),
    ("notifications", NotificationPage(), lambda a: a.update(total="many")),
    ("errors", ErrorView(many=True), lambda a: a[0].update(id="one")),
    ("overdue", OverduePage(), lambda a: a.update(total="many")),
    ("overdue", OverduePage(), lambda a: a.update(as_of="2026-11-27T11:10:00")),
]


@pytest.mark.integration
def test_a_planted_wrong_field_fails(answers):
    for answer, view, plant in PLANTED:
        view.load(answers[answer])                     # as it is: loads
        planted = copy.deepcopy(answers[answer])
        plant(planted)
        with pytest.raises(ValidationError):
            view.load(planted)
