"""RPC between services: nameko's `rpc` entrypoint and `RpcProxy` with the
queue type of the config, and `call()`, the one client-side call (bounded
wait, our errors) that every contract's typed client (shared.contracts) uses.

nameko 2.14 declares `rpc-<service>` with no arguments; here it is declared as
`QUEUE_TYPE` says (shared.queues), so on a cluster it can be a quorum queue that
every instance of the service consumes in turn. A proxy's reply queue is
exclusive to its instance and stays classic; the proxy only refuses a bad
QUEUE_TYPE at start, so a service without RPC entrypoints (the gateway) is
refused as the others are.

A request's publish waits at most `PUBLISH_CONFIRM_TIMEOUT` for the broker's
confirm and is then not retried: a broker that blocks publishers (its disk or
memory alarm) or a connection that stalled must give the caller a 503 it can
retry, not a worker held for ever. The broker's `connection.blocked`
notification is remembered (`BROKER_ALARM`), so the 503 says why, and the
next calls within a few seconds are refused at once instead of each waiting.

A request keeps its publisher confirm (issue 17 weighed dropping it: about
0.1 ms of the caller's ~1 ms of CPU per call). Without it a request to a
service that no queue serves waits the whole timeout instead of nameko's
UnknownService (shared/tests/test_rpc_confirms.py); a blocked broker takes the
request into its socket buffer without a word, so the quick 503 above would
be a 15 s wait; and a publish on a connection the broker already dropped
(after a restart) is lost silently instead of kombu reconnecting and
publishing again. The other per-call costs of a publish were measured and are
small: kombu's Connection object (~14 us) and the producer pool (~17 us) of
~1 ms. The reply listener's ack (one frame and one send per call, ~0.1 ms)
is nameko's reply path, left as it is.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import eventlet
import kombu
import kombu.exceptions
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_RETRY_POLICY,
    DEFAULT_SERIALIZER,
    DEFAULT_TRANSPORT_OPTIONS,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import RemoteError, UnknownService

from shared.consumer import ExcInfo, settle
from shared.errors import Unavailable, from_remote
from shared.queues import QueueCheck, queue_arguments, with_queue_type

log = logging.getLogger(__name__)

# A reply that cannot be published kills the container (nameko's design: the
# request goes back to the queue for another instance). nameko retries the
# publish 3 times in a few seconds; a broker restart takes longer (the fault
# test saw 15 s), so a reply keeps trying, reconnecting, for about a minute.
REPLY_RETRY_POLICY = {"max_retries": 30, "interval_start": 0.5, "interval_step": 0.5,
                      "interval_max": 2.0}
# kombu retries by that policy only when the connection breaks DURING the
# publish; when the broker is already gone, taking the channel gives up after
# the connect timeout with OperationalError, which its ensure() does not retry
# (the fault test saw dispatch die 10 s into a broker restart). So the reply
# also retries itself, within the same minute.
REPLY_PATIENCE_SECONDS = 60.0
REPLY_RETRY_MAX_DELAY = 2.0


# RPC requests and replies are transient (delivery_mode 1), events stay
# persistent (shared.outbox). A request lives for the caller's timeout only: if
# the broker restarts while it waits, its caller has lost the reply queue and
# answers 503 either way, and the retry carries the same request key. Kept
# transient, the broker confirms the request without writing it to disk:
# 0.15 against 0.50 ms of broker CPU per message and three times the rate of a
# persistent one on this machine (docs/benchmarks.md, issue 17). A quorum queue
# (QUEUE_TYPE on a cluster) keeps every message on disk whatever this says.
TRANSIENT = 1


class ReplyPublisher(Publisher):
    delivery_mode = TRANSIENT
    retry_policy = REPLY_RETRY_POLICY
    patience_seconds = REPLY_PATIENCE_SECONDS

    def publish(self, payload: Any, **kwargs: Any) -> None:
        deadline = time.monotonic() + self.patience_seconds
        delay = 0.5
        while True:
            try:
                super().publish(payload, **kwargs)
                return
            except kombu.exceptions.OperationalError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("RPC reply not published (%s); retrying in %.1fs", exc, delay)
                eventlet.sleep(delay)
                delay = min(delay * 2, REPLY_RETRY_MAX_DELAY)


class Responder(nameko_rpc.Responder):
    publisher_cls = ReplyPublisher


class RpcConsumer(nameko_rpc.RpcConsumer):
    queue_check = QueueCheck()
    queue: kombu.Queue | None       # nameko's, None until the first setup()

    def handle_result(self, message: kombu.Message, result: Any,
                      exc_info: ExcInfo | None) -> tuple[Any, ExcInfo | None]:
        """nameko's, with the patient Responder above."""
        config = self.container.config
        responder = Responder(
            config[AMQP_URI_CONFIG_KEY], nameko_rpc.get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        settle(self.queue_consumer, message)
        return result, exc_info

    def setup(self) -> None:
        # nameko builds the queue once per container (this is a shared
        # extension); registering it with the QueueConsumer only records the
        # provider, the queue is read when consuming starts.
        first = self.queue is None
        super().setup()
        if first and self.queue is not None:     # super() has just built it
            self.queue = with_queue_type(self.queue, self.container.config)
            self.queue_check.declare(self.queue)


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = RpcConsumer()


rpc = Rpc.decorator


# -- the client side's publish: bounded, and aware of the broker's alarms ---------------

class BrokerAlarm:
    """The broker's last `connection.blocked` (a resource alarm: disk or
    memory) on this process's request connections, until `unblocked`."""

    refuse_for = 5.0        # seconds a blocked broker is believed without asking again

    def __init__(self) -> None:
        self.reason: str | None = None
        self.seen_at = 0.0

    def blocked(self, reason: str | None = None) -> None:
        log.warning("the message broker blocks publishing: %s", reason)
        self.reason, self.seen_at = reason or "resource alarm", time.monotonic()

    def unblocked(self) -> None:
        if self.reason is not None:
            log.warning("the message broker accepts publishing again")
        self.reason = None

    def refusing(self) -> bool:
        """Recently blocked: refuse now rather than wait for a confirm again."""
        return self.reason is not None and time.monotonic() - self.seen_at < self.refuse_for

    def message(self, service: str) -> str:
        label = SERVICE_NAMES_ZH.get(service, service)
        if self.reason is not None:
            return (f"消息服务器空间不足，暂停接收请求，请稍后再试 (the message broker is "
                    f"blocking publishers: {self.reason}; calling {service})")
        return (f"{label}服务请求未被消息服务器确认，请稍后再试 (the message broker did not "
                f"confirm the request to {service} in time)")


BROKER_ALARM = BrokerAlarm()


def _on_blocked(reason: str | None = None) -> None:
    BROKER_ALARM.blocked(reason)


def _on_unblocked() -> None:
    BROKER_ALARM.unblocked()


class PublishUnconfirmed(Unavailable):
    """The broker did not confirm a request in time (blocked or unreachable)."""


def _no_retry_when_unconfirmed(exc: BaseException, interval: float) -> None:
    """kombu's retry errback: a confirm that timed out is not retried (the
    connection is already dropped); the caller answers 503 instead."""
    if isinstance(exc, TimeoutError):
        BROKER_ALARM.seen_at = time.monotonic()
        raise PublishUnconfirmed(BROKER_ALARM.message("?"))


class BoundedPublisher(Publisher):
    delivery_mode = TRANSIENT
    transport_options = {**DEFAULT_TRANSPORT_OPTIONS, "on_blocked": _on_blocked,
                         "on_unblocked": _on_unblocked}
    retry_policy = {**DEFAULT_RETRY_POLICY, "errback": _no_retry_when_unconfirmed}

    def publish(self, payload: Any, **kwargs: Any) -> None:
        # nameko's publish() writes confirm_publish into the class's dict: a copy each time.
        kwargs.setdefault("transport_options", dict(self.transport_options))
        super().publish(payload, **kwargs)
        BROKER_ALARM.unblocked()        # confirmed: the broker takes requests again


class MethodProxy(nameko_rpc.MethodProxy):
    publisher_cls = BoundedPublisher


class ServiceProxy(nameko_rpc.ServiceProxy):
    def __getattr__(self, name: str) -> MethodProxy:
        return MethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener,
                           **self.options)


class RpcProxy(nameko_rpc.RpcProxy):
    def setup(self) -> None:
        config = self.container.config
        queue_arguments(config)
        self.options.setdefault("confirm_timeout",
                                float(config.get("PUBLISH_CONFIRM_TIMEOUT", 5)))
        super().setup()

    def get_dependency(self, worker_ctx: Any) -> ServiceProxy:
        return ServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                            **self.options)


# -- the client side: one call with a bounded wait and our errors -------------------------

SERVICE_NAMES_ZH = {"intake": "受理", "dispatch": "派单", "sla": "时限", "penalty": "考核",
                    "media": "文件", "gateway": "网关"}


def call(proxy: Any, method: str, *args: Any, timeout: float = 15.0, **kwargs: Any) -> Any:
    """`proxy.method(*args, **kwargs)`, the one way a service calls another.

    nameko 2.14's RpcProxy waits forever (ARCHITECTURE, traps): after `timeout`
    seconds the call is Unavailable. A broker that is down or restarting, or a
    service that is not running, is Unavailable too; a CCRMError raised in the
    callee is raised here as the same class. The correlation id travels in the
    proxy's context data (shared.observability), so the callee logs under it.
    """
    service = getattr(proxy, "service_name", "?")
    label = SERVICE_NAMES_ZH.get(service, service)
    if BROKER_ALARM.refusing():
        raise Unavailable(BROKER_ALARM.message(service))
    try:
        with eventlet.Timeout(timeout):
            return getattr(proxy, method)(*args, **kwargs)
    except PublishUnconfirmed:
        raise Unavailable(BROKER_ALARM.message(service)) from None
    except eventlet.Timeout:
        if BROKER_ALARM.reason is not None:
            raise Unavailable(BROKER_ALARM.message(service)) from None
        raise Unavailable(
            f"{label}服务暂无响应，请稍后再试 ({service} did not answer in {timeout}s)") from None
    except UnknownService:
        raise Unavailable(f"{label}服务未运行 ({service} is not running)") from None
    except RemoteError as exc:
        mapped = from_remote(exc.exc_type, exc.value)
        if mapped is not None:
            raise mapped from None
        raise
    except (kombu.exceptions.OperationalError, ConnectionError) as exc:
        # The broker is down or restarting: the call never left, try again later.
        raise Unavailable(f"{label}服务暂时无法连接，请稍后再试 "
                          f"(message broker unreachable calling {service}: {exc})") from None
