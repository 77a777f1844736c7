"""sla's metrics on a running service: timers due but not fired (held back by
a row lock the firing loop skips), how late each one fired, and the
correlation id of the event that armed them on what sla publishes."""
import json

import pytest
from nameko.testing.services import entrypoint_waiter

from services.sla.service import SlaService
from services.sla.tests.helpers import CID, at, facts
from services.sla.tests.producers import scalar, wait_until
from shared.observability import Observability
from shared.tests.test_observability import scrape, value

pytestmark = pytest.mark.integration


@pytest.fixture
def sla_port(container_factory, sla_config, clean_database):
    def start():
        # No warning before order_submit (issue 13): the one timer measured is the deadline.
        container = container_factory(SlaService, dict(sla_config, METRICS_ADDRESS="127.0.0.1:0",
                                                       SLA={"order_submit_warning_minutes": 0}))
        container.start()
        server = next(d for d in container.dependencies if isinstance(d, Observability)).server
        return container, server.port
    return start


def test_timers_due_and_their_lag_are_measured(sla_port, producers, sim_clock, clean_database,
                                               subscriber_factory):
    sim_clock.set(at("10:00"))
    subscriber = subscriber_factory("sla.events")
    container, port = sla_port()
    before = scrape(port)
    with entrypoint_waiter(container, "on_intake_event"):
        event_id = producers.intake("complaint.received",
                                    facts(resolved_on_spot=False, signature_media_id=None),
                                    at("10:00"))
    # order_submit is due at 10:30 (SPEC §4).
    timer_id = wait_until(lambda: scalar(clean_database, "SELECT id FROM sla.timers WHERE "
                                                         "rule = 'order_submit'"))
    after_event = scrape(port)
    assert value(after_event, "ccrm_events_consumed_total", service="sla",
                 event_type="complaint.received", outcome="applied") \
        - value(before, "ccrm_events_consumed_total", service="sla",
                event_type="complaint.received", outcome="applied") == 1
    assert value(after_event, "ccrm_timers_due", service="sla") == 0

    lag_count = value(after_event, "ccrm_timer_lag_seconds_count", service="sla")
    lag_sum = value(after_event, "ccrm_timer_lag_seconds_sum", service="sla")
    with clean_database.transaction() as held:
        # The firing loop skips a locked timer: it stays due while this lasts.
        held.execute("SELECT 1 FROM sla.timers WHERE id = %s FOR UPDATE", (timer_id,))
        sim_clock.set(at("10:31"))
        assert value(scrape(port), "ccrm_timers_due", service="sla") == 1
    wait_until(lambda: value(scrape(port), "ccrm_timer_lag_seconds_count", service="sla")
               == lag_count + 1, what="the timer fired")
    after = scrape(port)
    assert value(after, "ccrm_timers_due", service="sla") == 0
    fired_late = value(after, "ccrm_timer_lag_seconds_sum", service="sla") - lag_sum
    assert 60 <= fired_late < 120          # due 10:30, fired just after 10:31
    missed_before = value(before, "ccrm_events_published_total", service="sla",
                          event_type="deadline.missed")
    wait_until(lambda: value(scrape(port), "ccrm_events_published_total", service="sla",
                             event_type="deadline.missed") > missed_before,
               what="deadline.missed relayed")

    # What sla published while applying the event carries that event's id.
    with clean_database.connection() as conn:
        incoming = conn.execute("SELECT body FROM intake.outbox WHERE event_id = %s",
                                (event_id,)).fetchone()["body"]
    correlation = json.loads(incoming)["correlation_id"]
    received = subscriber.wait_for(lambda got: any(e["type"] == "deadline.armed" for e in got))
    armed = [e for e in received if e["type"] == "deadline.armed"
             and e["data"]["rule"] == "order_submit" and e["complaint_id"] == CID]
    assert armed and armed[0]["correlation_id"] == correlation
