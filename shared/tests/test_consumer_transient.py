"""A handler that fails because the infrastructure is away (Unavailable: the
database restarting, a callee cut off) is retried after a pause and does not
spend its five attempts: found by the fault test, where a PostgreSQL restart
dead-lettered three events that would have applied a second later. Real
RabbitMQ and PostgreSQL."""
import json
import time
from datetime import UTC, datetime

import kombu
import pytest
from nameko.rpc import rpc

from shared import consumer
from shared.consumer import MAX_ATTEMPTS, event_handler, transient_delay
from shared.errors import Unavailable
from shared.outbox import EventPublisher, Outbox, relay_once
from shared.tests.test_outbox import STORED, _dead_letters

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 27, 2, 42, tzinfo=UTC)


def test_the_pause_grows_to_ten_seconds():
    assert [transient_delay(n) for n in range(6)] == [1, 2, 4, 8, 10, 10]


class AwayConsumer:
    name = "away_consumer"
    calls: list = []

    @rpc
    def ping(self):
        return "pong"

    @event_handler("media", "media.stored")
    def on_stored(self, payload):
        AwayConsumer.calls.append((payload["event_id"], time.monotonic()))
        if len(AwayConsumer.calls) <= MAX_ATTEMPTS + 2:
            raise Unavailable("数据库无法连接 (database unreachable): the server is restarting")


def test_an_unavailable_database_does_not_dead_letter_the_event(
        clean_database, ccrm_config, container_factory, monkeypatch):
    monkeypatch.setattr(consumer, "TRANSIENT_MAX_DELAY", 0.2)
    AwayConsumer.calls = []
    container = container_factory(AwayConsumer, ccrm_config)
    container.start()
    publisher = EventPublisher(ccrm_config["AMQP_URI"], confirm_timeout=5)
    with clean_database.transaction() as conn:
        event = Outbox("media", "media", "GZ").add(conn, "media.stored", STORED, occurred_at=NOW)
    relay_once(clean_database, "media", publisher)
    publisher.close()
    limit = time.monotonic() + 20
    while time.monotonic() < limit and len(AwayConsumer.calls) < MAX_ATTEMPTS + 3:
        time.sleep(0.05)
    ids = [event_id for event_id, _ in AwayConsumer.calls]
    assert ids == [event.event_id] * (MAX_ATTEMPTS + 3)     # seven failures, then applied
    times = [at for _, at in AwayConsumer.calls]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.19                                # each retry after a pause
    assert _dead_letters(ccrm_config) == []


def test_transient_failures_are_counted_apart_and_capped(monkeypatch):
    """After MAX_TRANSIENT transient failures the message counts ordinary
    attempts again, so an Unavailable that never ends is dead-lettered."""
    monkeypatch.setattr(consumer, "TRANSIENT_MAX_DELAY", 0.0)
    handler = consumer.ReliableEventHandler("media", "media.stored")
    handler.method_name = "on_stored"
    published = []
    monkeypatch.setattr(handler, "_republish", lambda message, headers: published.append(headers))
    monkeypatch.setattr(handler, "_dead_letter",
                        lambda message, exc_info, headers, attempts: published.append("dead"))

    error = Unavailable("away")
    message = kombu.Message(body=json.dumps({}),
                            headers={consumer.TRANSIENT_HEADER: consumer.MAX_TRANSIENT - 1})
    handler._retry_or_dead_letter(message, (Unavailable, error, None))
    assert published[-1] == {consumer.TRANSIENT_HEADER: consumer.MAX_TRANSIENT}
    message = kombu.Message(body=json.dumps({}), headers=dict(
        published[-1], **{consumer.ATTEMPTS_HEADER: MAX_ATTEMPTS - 1}))
    handler._retry_or_dead_letter(message, (Unavailable, error, None))
    assert published[-1] == "dead"
