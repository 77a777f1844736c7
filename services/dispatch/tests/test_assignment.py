"""Routing a signed order (Art. 20, 21, 33) on the demo organisation: every
responsibility case of SPEC §3 (capital, tier-3, property, escalated), the
GM's override, and a directory that lacks someone. Pure, no database."""
from dataclasses import replace
from datetime import timedelta

import pytest

from services.dispatch import assignment
from services.dispatch.case import merge_facts
from services.dispatch.tests.casework import (
    NOW,
    REQUESTED,
    SIGNED_AT,
    TABLE,
    facts,
    routed,
    routed_case,
)
from services.dispatch.tests.conftest import project

LATER = NOW + timedelta(hours=1)


def without(data, person_id):
    """The organisation data with that person gone (their post left vacant)."""
    data["people"] = [p for p in data["people"] if p["id"] != person_id]
    return data


def people(contacts):
    return [(c.person_id, c.role) for c in contacts]


def test_capital_project_regional_department(demo_directory):
    outcome = routed(demo_directory, project_id="GZ-P01", category="sales_contract")
    case, routing = outcome.case, outcome.result
    assert case.state == "routed" and case.routing is routing
    assert (routing.department, routing.unit_id, routing.company_id) == (
        "marketing", "rc-gz.marketing", "rc-gz")
    assert (routing.handler.person_id, routing.handler.mobile) == ("rcgz-mkt-head", "13802100011")
    assert people(routing.leaders) == [
        ("rcgz-vp-mkt", "supervising_leader"), ("rcgz-vp-design", "company_leader"),
        ("rcgz-vp-eng", "company_leader"), ("rcgz-vp-dev", "company_leader")]
    assert routing.chairman.person_id == "rcgz-chairman"
    assert routing.department_head.person_id == "rcgz-mkt-head"
    assert routing.supervising_leader.person_id == "rcgz-vp-mkt"
    assert routing.major is False and routing.directory_version is None  # a file snapshot

    [(event_type, data)] = outcome.events
    assert event_type == "complaint.routed"
    assert data["handler"] == {"person_id": "rcgz-mkt-head", "name": "冯晓东",
                               "mobile": "13802100011"}
    assert data["leaders"][0] == {"person_id": "rcgz-vp-mkt", "name": "宋佳",
                                  "mobile": "13802100005", "role": "supervising_leader"}
    assert data["chairman"]["person_id"] == "rcgz-chairman"
    assert [c["department"] for c in data["cooperating_departments"]] == ["finance", "treasury"]
    assert (data["signed_at"], data["requested_completion_at"], data["routed_at"]) == (
        SIGNED_AT, REQUESTED, NOW)
    assert data["completion_due_at"] == REQUESTED  # no visit yet: the order's time
    assert data["reason"] == "order_signed" and data["department_overridden"] is False
    assert outcome.resolve_routing_errors and [e.action for e in outcome.history] == ["routed"]


def test_tier3_project_adds_its_project_gm(demo_directory):
    routing = routed_case(demo_directory, project_id="GZ-P02", category="delivery_delay_quality",
                          complaint_id="C-GZ-2026-000002").routing
    assert routing.handler.person_id == "rcgz-eng-head"
    assert people(routing.leaders) == [("rcgz-vp-eng", "supervising_leader"),
                                       ("p02-gm", "project_gm")]
    assert [c.unit_id for c in routing.cooperating] == ["rc-gz.marketing", "pc-gz"]


def test_property_category_goes_to_the_property_company(demo_directory):
    routing = routed_case(demo_directory, project_id="GZ-P03",
                          category="maintenance_repair").routing
    assert (routing.department, routing.company_id, routing.unit_id) == (
        "property", "pc-gx", "pc-gx")
    assert routing.handler.person_id == "pcgx-head"
    assert people(routing.leaders) == [("pcgx-vp-service", "supervising_leader"),
                                       ("pcgx-vp-eng", "company_leader")]
    assert routing.chairman.person_id == "pcgx-chairman"
    assert [(c.department, c.unit_id) for c in routing.cooperating] == [
        ("engineering", "rc-gx.engineering")]


def test_property_side_of_a_tier3_project_has_no_project_gm(demo_directory):
    routing = routed_case(demo_directory, project_id="GZ-P02", category="property_service").routing
    assert people(routing.leaders) == [("pcgz-vp-service", "supervising_leader"),
                                       ("pcgz-vp-eng", "company_leader"),
                                       ("pcgz-vp-quality", "company_leader")]


@pytest.mark.parametrize("level", ["major", "group", "common_issue"])
def test_escalated_before_signing_goes_to_the_regional_chairman(demo_directory, level):
    routing = routed_case(demo_directory, project_id="GZ-P04", category="leasing",
                          escalation_level=level).routing
    assert routing.major is True and routing.escalation_level == level
    assert routing.handler.person_id == "rcgx-chairman"
    assert people(routing.leaders) == [("rcgx-chairman", "chairman")]
    assert (routing.unit_id, routing.department_unit_id) == ("rc-gx", "rc-gx.commercial_operations")
    # The department head still writes claim reports (Art. 34).
    assert routing.department_head.person_id == "rcgx-com-head"


def test_escalated_property_complaint_goes_to_the_property_chairman(demo_directory):
    routing = routed_case(demo_directory, project_id="GZ-P01", category="property_service",
                          escalation_level="major").routing
    assert routing.handler.person_id == "pcgz-chairman"
    assert people(routing.leaders) == [("pcgz-chairman", "chairman")]


def test_escalation_after_routing_reroutes_to_the_chairman_and_announces_it(demo_directory):
    case = routed_case(demo_directory, project_id="GZ-P01", category="design_defect")
    escalated = merge_facts(case, facts(occurred_at=LATER, category="design_defect",
                                        escalation_level="major"), LATER)
    outcome = assignment.on_escalated(escalated, TABLE, demo_directory, LATER, f"{case.id}-R2")
    assert outcome.case.state == "routed" and outcome.case.routing.id == f"{case.id}-R2"
    assert outcome.case.routing.handler.person_id == "rcgz-chairman"
    [(event_type, data)] = outcome.events
    assert (event_type, data["reason"], data["major"]) == ("complaint.routed", "escalated", True)
    assert data["handler"]["person_id"] == "rcgz-chairman"
    assert (data["unit_id"], data["department_unit_id"]) == ("rc-gz", "rc-gz.marketing")
    assert [e.action for e in outcome.history] == ["rerouted"]
    # Escalated again (another level): the chairman already answers, nothing to announce.
    again = merge_facts(outcome.case, facts(occurred_at=LATER, category="design_defect",
                                            escalation_level="group"), LATER)
    assert assignment.on_escalated(again, TABLE, demo_directory, LATER, "x").events == []


def test_escalation_keeps_the_work_state(demo_directory):
    case = replace(routed_case(demo_directory), state="in_progress")
    escalated = merge_facts(case, facts(occurred_at=LATER, escalation_level="major"), LATER)
    outcome = assignment.on_escalated(escalated, TABLE, demo_directory, LATER, "C-R2")
    assert outcome.case.state == "in_progress" and outcome.case.routing.major


def test_the_gm_override_routes_to_the_chosen_department_and_keeps_the_reason(demo_directory):
    outcome = routed(demo_directory, category="sales_contract", department="finance",
                     department_reason="退款争议由财务部牵头")
    routing = outcome.result
    assert (routing.department, routing.handler.person_id) == ("finance", "rcgz-fin-head")
    assert routing.department_overridden and routing.override_reason == "退款争议由财务部牵头"
    # The table's department cooperates in place of the one chosen.
    assert [c.department for c in routing.cooperating] == ["marketing", "treasury"]
    [(_, data)] = outcome.events
    assert (data["department"], data["department_overridden"], data["override_reason"]) == (
        "finance", True, "退款争议由财务部牵头")
    assert people(routing.leaders)[0] == ("rcgz-cfo", "supervising_leader")


def test_a_vacant_head_fails_the_routing_naming_the_role(demo_raw, directory_of):
    demo_raw["regional_companies"][0]["departments"]["marketing"]["head"] = None
    outcome = routed(directory_of(without(demo_raw, "rcgz-mkt-head")), category="sales_contract")
    assert outcome.case.state == "routing_failed" and outcome.case.routing is None
    [error] = outcome.records
    assert (error.role, error.unit_id, error.trigger) == ("head", "rc-gz.marketing", "order_signed")
    assert "一把手" in error.message and "head missing in rc-gz.marketing" in error.message
    [(event_type, data)] = outcome.events
    assert event_type == "routing.failed"
    assert (data["role"], data["unit_id"], data["department"]) == (
        "head", "rc-gz.marketing", "marketing")
    assert [e.action for e in outcome.history] == ["routing_failed"]
    assert not outcome.resolve_routing_errors


def test_a_tier3_project_without_its_gm_fails_naming_the_project_gm(demo_raw, directory_of):
    project(demo_raw, "GZ-P02")["project_gm"] = None
    outcome = routed(directory_of(without(demo_raw, "p02-gm")), project_id="GZ-P02",
                     category="sales_contract")
    assert outcome.case.state == "routing_failed"
    assert outcome.records[0].role == "project_gm"


def test_a_company_without_a_chairman_fails(demo_raw, directory_of):
    demo_raw["property_companies"][1]["chairman"] = None
    outcome = routed(directory_of(without(demo_raw, "pcgx-chairman")), project_id="GZ-P03",
                     category="property_service")
    assert (outcome.records[0].role, outcome.records[0].unit_id) == ("chairman", "pc-gx")


def test_an_unknown_category_fails_naming_the_routing_table(demo_directory):
    outcome = routed(demo_directory, category="haunted_house")
    assert outcome.case.state == "routing_failed"
    assert outcome.records[0].role == "routing_table"


def test_a_failed_escalation_keeps_the_routing_it_had(demo_raw, directory_of, demo_directory):
    case = routed_case(demo_directory)
    demo_raw["regional_companies"][0]["chairman"] = None
    escalated = merge_facts(case, facts(occurred_at=LATER, escalation_level="major"), LATER)
    outcome = assignment.on_escalated(escalated, TABLE,
                                      directory_of(without(demo_raw, "rcgz-chairman")), LATER,
                                      "C-R2")
    assert outcome.case.state == "routed" and outcome.case.routing is case.routing
    assert outcome.records[0].role == "chairman" and outcome.records[0].trigger == "escalated"
    # Once the directory has a chairman, the retry routes it to the chairman.
    retried = assignment.retry(outcome.case, TABLE, demo_directory, LATER, "C-R2")
    assert retried.case.routing.handler.person_id == "rcgz-chairman"
    assert retried.events[0][1]["reason"] == "escalated" and retried.resolve_routing_errors


def test_a_retry_after_the_directory_was_fixed_routes_the_order(demo_raw, directory_of,
                                                                demo_directory):
    demo_raw["regional_companies"][0]["departments"]["marketing"]["head"] = None
    failed = routed(directory_of(without(demo_raw, "rcgz-mkt-head"))).case
    outcome = assignment.retry(failed, TABLE, demo_directory, LATER, f"{failed.id}-R1")
    assert outcome.case.state == "routed" and outcome.result.reason == "retry"
    assert outcome.resolve_routing_errors
    # Nothing left to route: the open error is simply closed.
    nothing = assignment.retry(outcome.case, TABLE, demo_directory, LATER, "x")
    assert nothing.events == [] and nothing.resolve_routing_errors


def test_an_order_of_an_earlier_round_does_not_route_again(demo_directory):
    case = routed_case(demo_directory)
    reopened = merge_facts(case, facts(occurred_at=LATER, state="order_drafted", order_round=2,
                                       signed_at=None), LATER)
    assert reopened.state == "awaiting_order" and reopened.order_round == 2
    stale = facts(occurred_at=NOW, order_round=1)
    outcome = assignment.on_order_signed(reopened, stale, TABLE, demo_directory, LATER, "x")
    assert outcome.events == [] and outcome.case is reopened


def test_the_second_rounds_order_routes_afresh(demo_directory):
    case = replace(routed_case(demo_directory), state="closed", visited_at=NOW)
    second = facts(occurred_at=LATER, order_round=2, category="maintenance_repair")
    merged = merge_facts(case, second, LATER)
    assert (merged.state, merged.visited_at, merged.completion_due_at) == ("awaiting_order",
                                                                           None, None)
    outcome = assignment.on_order_signed(merged, second, TABLE, demo_directory, LATER,
                                         f"{case.id}-R2")
    assert outcome.case.state == "routed" and outcome.case.routing.order_round == 2
    assert outcome.case.routing.department == "property"


def test_older_facts_do_not_overwrite_newer_ones(demo_directory):
    case = routed_case(demo_directory)
    newer = merge_facts(case, facts(occurred_at=LATER, escalation_level="major"), LATER)
    older = merge_facts(newer, facts(occurred_at=NOW, escalation_level=None), LATER)
    assert older is newer and older.major
