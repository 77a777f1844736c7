"""Transactional outbox (ARCHITECTURE, Events and exactly-once effects).

`Outbox.add(conn, ...)` writes an event in the caller's transaction: it exists
only if the change that caused it committed. `OutboxRelay`, a nameko
dependency started with the service, publishes unpublished rows in order with
publisher confirms (bounded wait) and marks them published. A crash between
publishing and marking republishes the row: delivery is at least once, and
consumers drop duplicates by `event_id` (shared.inbox).

Speed (issue 17): a batch is published in one go and its confirms awaited
together (`EventPublisher.publish_many`), not one round trip per message; only
the confirmed prefix is marked. `Outbox.add` queues a PostgreSQL `NOTIFY` in
the writer's transaction, which the server delivers only when it commits:
every instance's relay LISTENs and wakes at once, instead of finding the row
not yet committed and sleeping a poll interval (that was most of a step's
latency between services).

An event takes the correlation id of the worker that wrote it (SPEC §7;
shared.worker_context) unless given one. The relay counts what the broker
confirmed (ccrm_events_published_total), and the unsent rows are read as
ccrm_outbox_backlog when Prometheus scrapes (shared.metrics).

A batch (`relay_once`, shared.outbox_batch) is BEGIN + a claim that takes the
relay's advisory lock and marks the rows in one round trip, then COMMIT after
the confirms: two round trips, an empty wake too (it was five and four).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import Any

import kombu
import psycopg
from nameko.extensions import DependencyProvider

from shared import metrics, worker_context
from shared.db import Database, database_url
from shared.events.envelope import Envelope, build_envelope
from shared.outbox_batch import relay_once

log = logging.getLogger(__name__)

def channel_name(schema: str) -> str:
    """The LISTEN/NOTIFY channel of a schema's outbox."""
    return f"ccrm_outbox_{schema}"


class PublishFailed(Exception):
    """The broker refused (nack) or did not confirm a batch in time."""


class Outbox:
    def __init__(self, schema: str, producer: str, region: str,
                 zone: tzinfo | None = None) -> None:
        self.schema = schema
        self.producer = producer
        self.region = region
        self.zone = zone

    def add(self, conn: Any, event_type: str, data: Any, *, occurred_at: datetime,
            complaint_id: str | None = None, correlation_id: str | None = None,
            version: int = 1) -> Envelope:
        envelope = build_envelope(
            event_type, data, producer=self.producer, region=self.region,
            occurred_at=occurred_at, complaint_id=complaint_id,
            correlation_id=correlation_id or worker_context.correlation_id(),
            version=version, zone=self.zone)
        # The NOTIFY rides in the INSERT itself (pg_notify in its FROM): one
        # statement per event, not two; PostgreSQL sends it on commit only and
        # folds a transaction's repeats into one (client CPU per event 84 -> 70 us).
        conn.execute(
            f"""INSERT INTO {self.schema}.outbox (event_id, exchange, routing_key, body)
                SELECT %(event_id)s, %(exchange)s, %(routing_key)s, %(body)s
                  FROM pg_notify(%(channel)s, '')""",
            {"event_id": envelope.event_id, "exchange": envelope.exchange,
             "routing_key": envelope.type, "body": envelope.body,
             "channel": channel_name(self.schema)})
        return envelope

    def wake(self, conn: Any) -> None:
        """Wake the relays when this transaction commits (PostgreSQL sends a
        NOTIFY on commit only, and once per transaction however often asked)."""
        conn.execute(f"NOTIFY {channel_name(self.schema)}")


class EventPublisher:
    """kombu publishing with confirms; each publish waits at most `confirm_timeout`."""

    def __init__(self, amqp_uri: str, confirm_timeout: float = 5.0, heartbeat: float = 0) -> None:
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        self.heartbeat = heartbeat
        self._connection: kombu.Connection | None = None
        self._producer: kombu.Producer | None = None
        self._declared: set[str] = set()
        self._sent = 0                  # the channel's last delivery tag
        self._confirmed: set[int] = set()
        self._acked_upto = 0
        self._nacked: set[int] = set()

    def _ensure(self) -> kombu.Producer:
        if self._connection is None:
            self._connection = kombu.Connection(
                self.amqp_uri, heartbeat=self.heartbeat, connect_timeout=5,
                transport_options={"confirm_publish": True})
            self._connection.ensure_connection(max_retries=1)
            channel = self._connection.channel()
            self._producer = kombu.Producer(channel)
            self._declared = set()
            self._sent, self._acked_upto = 0, 0
            self._confirmed, self._nacked = set(), set()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
        assert self._producer is not None   # set and cleared with the connection
        return self._producer

    def _on_ack(self, tag: int, multiple: bool) -> None:
        if multiple:
            self._acked_upto = max(self._acked_upto, tag)
        else:
            self._confirmed.add(tag)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        first = self._acked_upto + 1 if multiple else tag
        self._nacked.update(t for t in range(first, tag + 1) if t not in self._confirmed)

    def _is_confirmed(self, tag: int) -> bool:
        return (tag <= self._acked_upto or tag in self._confirmed) and tag not in self._nacked

    def _exchange(self, producer: kombu.Producer, exchange_name: str) -> None:
        if exchange_name not in self._declared:
            kombu.Exchange(exchange_name, type="topic", durable=True).declare(
                channel=producer.channel)
            self._declared.add(exchange_name)

    def publish(self, exchange_name: str, routing_key: str, body: str, message_id: str,
                headers: dict[str, Any] | None = None) -> None:
        producer = self._ensure()
        self._exchange(producer, exchange_name)
        self._sent += 1     # every publish on a confirm channel takes the next tag
        producer.publish(
            body, exchange=kombu.Exchange(exchange_name, type="topic", durable=True),
            routing_key=routing_key, delivery_mode=2,
            content_type="application/json", content_encoding="utf-8",
            message_id=message_id, headers=headers or {},
            timeout=self.confirm_timeout, confirm_timeout=self.confirm_timeout)

    def publish_many(self, messages: list[tuple[str, str, str, str, dict[str, Any]]]) -> int:
        """Publish (exchange, routing_key, body, message_id, headers) in order
        without waiting between them, then wait (at most `confirm_timeout`) for
        the broker's confirms; returns how many from the start were confirmed.
        Raises PublishFailed when fewer than all were, after counting them, so
        a caller marks exactly the confirmed prefix (`confirmed` on the error)."""
        if not messages:
            return 0
        producer = self._ensure()
        channel = producer.channel
        if not channel._confirm_selected:
            channel._confirm_selected = True
            channel.confirm_select()
        for exchange_name, *_ in messages:      # a declare waits for its answer: first
            self._exchange(producer, exchange_name)
        first = self._sent + 1
        assert self._connection is not None     # made by _ensure above
        connection = self._connection.connection    # the amqp.Connection under kombu's
        try:
            with _one_write(connection.transport):
                for exchange_name, routing_key, body, message_id, headers in messages:
                    message = channel.prepare_message(
                        body.encode("utf-8"), None, "application/json", "utf-8",
                        headers or {}, {"delivery_mode": 2, "message_id": message_id})
                    channel._basic_publish(message, exchange=exchange_name,
                                           routing_key=routing_key)
                    self._sent += 1
        except BaseException:
            self.close(graceful=False)      # the delivery tags no longer match the broker's
            raise
        last = self._sent
        deadline = time.monotonic() + self.confirm_timeout
        while not all(self._is_confirmed(t) or t in self._nacked
                      for t in range(first, last + 1)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                connection.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                continue
        confirmed = 0
        for tag in range(first, last + 1):
            if not self._is_confirmed(tag):
                break
            confirmed += 1
        self._confirmed = {t for t in self._confirmed if t > last}
        if confirmed < len(messages):
            error = PublishFailed(f"{len(messages) - confirmed} of {len(messages)} messages "
                                  "not confirmed by the broker")
            error.confirmed = confirmed    # type: ignore[attr-defined]
            raise error
        return confirmed

    def close(self, graceful: bool = True) -> None:
        """Close the connection; `graceful=False` drops it without waiting for
        the broker (a killed container must not hang on a broker that is gone)."""
        if self._connection is not None:
            try:
                if graceful:
                    self._connection.release()
                else:
                    self._connection.collect()
            except Exception:  # noqa: BLE001 - closing a dead connection
                pass
        self._connection = None
        self._producer = None


@contextmanager
def _one_write(transport: Any) -> Iterator[None]:
    """The frames py-amqp writes meanwhile go to the socket in one `sendall`
    at the end, not one each: a socket write was most of the relay's CPU
    (GreenSocket._send_loop, 47 % of sla's relay samples). py-amqp reuses
    its frame buffer, so each frame is copied. Nothing written in the block
    may wait for an answer (declare before)."""
    write = transport._write
    frames: list[bytes] = []
    transport._write = lambda data: frames.append(bytes(data))
    try:
        yield
    finally:
        transport._write = write
    write(b"".join(frames))


def outbox_backlog(database: Database, schema: str,
                   statement_timeout_ms: int | None = None) -> int:
    with database.transaction() as conn:
        if statement_timeout_ms:
            conn.execute(f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}")
        row = conn.execute(
            f"SELECT count(*) AS n FROM {schema}.outbox WHERE published_at IS NULL").fetchone()
    assert row is not None      # count(*) always answers one row
    return row["n"]


BACKLOG_METRIC = "ccrm_outbox_backlog"
BACKLOG_TIMEOUT_MS = 1000


class OutboxRelay(DependencyProvider):
    """Runs the relay loop beside the service; gives workers an `Outbox`."""

    def __init__(self, schema: str, producer: str | None = None, poll_interval: float = 1.0,
                 batch_size: int = 500) -> None:
        self.schema = schema
        self.producer = producer or schema
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self._running = False
        self._wake = threading.Event()

    def setup(self) -> None:
        from zoneinfo import ZoneInfo
        config = self.container.config
        self.dsn = database_url(config, self.schema)
        self.database = Database(self.dsn, size=2)
        # No heartbeats on this publish-only connection: nothing reads its
        # socket between publishes, so the broker's heartbeats would go unseen
        # and kombu would call the connection dead. A broken connection shows
        # on the next publish, whose confirm wait is bounded.
        self.publisher = EventPublisher(
            config["AMQP_URI"], float(config.get("PUBLISH_CONFIRM_TIMEOUT", 5)), heartbeat=0)
        self.outbox = Outbox(self.schema, self.producer, config.get("REGION_CODE", "GZ"),
                             ZoneInfo(config.get("TIME_ZONE", "Asia/Shanghai")))

    def start(self) -> None:
        self._running = True
        metrics.register_reading(
            BACKLOG_METRIC, "Outbox rows not yet published", self.container.service_name,
            lambda: outbox_backlog(self.database, self.schema, BACKLOG_TIMEOUT_MS))
        self.container.spawn_managed_thread(self._run, identifier=f"outbox-relay-{self.schema}")
        self.container.spawn_managed_thread(self._listen,
                                            identifier=f"outbox-listen-{self.schema}")

    def stop(self) -> None:
        self._running = False
        metrics.unregister_reading(BACKLOG_METRIC, self.container.service_name)
        self._wake.set()

    def kill(self) -> None:
        self.stop()
        self.publisher.close(graceful=False)
        self.database.close()

    def _run(self) -> None:
        failures = 0
        while self._running:
            try:
                count = relay_once(self.database, self.schema, self.publisher, self.batch_size,
                                   service=self.container.service_name)
                failures = 0
            except Exception as exc:  # noqa: BLE001 - the relay must outlive broker/db faults
                failures += 1
                log.warning("outbox relay %s failed (%s); retrying", self.schema, exc)
                self.publisher.close()
                time.sleep(min(0.2 * 2 ** failures, 5.0))
                continue
            if count < self.batch_size:
                self._wake.wait(self.poll_interval)
                self._wake.clear()
        self.publisher.close()
        self.database.close()

    def _listen(self) -> None:
        """Wake the relay on every commit that wrote to this outbox (any
        instance's: PostgreSQL delivers the NOTIFY to every listener). Without
        a listening connection the relay still polls every `poll_interval`."""
        while self._running:
            try:
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {channel_name(self.schema)}")
                    self._wake.set()        # rows committed while nobody listened
                    while self._running:
                        for _ in conn.notifies(timeout=1.0):
                            self._wake.set()
            except Exception as exc:  # noqa: BLE001 - the poll goes on; listen again later
                log.warning("outbox listener %s failed (%s); polling meanwhile", self.schema, exc)
                time.sleep(self.poll_interval)

    def get_dependency(self, worker_ctx: Any) -> Outbox:
        return self.outbox
