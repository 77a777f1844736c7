"""RabbitMQ's disk alarm blocks publishers: an RPC call then answers a quick
503 that says so, instead of a worker waiting for a confirm that does not
come; the calls right after are refused at once; when the alarm clears, calls
work again. On a RabbitMQ node of the test's own (scripts.fault_servers), not
the machine's shared broker, whose limits are not ours to change."""
import os
import time
from pathlib import Path

import pytest
from nameko.testing.services import entrypoint_hook

from scripts.fault_servers import OwnRabbit
from shared import rpc as shared_rpc
from shared.errors import Unavailable
from shared.rpc import RpcProxy, call, rpc

pytestmark = pytest.mark.integration


class Callee:
    name = "callee"

    @rpc
    def ping(self):
        return "pong"


class Caller:
    name = "caller"
    callee = RpcProxy("callee")

    @rpc
    def ask(self):
        return call(self.callee, "ping", timeout=15)


@pytest.fixture(scope="module")
def own_rabbit():
    base = Path("/tmp") / f"ccrm-alarm-{os.getpid()}"
    node = OwnRabbit(base, 5692, 15692, 25692, say=lambda _: None, node="ccrmalarm@localhost")
    node.start()
    yield node
    node.stop()
    base.rmdir()


def wait_for_alarm(node, present):
    limit = time.monotonic() + 30
    while ("disk" in node.alarms()) != present:
        assert time.monotonic() < limit, node.alarms()
        time.sleep(0.3)


def test_a_blocked_broker_is_a_quick_503_that_says_why(own_rabbit, container_factory,
                                                       monkeypatch):
    monkeypatch.setattr(shared_rpc.BROKER_ALARM, "refuse_for", 3.0)
    config = {"AMQP_URI": "pyamqp://guest:guest@127.0.0.1:5692/", "PUBLISH_CONFIRM_TIMEOUT": 1}
    containers = [container_factory(cls, config) for cls in (Callee, Caller)]
    for container in containers:
        container.start()
    caller = containers[1]
    with entrypoint_hook(caller, "ask") as ask:
        assert ask() == "pong"

    own_rabbit.raise_disk_alarm()
    try:
        wait_for_alarm(own_rabbit, True)
        began = time.monotonic()
        with entrypoint_hook(caller, "ask") as ask, pytest.raises(Unavailable) as first:
            ask()
        assert time.monotonic() - began < 5            # the confirm wait, not RPC_TIMEOUT
        assert "消息服务器空间不足" in first.value.message and first.value.status == 503
        assert "blocking publishers" in first.value.message
        began = time.monotonic()
        with entrypoint_hook(caller, "ask") as ask, pytest.raises(Unavailable) as second:
            ask()
        assert time.monotonic() - began < 0.5          # refused at once while blocked
        assert "消息服务器空间不足" in second.value.message
    finally:
        own_rabbit.clear_disk_alarm()
    wait_for_alarm(own_rabbit, False)
    time.sleep(3.0)                                    # past refuse_for: ask the broker again
    with entrypoint_hook(caller, "ask") as ask:
        assert ask() == "pong"
    assert shared_rpc.BROKER_ALARM.reason is None
