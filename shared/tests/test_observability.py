"""Observability on the real broker and database: /metrics of running
services moves with an event round trip, log lines and events carry the
caller's correlation id, and a taken metrics port stops the start."""
import io
import json
import logging
import time
from datetime import UTC, datetime

import eventlet
import pytest
import requests
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_container
from prometheus_client.parser import text_string_to_metric_families

from shared import metrics
from shared.consumer import MAX_ATTEMPTS, event_handler
from shared.db import DatabaseProvider
from shared.inbox import first_delivery
from shared.logs import JsonFormatter
from shared.metrics_server import MetricsAddressError
from shared.observability import Observability
from shared.outbox import EventPublisher, OutboxRelay
from shared.rpc import rpc

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 27, 2, 42, tzinfo=UTC)
COMPLAINT = "C-GZ-2026-000123"
CORRELATION = "0b9a4c57-5c1e-4d8e-9a34-6a1f6f1d2e3c"
STORED = {"media_id": "m-1", "kind": "signature", "stage": None, "content_type": "image/png",
          "size": 10, "sha256": "ab" * 32, "uploaded_by": "p-1", "complaint_id": None}
log = logging.getLogger("ccrm.test.observability")


class ObservedProducer:
    name = "obs_producer"
    observability = Observability("obs_producer")
    db = DatabaseProvider("media")
    outbox = OutboxRelay("media")

    @rpc
    def store(self, media_id, complaint_id=None):
        with self.db.transaction() as conn:
            self.outbox.add(conn, "media.stored",
                            dict(STORED, media_id=media_id, complaint_id=complaint_id),
                            occurred_at=NOW, complaint_id=complaint_id)


class ObservedConsumer:
    name = "obs_consumer"
    observability = Observability("obs_consumer")
    db = DatabaseProvider("media")

    @event_handler("media", "media.stored")
    def on_stored(self, payload):
        if payload["data"]["media_id"] == "fails":
            raise ValueError("bug in the handler")
        log.info("media %s seen", payload["data"]["media_id"])
        with self.db.transaction() as conn:
            first_delivery(conn, "media", "obs.on_stored", payload["event_id"], payload["type"])


def scrape(port):
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def eventually(check, timeout=10.0):
    limit = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < limit, f"not reached in {timeout}s"
        time.sleep(0.05)


@pytest.fixture
def json_lines():
    """What the test logger writes through the JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    log.removeHandler(handler)


@pytest.fixture
def running(runner_factory, ccrm_config, clean_database):
    config = dict(ccrm_config, METRICS_ADDRESS="127.0.0.1:0")
    runner = runner_factory(config, ObservedProducer, ObservedConsumer)
    runner.start()
    consumer = get_container(runner, ObservedConsumer)
    server = next(d for d in consumer.dependencies if isinstance(d, Observability)).server
    return config, consumer, server.port


def test_an_event_round_trip_moves_the_metrics_and_carries_the_correlation_id(
        running, json_lines, subscriber_factory, caplog):
    config, consumer, port = running
    subscriber = subscriber_factory("media.events")
    before = scrape(port)
    with entrypoint_waiter(consumer, "on_stored"):
        with ServiceRpcProxy("obs_producer", config,
                             context_data={"correlation_id": CORRELATION}) as proxy:
            proxy.store("m-1", complaint_id=COMPLAINT)
    after = scrape(port)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("ccrm_events_published_total", service="obs_producer",
                 event_type="media.stored") == 1
    assert moved("ccrm_events_consumed_total", service="obs_consumer",
                 event_type="media.stored", outcome="applied") == 1
    assert moved("ccrm_handler_seconds_count", service="obs_consumer", entrypoint="on_stored") == 1
    assert value(after, "ccrm_handler_seconds_bucket", service="obs_consumer",
                 entrypoint="on_stored", le="+Inf") >= 1
    assert ("ccrm_outbox_backlog", (("service", "obs_producer"),)) in after
    assert value(after, "process_resident_memory_bytes") > 0

    # The event the RPC's worker wrote carries the caller's id, and so does
    # the line the consumer logged while handling it.
    event = subscriber.wait_for(lambda got: len(got) == 1)[0]
    assert event["correlation_id"] == CORRELATION
    line = next(entry for entry in json_lines() if entry["message"] == "media m-1 seen")
    assert line["correlation_id"] == CORRELATION
    assert line["complaint_id"] == COMPLAINT and line["service"] == "obs_consumer"
    # The RPC's reply leaves before its worker's result hooks run.
    eventually(lambda: value(scrape(port), "ccrm_handler_seconds_count", service="obs_producer",
                             entrypoint="store")
               - value(before, "ccrm_handler_seconds_count", service="obs_producer",
                       entrypoint="store") == 1)
    assert not [r for r in caplog.records if getattr(r, "event", None) == "hub_blocked"]


def test_backlog_duplicates_and_failures_are_counted(running, clean_database, rabbit_config):
    config, consumer, port = running
    before = scrape(port)
    # Hold the relay's lock: what is stored stays unsent, and the gauge shows it.
    with clean_database.transaction() as held:
        held.execute("SELECT pg_advisory_xact_lock(hashtext('outbox:media'))")
        with ServiceRpcProxy("obs_producer", config) as proxy:
            proxy.store("m-2")
            proxy.store("m-3")
        assert value(scrape(port), "ccrm_outbox_backlog", service="obs_producer") == 2
    eventually(lambda: value(scrape(port), "ccrm_outbox_backlog", service="obs_producer") == 0)
    eventually(lambda: value(scrape(port), "ccrm_events_consumed_total", service="obs_consumer",
                             event_type="media.stored", outcome="applied")
               - value(before, "ccrm_events_consumed_total", service="obs_consumer",
                       event_type="media.stored", outcome="applied") == 2)

    # The same event again (a relay that crashed before marking it): a duplicate.
    with clean_database.connection() as conn:
        row = conn.execute("SELECT event_id, body FROM media.outbox ORDER BY id LIMIT 1").fetchone()
    publisher = EventPublisher(rabbit_config["AMQP_URI"])
    try:
        with entrypoint_waiter(consumer, "on_stored"):
            publisher.publish("media.events", "media.stored", row["body"], str(row["event_id"]))
    finally:
        publisher.close()
    # A handler that always raises: each attempt counts as failed, the last
    # one is dead-lettered (shared.consumer).
    with ServiceRpcProxy("obs_producer", config) as proxy:
        proxy.store("fails")
    eventually(lambda: value(scrape(port), "ccrm_events_dead_lettered_total",
                             service="obs_consumer", handler="on_stored")
               - value(before, "ccrm_events_dead_lettered_total", service="obs_consumer",
                       handler="on_stored") == 1)
    after = scrape(port)
    assert value(after, "ccrm_events_consumed_total", service="obs_consumer",
                 event_type="media.stored", outcome="failed") \
        - value(before, "ccrm_events_consumed_total", service="obs_consumer",
                event_type="media.stored", outcome="failed") == MAX_ATTEMPTS
    assert value(after, "ccrm_events_consumed_total", service="obs_consumer",
                 event_type="media.stored", outcome="duplicate") \
        - value(before, "ccrm_events_consumed_total", service="obs_consumer",
                event_type="media.stored", outcome="duplicate") == 1


def test_a_taken_metrics_port_stops_the_start_with_a_clear_message(container_factory,
                                                                   ccrm_config):
    taken = eventlet.listen(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    try:
        container = container_factory(
            ObservedConsumer, dict(ccrm_config, METRICS_ADDRESS=f"127.0.0.1:{port}"))
        with pytest.raises(MetricsAddressError) as refused:
            container.start()
        assert f"127.0.0.1:{port}" in str(refused.value)
        assert "METRICS_ADDRESS" in str(refused.value)
    finally:
        taken.close()


def test_without_an_address_nothing_listens_but_workers_are_still_timed(container_factory,
                                                                          ccrm_config):
    container = container_factory(ObservedProducer, ccrm_config)   # config.yaml: empty
    container.start()
    observability = next(d for d in container.dependencies if isinstance(d, Observability))
    assert observability.server is None
    timed = metrics.handler_seconds.labels("obs_producer", "store")
    before = timed._sum.get()
    with ServiceRpcProxy("obs_producer", ccrm_config) as proxy:
        proxy.store("m-quiet")
    # The reply leaves before the worker's result hooks run: wait for them.
    eventually(lambda: timed._sum.get() > before)
