"""Which type of RabbitMQ queue the services declare (config `QUEUE_TYPE`).

`classic` (the default) declares queues exactly as before, with no arguments,
so queues of an existing deployment stay equivalent. `quorum` adds
`x-queue-type: quorum` to every durable, shared queue (rpc-<service>,
evt-...--<service>.<method>, ccrm.dead-letter): replicated on a RabbitMQ
cluster, consumed by every instance of a service in turn. Exclusive and
auto-delete queues (RPC reply queues) cannot be quorum queues and stay classic.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

import amqp.exceptions
import kombu
import kombu.exceptions
from eventlet.semaphore import Semaphore
from nameko.extensions import SharedExtension

from shared.errors import InvalidInput

log = logging.getLogger(__name__)

CONFIG_KEY = "QUEUE_TYPE"
QUEUE_TYPES = ("classic", "quorum")
DEFAULT_QUEUE_TYPE = "classic"


def queue_type(config: Mapping[str, Any]) -> str:
    """The configured type, or InvalidInput naming the key and the allowed values."""
    value = config.get(CONFIG_KEY)
    if value is None or value == "":
        return DEFAULT_QUEUE_TYPE
    chosen = str(value).strip().lower()
    if chosen not in QUEUE_TYPES:
        raise InvalidInput(
            {CONFIG_KEY: [f"队列类型须为 classic 或 quorum，而不是 {value!r} "
                          f"(must be classic or quorum, not {value!r})"]},
            "队列类型配置有误 (QUEUE_TYPE refused)")
    return chosen


def queue_arguments(config: Mapping[str, Any]) -> dict[str, Any]:
    """Declaration arguments for a durable shared queue: {} for classic."""
    if queue_type(config) == "quorum":
        return {"x-queue-type": "quorum"}
    return {}


def with_queue_type(queue: kombu.Queue, config: Mapping[str, Any]) -> kombu.Queue:
    """A copy of kombu `queue` declared as the configured type; `queue` itself
    when classic or when the queue is exclusive or auto-delete."""
    arguments = queue_arguments(config)
    if not arguments or queue.exclusive or queue.auto_delete:
        return queue
    typed = copy.copy(queue)
    # kombu sets `queue_arguments` from its attrs table: stubs do not list it.
    typed.queue_arguments = dict(  # type: ignore[attr-defined]
        queue.queue_arguments or {}, **arguments)  # type: ignore[attr-defined]
    return typed


def declare_on_fresh_channel(connection: kombu.Connection, queue: kombu.Queue) -> Any:
    """Declare `queue` on a new channel of kombu `connection`; return a usable channel.

    A queue that already exists with the other type (QUEUE_TYPE changed without
    deleting it) refuses the declaration with PRECONDITION_FAILED and closes the
    channel. Messages routed to it by name still arrive, so that is logged and a
    fresh channel returned: a message on its way to the dead-letter queue must
    not be lost, nor bounce back to its handler for ever.
    """
    channel = connection.channel()
    try:
        queue(channel).declare()
    except amqp.exceptions.PreconditionFailed as exc:
        log.error("queue %s exists with other arguments than %s; using it as it is "
                  "(see docs/operations.md): %s", queue.name,
                  queue.queue_arguments, exc)  # type: ignore[attr-defined]
        channel = connection.channel()
    return channel


class QueueCheck(SharedExtension):
    """Declares a container's queues while it sets up, on one connection.

    kombu's consumer retries a refused declaration for ever: a queue left with
    the other type (QUEUE_TYPE changed, the queue not deleted) would leave the
    service hanging at start, logging PRECONDITION_FAILED every second. Declared
    here first, before any consumer starts, it refuses the start instead. An
    unreachable broker is not refused here: nameko's consumer waits for it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._connection: kombu.Connection | None = None
        self._lock = Semaphore()
        self._declared: set[str] = set()

    def declare(self, queue: kombu.Queue) -> None:
        if queue.exclusive or queue.auto_delete:
            return
        with self._lock:
            if queue.name in self._declared:
                return
            try:
                if self._connection is None:
                    self._connection = kombu.Connection(self.container.config["AMQP_URI"],
                                                        connect_timeout=5)
                queue(self._connection.channel()).declare()
            except amqp.exceptions.PreconditionFailed as exc:
                raise InvalidInput(
                    {CONFIG_KEY: [f"队列 {queue.name} 已以另一类型存在，须先删除或迁移 "
                                  f"(queue {queue.name} exists with other arguments; delete or "
                                  f"migrate it first, see docs/operations.md): {exc}"]},
                    "队列类型与现有队列不符 (QUEUE_TYPE does not match an existing queue)") \
                    from None
            except (OSError, kombu.exceptions.OperationalError, amqp.exceptions.AMQPError) as exc:
                log.warning("could not check queue %s before starting: %s", queue.name, exc)
                return
            self._declared.add(queue.name)

    def start(self) -> None:
        self._close()            # every setup() has run: nothing more to declare

    def stop(self) -> None:
        self._close()

    def kill(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.release()
            self._connection = None
