"""Transactional outbox (ARCHITECTURE, Events and exactly-once effects).

`Outbox.add(conn, ...)` writes an event in the caller's transaction: it exists
only if the change that caused it committed. `OutboxRelay`, a nameko
dependency started with the service, publishes unpublished rows in order with
publisher confirms (bounded wait) and marks them published. A crash between
publishing and marking republishes the row: delivery is at least once, and
consumers drop duplicates by `event_id` (shared.inbox).

An event takes the correlation id of the worker that wrote it (SPEC §7;
shared.worker_context) unless given one. The relay counts what the broker
confirmed (ccrm_events_published_total), and the unsent rows are read as
ccrm_outbox_backlog when Prometheus scrapes (shared.metrics).
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, tzinfo
from typing import Any

import kombu
from nameko.extensions import DependencyProvider

from shared import metrics, worker_context
from shared.db import Database, database_url
from shared.events.envelope import Envelope, build_envelope

log = logging.getLogger(__name__)

# One wake-up per process: a commit that wrote to the outbox nudges the relay
# instead of waiting for its next poll.
_wakeup = threading.Event()


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
        conn.execute(
            f"""INSERT INTO {self.schema}.outbox (event_id, exchange, routing_key, body)
                VALUES (%(event_id)s, %(exchange)s, %(routing_key)s, %(body)s)""",
            {"event_id": envelope.event_id, "exchange": envelope.exchange,
             "routing_key": envelope.type, "body": envelope.body})
        _wakeup.set()
        return envelope


class EventPublisher:
    """kombu publishing with confirms; each publish waits at most `confirm_timeout`."""

    def __init__(self, amqp_uri: str, confirm_timeout: float = 5.0, heartbeat: float = 0) -> None:
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        self.heartbeat = heartbeat
        self._connection: kombu.Connection | None = None
        self._producer: kombu.Producer | None = None
        self._declared: set[str] = set()

    def _ensure(self) -> kombu.Producer:
        if self._connection is None:
            self._connection = kombu.Connection(
                self.amqp_uri, heartbeat=self.heartbeat, connect_timeout=5,
                transport_options={"confirm_publish": True})
            self._connection.ensure_connection(max_retries=1)
            self._producer = kombu.Producer(self._connection.channel())
            self._declared = set()
        assert self._producer is not None   # set and cleared with the connection
        return self._producer

    def publish(self, exchange_name: str, routing_key: str, body: str, message_id: str,
                headers: dict[str, Any] | None = None) -> None:
        producer = self._ensure()
        exchange = kombu.Exchange(exchange_name, type="topic", durable=True)
        if exchange_name not in self._declared:
            exchange.declare(channel=producer.channel)
            self._declared.add(exchange_name)
        producer.publish(
            body, exchange=exchange, routing_key=routing_key, delivery_mode=2,
            content_type="application/json", content_encoding="utf-8",
            message_id=message_id, headers=headers or {},
            timeout=self.confirm_timeout, confirm_timeout=self.confirm_timeout)

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


def relay_once(database: Database, schema: str, publisher: EventPublisher, batch_size: int = 500,
               service: str | None = None) -> int:
    """Publish one batch in id order; return how many rows were published
    (counted under `service`, default the schema's name).

    An advisory lock makes one relay per schema active at a time, so events
    leave in the order they were committed even with several instances."""
    published: list[int] = []
    with database.transaction() as conn:
        lock = conn.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s)) AS ok",
                            (f"outbox:{schema}",)).fetchone()
        if lock is None or not lock["ok"]:
            return 0
        rows = conn.execute(
            f"""SELECT id, event_id, exchange, routing_key, body FROM {schema}.outbox
                WHERE published_at IS NULL ORDER BY id LIMIT %s""", (batch_size,)).fetchall()
        try:
            for row in rows:
                payload = row["body"]
                correlation = _correlation_id(payload)
                headers = {"nameko.correlation_id": correlation} if correlation else {}
                publisher.publish(row["exchange"], row["routing_key"], payload,
                                  str(row["event_id"]), headers)
                published.append(row["id"])
                metrics.events_published.labels(service or schema, row["routing_key"]).inc()
        finally:
            # Mark what was confirmed even when a later publish failed.
            if published:
                conn.execute(f"UPDATE {schema}.outbox SET published_at = now() WHERE id = ANY(%s)",
                             (published,))
    return len(published)


def _correlation_id(body: str) -> str | None:
    marker = '"correlation_id":"'
    start = body.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return body[start:body.find('"', start)]


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

    def setup(self) -> None:
        from zoneinfo import ZoneInfo
        config = self.container.config
        self.database = Database(database_url(config, self.schema), size=2)
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

    def stop(self) -> None:
        self._running = False
        metrics.unregister_reading(BACKLOG_METRIC, self.container.service_name)
        _wakeup.set()

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
                _wakeup.wait(self.poll_interval)
                _wakeup.clear()
        self.publisher.close()
        self.database.close()

    def get_dependency(self, worker_ctx: Any) -> Outbox:
        return self.outbox
