"""The correlation id of SPEC §7 through the gateway: taken from the
request's X-Correlation-Id (or made), echoed on the response, passed on by RPC
and carried by the events the request caused."""
import uuid

import pytest

from services.gateway.tests.complaints_suite import running_suite  # noqa: F401 - `api`
from services.intake.tests.helpers import form

pytestmark = pytest.mark.integration


def test_the_request_correlation_id_is_echoed_and_carried_by_its_events(api,
                                                                         subscriber_factory):
    events = subscriber_factory("intake.events")
    given = str(uuid.uuid4())
    created = api["spec"].post("/api/complaints", form(), headers={"X-Correlation-Id": given})
    assert created.status_code == 201, created.text
    assert created.headers["X-Correlation-Id"] == given
    cid = created.json()["id"]
    received = events.wait_for(lambda got: any(e["type"] == "complaint.received" for e in got))
    [event] = [e for e in received if e["type"] == "complaint.received"]
    assert event["complaint_id"] == cid and event["correlation_id"] == given

    # Not a UUID (the envelope's correlation_id is one): a new id, echoed.
    shown = api["spec"].get(f"/api/complaints/{cid}", headers={"X-Correlation-Id": "x; drop"})
    assert shown.status_code == 200
    made = shown.headers["X-Correlation-Id"]
    assert str(uuid.UUID(made)) == made and made != given
    # Refusals carry one too, so a failed call can be found in the logs.
    refused = api["public"].get("/api/complaints")
    assert refused.status_code == 401 and uuid.UUID(refused.headers["X-Correlation-Id"])
