"""The routing preview the GM sees before signing (issue 16): the same
department and people the signed order gets, the GM's override applied, and
a directory that lacks someone reported as the failure routing.failed would
record. Pure, on the demo organisation; the dump goes through the contract's
view as the RPC answers."""
from datetime import UTC

import pytest

from services.dispatch import assignment, views
from services.dispatch.preview import preview_routing
from services.dispatch.tests.casework import NOW, TABLE, routed
from services.dispatch.tests.test_assignment import without
from shared.contracts.dispatch import views as cv


def test_the_preview_names_what_the_signed_order_gets(demo_directory):
    found = preview_routing(TABLE, demo_directory, "GZ-P01", "sales_contract", None, False, NOW)
    signed = routed(demo_directory, project_id="GZ-P01", category="sales_contract").result
    assert found.routable and found.failure is None
    assert (found.department, found.department_name) == ("marketing", "营销部")
    assert found.routing.handler == signed.handler
    assert found.routing.leaders == signed.leaders
    assert found.routing.department_unit_name == signed.department_unit_name


def test_the_gms_override_is_previewed(demo_directory):
    found = preview_routing(TABLE, demo_directory, "GZ-P01", "sales_contract", "engineering",
                            False, NOW)
    assert found.routable and found.department_overridden
    assert found.routing.handler.person_id == "rcgz-eng-head"
    assert "marketing" in [c.department for c in found.routing.cooperating]


def test_an_escalated_complaint_goes_to_the_chairman(demo_directory):
    found = preview_routing(TABLE, demo_directory, "GZ-P01", "sales_contract", None, True, NOW)
    assert found.routing.major and found.routing.handler.person_id == "rcgz-chairman"


def test_a_vacant_post_is_the_failure_the_gm_reads(demo_raw, directory_of):
    demo_raw["regional_companies"][0]["departments"]["marketing"]["head"] = None
    directory = directory_of(without(demo_raw, "rcgz-mkt-head"))
    found = preview_routing(TABLE, directory, "GZ-P01", "sales_contract", None, False, NOW)
    assert not found.routable and found.routing is None
    assert found.failure.role == "head" and "没有一把手" in found.failure.message
    assert found.department_name == "营销部"


def test_an_unknown_project_fails_naming_it(demo_directory):
    found = preview_routing(TABLE, demo_directory, "NOPE", "sales_contract", None, False, NOW)
    assert not found.routable and found.failure.role == "project"


@pytest.mark.parametrize("major", [False, True])
def test_the_answer_dumps_with_the_contract_view(demo_directory, major):
    found = preview_routing(TABLE, demo_directory, "GZ-P01", "sales_contract", None, major, NOW)
    out = views.dump(cv.RoutingPreviewOut(), found, UTC)
    assert out["routable"] is True and out["department_name"] == "营销部"
    assert out["routing"]["handler"]["name"]
    assert "id" not in out["routing"] and out["failure"] is None
    assert cv.RoutingPreviewOut().validate(out) == {}


def test_a_failure_dumps_with_the_contract_view(demo_raw, directory_of):
    demo_raw["regional_companies"][0]["chairman"] = None
    directory = directory_of(without(demo_raw, "rcgz-chairman"))
    found = preview_routing(TABLE, directory, "GZ-P01", "sales_contract", None, False, NOW)
    out = views.dump(cv.RoutingPreviewOut(), found, UTC)
    assert out["routable"] is False and out["routing"] is None
    assert out["failure"]["role"] == "chairman"
    assert assignment.RoutingFailure  # the same failure class the order.signed handler raises
