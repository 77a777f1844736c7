"""Event consumption that never silently drops a message (ARCHITECTURE, traps).

nameko acknowledges a message even when its handler raised. `event_handler`
here retries a failed message a few times (republished with an attempt
count) and then moves it to the dead-letter queue `ccrm.dead-letter` with its
error, for an operator to see; only then is the original acknowledged. A
republished copy may duplicate an effect only if the handler's transaction
committed, which the inbox already guards against.

A failure of the infrastructure (`Unavailable`: the database restarting or
cut off, a callee not answering, the broker refusing) is not the message's
fault: it is retried after a pause that grows to `TRANSIENT_MAX_DELAY`,
counted apart (`x-ccrm-transient`), so a PostgreSQL restart or a partition of
a minute does not spend the five attempts in a second and dead-letter events
that would have applied a moment later (found by the fault test).
"""
from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import amqp.exceptions
import eventlet
import kombu
import kombu.exceptions
from nameko.events import EventHandler

from shared import metrics
from shared.errors import Unavailable
from shared.queues import QueueCheck, declare_on_fresh_channel, queue_arguments, with_queue_type

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-ccrm-attempts"
TRANSIENT_HEADER = "x-ccrm-transient"
DEAD_LETTER_QUEUE = "ccrm.dead-letter"
MAX_ATTEMPTS = 5
# Transient failures: retried after 1, 2, 4 ... up to 10 s; about 15 minutes
# of them before the message counts them as ordinary attempts.
MAX_TRANSIENT = 100
TRANSIENT_MAX_DELAY = 10.0

# What nameko hands a handler's caller when it raised (sys.exc_info()).
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class ReliableEventHandler(EventHandler):
    max_attempts = MAX_ATTEMPTS
    queue_check = QueueCheck()
    queue: kombu.Queue

    def setup(self) -> None:
        super().setup()
        # QUEUE_TYPE (shared.queues); a retry republishes by name, any type.
        self.queue = with_queue_type(self.queue, self.container.config)
        self.queue_check.declare(self.queue)
        self.queue_check.declare(dead_letter_queue(self.container.config))

    def handle_message_processed(self, message: kombu.Message, result: Any = None,
                                 exc_info: ExcInfo | None = None) -> None:
        if exc_info is not None:
            try:
                self._retry_or_dead_letter(message, exc_info)
            except Exception:  # noqa: BLE001 - broker trouble: let the broker redeliver
                log.exception("could not republish failed message; requeueing it")
                settle(self.queue_consumer, message, requeue=True)
                return
        settle(self.queue_consumer, message)

    def _retry_or_dead_letter(self, message: kombu.Message, exc_info: ExcInfo) -> None:
        transient = int((message.headers or {}).get(TRANSIENT_HEADER, 0))
        if isinstance(exc_info[1], Unavailable) and transient < MAX_TRANSIENT:
            delay = transient_delay(transient)
            log.warning("handler %s: %s (transient %s); retrying in %.0fs", self.method_name,
                        exc_info[1], transient + 1, delay)
            eventlet.sleep(delay)
            self._republish(message, dict(message.headers or {},
                                          **{TRANSIENT_HEADER: transient + 1}))
            return
        attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 0)) + 1
        headers = dict(message.headers or {}, **{ATTEMPTS_HEADER: attempts})
        if attempts < self.max_attempts:
            log.warning("handler %s failed (attempt %s): %s", self.method_name, attempts,
                        exc_info[1])
            self._republish(message, headers)
            return
        self._dead_letter(message, exc_info, headers, attempts)

    def _republish(self, message: kombu.Message, headers: dict[str, Any]) -> None:
        with kombu.Connection(self.container.config["AMQP_URI"], connect_timeout=5,
                              transport_options={"confirm_publish": True}) as conn:
            conn.Producer().publish(message.body, exchange="", routing_key=self.queue.name,
                                    headers=headers, delivery_mode=2,
                                    content_type=message.content_type,
                                    content_encoding=message.content_encoding, timeout=5,
                                    confirm_timeout=5)

    def _dead_letter(self, message: kombu.Message, exc_info: ExcInfo, headers: dict[str, Any],
                     attempts: int) -> None:
        config = self.container.config
        with kombu.Connection(config["AMQP_URI"], connect_timeout=5,
                              transport_options={"confirm_publish": True}) as conn:
            producer = conn.Producer(declare_on_fresh_channel(conn, dead_letter_queue(config)))
            log.error("handler %s failed %s times; dead-lettered", self.method_name, attempts)
            producer.publish(json.dumps({
                "queue": self.queue.name, "service": self.container.service_name,
                "handler": self.method_name, "attempts": attempts,
                "error": "".join(traceback.format_exception_only(*exc_info[:2])).strip(),
                "traceback": "".join(traceback.format_exception(*exc_info)),
                "body": _decoded(message)}, ensure_ascii=False),
                exchange="", routing_key=DEAD_LETTER_QUEUE, headers=headers,
                delivery_mode=2, content_type="application/json", timeout=5, confirm_timeout=5)
            metrics.events_dead_lettered.labels(self.container.service_name,
                                                self.method_name).inc()


def transient_delay(transient: int) -> float:
    """Seconds before the retry of a message that failed transiently `transient` times."""
    return float(min(2 ** transient, TRANSIENT_MAX_DELAY))


# What acknowledging on a connection the broker has dropped raises.
CONNECTION_GONE = (OSError, amqp.exceptions.AMQPError, kombu.exceptions.KombuError)


def settle(queue_consumer: Any, message: kombu.Message, requeue: bool = False) -> None:
    """Ack (or requeue) a message. If its connection died meanwhile (a broker
    restart), the broker has already put the message back for redelivery, and
    the inbox (events) or the request key and state checks (RPC) make the
    second run harmless: log it rather than let nameko kill the container
    (found by the fault test)."""
    try:
        if requeue:
            queue_consumer.requeue_message(message)
        else:
            queue_consumer.ack_message(message)
    except CONNECTION_GONE as exc:
        log.warning("could not %s a message, its connection is gone (%s); the broker "
                    "redelivers it", "requeue" if requeue else "acknowledge", exc)


def dead_letter_queue(config: Mapping[str, Any]) -> kombu.Queue:
    """`ccrm.dead-letter` as declared under `config` (an operator's reader uses it too)."""
    return kombu.Queue(DEAD_LETTER_QUEUE, durable=True, queue_arguments=queue_arguments(config))


def _decoded(message: kombu.Message) -> Any:
    body = message.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return body


event_handler = ReliableEventHandler.decorator
