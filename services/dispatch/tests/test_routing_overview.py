"""`routing_overview`: many complaints' latest routing in one call (the
overdue board's question), against the real database; the answer validates
against the contract's view and agrees with each complaint's own page."""
import pytest

from services.dispatch.tests.casework import envelope_body, facts_data
from services.dispatch.tests.test_service_units import service  # noqa: F401 - fixture
from shared.contracts.dispatch.views import RoutingOverview
from shared.errors import InvalidInput

IDS = [f"C-GZ-2026-{n:06d}" for n in (11, 12, 13)]


def route(worker, complaint_id):
    worker.on_order_signed(envelope_body(
        "order.signed", dict(facts_data(), complaint_id=complaint_id,
                             department_overridden=False), complaint_id))


def test_one_call_answers_for_every_complaint_in_the_order_asked(service):  # noqa: F811
    worker, _ = service
    for complaint_id in IDS:
        route(worker, complaint_id)
    asked = [IDS[2], "C-GZ-2026-999999", IDS[0], IDS[1], IDS[0]]
    answer = worker.routing_overview(asked)
    assert [item["complaint_id"] for item in answer] == [IDS[2], IDS[0], IDS[1]]
    for item in answer:
        assert RoutingOverview().validate(item) == {}
        page = worker.get_complaint_view(item["complaint_id"])
        assert item["routing"] == page["routings"][-1]
        assert item["completion_due_at"] == page["completion_due_at"]
        assert item["routing"]["handler"]["name"] and item["routing"]["department_name"]
    assert worker.routing_overview([]) == []


@pytest.mark.parametrize("bad", ["C-GZ-2026-000011", [1, 2], [""], ["C"] * 1001])
def test_a_bad_list_is_refused_by_field(service, bad):  # noqa: F811
    worker, _ = service
    with pytest.raises(InvalidInput) as caught:
        worker.routing_overview(bad)
    assert "complaint_ids" in caught.value.fields
