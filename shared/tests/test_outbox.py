"""Outbox and inbox on the real PostgreSQL and RabbitMQ."""
import json
import time
from datetime import UTC, datetime

import kombu
import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from shared import metrics
from shared.consumer import dead_letter_queue, event_handler
from shared.db import DatabaseProvider
from shared.events.envelope import InvalidEvent
from shared.inbox import first_delivery
from shared.outbox import (
    EventPublisher,
    Outbox,
    OutboxRelay,
    PublishFailed,
    outbox_backlog,
    relay_once,
)

NOW = datetime(2026, 11, 27, 2, 42, tzinfo=UTC)
STORED = {"media_id": "m-1", "kind": "signature", "stage": None, "content_type": "image/png",
          "size": 10, "sha256": "ab" * 32, "uploaded_by": "p-1", "complaint_id": None}


@pytest.fixture
def outbox():
    return Outbox("media", "media", "GZ")


@pytest.fixture
def publisher(rabbit_config):
    pub = EventPublisher(rabbit_config["AMQP_URI"], confirm_timeout=5)
    yield pub
    pub.close()


def test_event_survives_a_crash_between_commit_and_publish(clean_database, outbox, publisher,
                                                           subscriber_factory):
    with clean_database.transaction() as conn:
        outbox.add(conn, "media.stored", STORED, occurred_at=NOW)
    # The process "dies" here: nothing was published, the row is still there.
    assert outbox_backlog(clean_database, "media") == 1
    subscriber = subscriber_factory("media.events")
    assert relay_once(clean_database, "media", publisher) == 1
    events = subscriber.wait_for(lambda got: len(got) == 1)
    assert events[0]["type"] == "media.stored"
    assert events[0]["region"] == "GZ" and events[0]["producer"] == "media"
    assert outbox_backlog(clean_database, "media") == 0
    assert relay_once(clean_database, "media", publisher) == 0


def test_a_rolled_back_change_publishes_nothing(clean_database, outbox, publisher):
    with pytest.raises(RuntimeError):
        with clean_database.transaction() as conn:
            outbox.add(conn, "media.stored", STORED, occurred_at=NOW)
            raise RuntimeError("the change failed")
    assert relay_once(clean_database, "media", publisher) == 0


def test_event_not_matching_its_schema_is_refused(clean_database, outbox):
    with pytest.raises(InvalidEvent) as caught:
        with clean_database.transaction() as conn:
            outbox.add(conn, "media.stored", {"media_id": "m-1"}, occurred_at=NOW)
    assert "sha256" in caught.value.fields
    assert outbox_backlog(clean_database, "media") == 0


def test_events_leave_in_commit_order(clean_database, outbox, publisher, subscriber_factory):
    subscriber = subscriber_factory("media.events")
    ids = []
    for n in range(20):
        with clean_database.transaction() as conn:
            ids.append(outbox.add(conn, "media.stored", dict(STORED, media_id=f"m-{n}"),
                                  occurred_at=NOW).event_id)
    relay_once(clean_database, "media", publisher, batch_size=7)
    relay_once(clean_database, "media", publisher, batch_size=7)
    relay_once(clean_database, "media", publisher, batch_size=7)
    got = subscriber.wait_for(lambda got: len(got) == 20)
    assert [e["event_id"] for e in got] == ids


def test_redelivered_event_changes_nothing(clean_database, outbox, publisher, subscriber_factory):
    """Publish, lose the 'published' mark (crash before it committed), publish
    again: the subscriber sees the event twice, the inbox applies it once."""
    subscriber = subscriber_factory("media.events")
    with clean_database.transaction() as conn:
        outbox.add(conn, "media.stored", STORED, occurred_at=NOW)
        conn.execute("CREATE TABLE IF NOT EXISTS public.effects (event_id uuid, n int)")
        conn.execute("TRUNCATE public.effects")
    relay_once(clean_database, "media", publisher)
    with clean_database.transaction() as conn:
        conn.execute("UPDATE media.outbox SET published_at = NULL")
    relay_once(clean_database, "media", publisher)
    deliveries = subscriber.wait_for(lambda got: len(got) == 2)
    assert deliveries[0]["event_id"] == deliveries[1]["event_id"]

    for delivery in deliveries:
        with clean_database.transaction() as conn:
            if first_delivery(conn, "penalty", "test.effect", delivery["event_id"],
                              delivery["type"]):
                conn.execute("INSERT INTO public.effects VALUES (%s, 1)", (delivery["event_id"],))
    with clean_database.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM public.effects").fetchone()["n"] == 1


def test_unreachable_broker_fails_fast():
    publisher = EventPublisher("pyamqp://guest:guest@127.0.0.1:1//", confirm_timeout=1)
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 - any error will do: the wait is the point
        publisher.publish("media.events", "media.stored", "{}", "x")
    assert time.monotonic() - started < 15


class RelayService:
    name = "relay_probe"
    db = DatabaseProvider("media")
    outbox = OutboxRelay("media")

    @rpc
    def store(self, media_id):
        with self.db.transaction() as conn:
            self.outbox.add(conn, "media.stored", dict(STORED, media_id=media_id), occurred_at=NOW)


def test_relay_runs_beside_the_service(clean_database, ccrm_config, container_factory,
                                       subscriber_factory):
    subscriber = subscriber_factory("media.events")
    container = container_factory(RelayService, ccrm_config)
    container.start()
    with ServiceRpcProxy("relay_probe", ccrm_config) as proxy:
        proxy.store("m-live")
    got = subscriber.wait_for(lambda got: len(got) == 1, timeout=5)
    assert got[0]["data"]["media_id"] == "m-live"


class FlakyConsumer:
    name = "flaky_consumer"
    calls = []

    @event_handler("media", "media.stored")
    def on_stored(self, payload):
        FlakyConsumer.calls.append(payload["event_id"])
        if payload["data"]["media_id"] == "always-fails" or len(FlakyConsumer.calls) == 1:
            raise ValueError("bug in the handler")


def _dead_letters(config):
    with kombu.Connection(config["AMQP_URI"]) as conn:
        with conn.SimpleQueue(dead_letter_queue(config)) as queue:
            out = []
            while True:
                try:
                    message = queue.get(timeout=0.2)
                except queue.Empty:
                    return out
                out.append(json.loads(message.body))
                message.ack()


def test_failed_handler_retries_then_dead_letters(clean_database, ccrm_config, container_factory,
                                                  outbox, publisher):
    FlakyConsumer.calls = []
    container = container_factory(FlakyConsumer, ccrm_config)
    container.start()
    with clean_database.transaction() as conn:
        flaky = outbox.add(conn, "media.stored", dict(STORED, media_id="fails-once"),
                           occurred_at=NOW)
        broken = outbox.add(conn, "media.stored", dict(STORED, media_id="always-fails"),
                            occurred_at=NOW)
    relay_once(clean_database, "media", publisher)
    limit = time.monotonic() + 10
    while time.monotonic() < limit and FlakyConsumer.calls.count(broken.event_id) < 5:
        time.sleep(0.05)
    time.sleep(0.3)
    assert FlakyConsumer.calls.count(flaky.event_id) == 2      # failed once, then applied
    assert FlakyConsumer.calls.count(broken.event_id) == 5     # retried, never forever
    dead = _dead_letters(ccrm_config)
    assert len(dead) == 1
    assert dead[0]["handler"] == "on_stored" and "bug in the handler" in dead[0]["error"]
    assert json.loads(dead[0]["body"])["event_id"] == broken.event_id


# -- speed (issue 17): batched confirms, a wake-up on commit ------------------------------

class SlowPollRelayService:
    """A relay whose poll would take 30 s: only the commit's NOTIFY can wake it."""
    name = "relay_slow_poll"
    db = DatabaseProvider("media")
    outbox = OutboxRelay("media", poll_interval=30.0)

    @rpc
    def store(self, media_id):
        with self.db.transaction() as conn:
            self.outbox.add(conn, "media.stored", dict(STORED, media_id=media_id), occurred_at=NOW)


def test_relay_wakes_when_the_change_commits(clean_database, ccrm_config, container_factory,
                                             subscriber_factory, outbox):
    subscriber = subscriber_factory("media.events")
    container = container_factory(SlowPollRelayService, ccrm_config)
    container.start()
    time.sleep(0.5)     # the relay's first pass and its LISTEN are done
    started = time.monotonic()
    with ServiceRpcProxy("relay_slow_poll", ccrm_config) as proxy:
        proxy.store("m-first")
        subscriber.wait_for(lambda got: len(got) == 1, timeout=5)
        proxy.store("m-second")
        subscriber.wait_for(lambda got: len(got) == 2, timeout=5)
    # Another process's commit (another instance) wakes this relay too.
    with clean_database.transaction() as conn:
        outbox.add(conn, "media.stored", dict(STORED, media_id="m-elsewhere"), occurred_at=NOW)
    got = subscriber.wait_for(lambda got: len(got) == 3, timeout=5)
    assert [e["data"]["media_id"] for e in got] == ["m-first", "m-second", "m-elsewhere"]
    assert time.monotonic() - started < 10      # far below one 30 s poll


def test_a_batch_leaves_in_order_with_every_confirm(clean_database, outbox, publisher,
                                                    subscriber_factory):
    subscriber = subscriber_factory("media.events")
    with clean_database.transaction() as conn:
        for n in range(250):
            outbox.add(conn, "media.stored", dict(STORED, media_id=f"m-{n}"), occurred_at=NOW)
    assert relay_once(clean_database, "media", publisher) == 250
    got = subscriber.wait_for(lambda got: len(got) == 250, timeout=10)
    assert [e["data"]["media_id"] for e in got] == [f"m-{n}" for n in range(250)]
    assert outbox_backlog(clean_database, "media") == 0


def test_only_the_confirmed_prefix_is_marked(clean_database, rabbit_config, outbox, publisher):
    """The broker refuses (nacks) what a full queue cannot take: those rows stay
    unpublished for the next pass, the confirmed ones are not sent again."""
    exchange = "media.events"
    with kombu.Connection(rabbit_config["AMQP_URI"]) as conn:
        channel = conn.channel()
        kombu.Exchange(exchange, "topic", durable=True)(channel).declare()
        full = kombu.Queue("outbox-test-full", kombu.Exchange(exchange, "topic", durable=True),
                           routing_key="#", durable=False, auto_delete=False,
                           queue_arguments={"x-max-length": 3, "x-overflow": "reject-publish"})
        full(channel).declare()
        channel.queue_purge("outbox-test-full")
    try:
        with clean_database.transaction() as conn:
            for n in range(5):
                outbox.add(conn, "media.stored", dict(STORED, media_id=f"m-{n}"), occurred_at=NOW)
        with pytest.raises(PublishFailed):
            relay_once(clean_database, "media", publisher)
        with kombu.Connection(rabbit_config["AMQP_URI"]) as conn:
            stored = conn.default_channel.queue_declare("outbox-test-full",
                                                        passive=True).message_count
        # Marked published: exactly what the broker took; the rest is left for the next pass.
        assert 1 <= stored <= 3
        assert outbox_backlog(clean_database, "media") == 5 - stored
    finally:
        with kombu.Connection(rabbit_config["AMQP_URI"]) as conn:
            conn.default_channel.queue_delete("outbox-test-full")


def test_a_batch_goes_to_the_socket_in_one_write(clean_database, outbox, publisher,
                                                 subscriber_factory):
    """One `sendall` for the whole window, not one per message (a socket write
    was most of a relay's CPU); every message still arrives, in order."""
    subscriber = subscriber_factory("media.events")
    publisher.publish_many([("media.events", "media.stored", "{}", "warm-up", {})])
    transport = publisher._connection.connection.transport
    writes = []
    send = transport._write
    transport._write = lambda data: (writes.append(len(data)), send(data))[1]
    counted = metrics.events_published.labels("media", "media.stored")
    before = counted._value.get()
    with clean_database.transaction() as conn:
        for n in range(7):
            outbox.add(conn, "media.stored", dict(STORED, media_id=f"m-{n}"), occurred_at=NOW)
    assert relay_once(clean_database, "media", publisher) == 7
    assert len(writes) == 1
    assert counted._value.get() == before + 7       # counted per type, once per window
    got = subscriber.wait_for(lambda got: len(got) == 8, timeout=10)
    assert [e["data"]["media_id"] for e in got[1:]] == [f"m-{n}" for n in range(7)]
