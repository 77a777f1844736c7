"""QUEUE_TYPE: the services' queues as classic or quorum queues (issue 8), on
the real broker, each test in its own vhost, checked through the management API."""
import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import eventlet
import kombu
import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY
from nameko.extensions import DependencyProvider
from nameko.standalone.rpc import ServiceRpcProxy

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.service import GatewayService
from shared.clock import SimulationClock
from shared.config import REPO_ROOT, load_config
from shared.consumer import DEAD_LETTER_QUEUE, MAX_ATTEMPTS, dead_letter_queue, event_handler
from shared.errors import InvalidInput
from shared.outbox import EventPublisher, Outbox
from shared.queues import queue_arguments, queue_type, with_queue_type
from shared.rpc import RpcProxy, rpc

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"


# -- the setting ---------------------------------------------------------------------------------

def test_config_file_defaults_to_classic_and_reads_the_environment(monkeypatch):
    monkeypatch.delenv("CCRM_QUEUE_TYPE", raising=False)
    assert load_config()["QUEUE_TYPE"] == "classic"
    monkeypatch.setenv("CCRM_QUEUE_TYPE", "quorum")
    assert load_config()["QUEUE_TYPE"] == "quorum"


def test_arguments_by_type():
    assert queue_arguments({}) == {}
    assert queue_arguments({"QUEUE_TYPE": "classic"}) == {}
    assert queue_arguments({"QUEUE_TYPE": " Quorum "}) == {"x-queue-type": "quorum"}


@pytest.mark.parametrize("value", ["stream", "quorom", 1, True])
def test_any_other_type_is_refused_by_name(value):
    with pytest.raises(InvalidInput) as refused:
        queue_type({"QUEUE_TYPE": value})
    assert "QUEUE_TYPE" in refused.value.fields
    assert "classic 或 quorum" in refused.value.fields["QUEUE_TYPE"][0]
    assert repr(value) in refused.value.fields["QUEUE_TYPE"][0]


def test_exclusive_and_auto_delete_queues_stay_classic():
    quorum = {"QUEUE_TYPE": "quorum"}
    shared_queue = kombu.Queue("rpc-x", durable=True)
    typed = with_queue_type(shared_queue, quorum)
    assert typed.queue_arguments == {"x-queue-type": "quorum"}
    assert shared_queue.queue_arguments is None          # a copy: the original is untouched
    for private in (kombu.Queue("reply", exclusive=True), kombu.Queue("reply", auto_delete=True)):
        assert with_queue_type(private, quorum) is private


# -- a small service, run as two instances -------------------------------------------------------

class InstanceTag(DependencyProvider):
    """Which container (instance) ran the worker."""

    def setup(self):
        self.tag = uuid.uuid4().hex[:8]

    def get_dependency(self, worker_ctx):
        return self.tag


class Probe:
    name = "queue_probe"
    instance = InstanceTag()
    handled = []

    @rpc
    def whoami(self):
        return self.instance

    @event_handler("probe_source", "thing.happened")
    def on_thing(self, payload):
        Probe.handled.append((self.instance, payload["n"]))
        if payload.get("fail"):
            raise ValueError("bug in the handler")


class ProxyOnly:
    """A service with no RPC entrypoint of its own, as the gateway."""
    name = "proxy_only"
    probe = RpcProxy("queue_probe")


EVENT_QUEUE = "evt-probe_source-thing.happened--queue_probe.on_thing"


def _config(ccrm_config, kind):
    return dict(ccrm_config, QUEUE_TYPE=kind)


def _types(rabbit_manager, vhost):
    return {q["name"]: q["type"] for q in rabbit_manager.get_queues(vhost)}


def _publish(config, events):
    publisher = EventPublisher(config["AMQP_URI"], confirm_timeout=5)
    try:
        for event in events:
            publisher.publish("probe_source.events", "thing.happened", json.dumps(event),
                              uuid.uuid4().hex)
    finally:
        publisher.close()


def _wait(predicate, timeout=15.0):
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"not reached in {timeout}s")


def _drain_dead_letters(config, queue):
    with kombu.Connection(config["AMQP_URI"]) as conn:
        with conn.SimpleQueue(queue) as simple:
            out = []
            while True:
                try:
                    message = simple.get(timeout=0.3)
                except simple.Empty:
                    return out
                out.append(json.loads(message.body))
                message.ack()


def _ready_messages(config, name):
    with kombu.Connection(config["AMQP_URI"]) as conn:
        return conn.default_channel.queue_declare(name, passive=True).message_count


@pytest.fixture
def two_probes(ccrm_config, container_factory):
    def start(kind):
        Probe.handled = []
        config = _config(ccrm_config, kind)
        for _ in range(2):
            container_factory(Probe, config).start()
        return config
    return start


def test_quorum_two_instances_share_the_work_once(two_probes, rabbit_manager, ccrm_config):
    config = two_probes("quorum")
    types = _types(rabbit_manager, ccrm_config["vhost"])
    assert types["rpc-queue_probe"] == types[EVENT_QUEUE] == types[DEAD_LETTER_QUEUE] == "quorum"

    # RPC: both instances consume rpc-queue_probe in turn.
    with ServiceRpcProxy("queue_probe", config, timeout=10) as proxy:
        answered_by = Counter(proxy.whoami() for _ in range(10))
    assert sum(answered_by.values()) == 10 and len(answered_by) == 2

    # Events: each one handled once across the two instances, no inbox needed.
    _publish(config, [{"n": n} for n in range(40)])
    _wait(lambda: len(Probe.handled) >= 40)
    time.sleep(0.5)                                      # time for any second delivery
    assert Counter(n for _, n in Probe.handled) == Counter(range(40))
    assert len({instance for instance, _ in Probe.handled}) == 2
    assert _ready_messages(config, EVENT_QUEUE) == 0


def test_quorum_failing_handler_is_dead_lettered_after_the_attempts(two_probes, rabbit_manager,
                                                                     ccrm_config):
    config = two_probes("quorum")
    _publish(config, [{"n": 7, "fail": True}])
    _wait(lambda: len(Probe.handled) >= MAX_ATTEMPTS)
    _wait(lambda: DEAD_LETTER_QUEUE in _types(rabbit_manager, ccrm_config["vhost"]))
    time.sleep(1.0)                                      # no further redelivery
    assert [n for _, n in Probe.handled] == [7] * MAX_ATTEMPTS
    assert _types(rabbit_manager, ccrm_config["vhost"])[DEAD_LETTER_QUEUE] == "quorum"
    assert _ready_messages(config, EVENT_QUEUE) == 0
    dead = _drain_dead_letters(config, dead_letter_queue(config))
    assert len(dead) == 1
    assert dead[0]["attempts"] == MAX_ATTEMPTS and dead[0]["queue"] == EVENT_QUEUE
    assert "bug in the handler" in dead[0]["error"]
    assert json.loads(dead[0]["body"]) == {"n": 7, "fail": True}


def test_default_queues_stay_classic(two_probes, rabbit_manager, ccrm_config):
    config = two_probes("classic")
    with ServiceRpcProxy("queue_probe", config, timeout=10) as proxy:
        assert proxy.whoami()
    _publish(config, [{"n": 1, "fail": True}])
    _wait(lambda: len(Probe.handled) >= MAX_ATTEMPTS)
    _wait(lambda: DEAD_LETTER_QUEUE in _types(rabbit_manager, ccrm_config["vhost"]))
    types = _types(rabbit_manager, ccrm_config["vhost"])
    assert types["rpc-queue_probe"] == types[EVENT_QUEUE] == types[DEAD_LETTER_QUEUE] == "classic"
    # Declared without arguments, exactly as before QUEUE_TYPE existed.
    queue = rabbit_manager.get_queue(ccrm_config["vhost"], "rpc-queue_probe")
    assert queue["arguments"] == {}
    assert len(_drain_dead_letters(config, dead_letter_queue(config))) == 1


@pytest.mark.parametrize("service", [Probe, ProxyOnly])
def test_bad_queue_type_is_refused_at_start(service, container_factory, rabbit_manager,
                                            ccrm_config):
    container = container_factory(service, _config(ccrm_config, "stream"))
    with pytest.raises(InvalidInput) as refused:
        container.start()
    assert "QUEUE_TYPE" in refused.value.fields
    assert "stream" in refused.value.fields["QUEUE_TYPE"][0]
    assert _types(rabbit_manager, ccrm_config["vhost"]) == {}   # nothing declared


@pytest.mark.parametrize("existing,configured", [("rpc-queue_probe", "quorum"),
                                                 (EVENT_QUEUE, "quorum"),
                                                 (DEAD_LETTER_QUEUE, "quorum")])
def test_a_queue_of_the_other_type_refuses_the_start(existing, configured, container_factory,
                                                      ccrm_config, rabbit_manager):
    """What docs/operations.md tells an operator to expect: delete it first.
    (Left to nameko, the consumer would retry the declaration for ever.)"""
    with kombu.Connection(ccrm_config["AMQP_URI"]) as conn:
        kombu.Queue(existing, durable=True)(conn.default_channel).declare()
    container = container_factory(Probe, _config(ccrm_config, configured))
    with eventlet.Timeout(15):
        with pytest.raises(InvalidInput) as refused:
            container.start()
    problem = refused.value.fields["QUEUE_TYPE"][0]
    assert f"queue {existing} exists" in problem and "docs/operations.md" in problem
    assert "inequivalent arg 'x-queue-type'" in problem
    assert _types(rabbit_manager, ccrm_config["vhost"])[existing] == "classic"


def test_a_quorum_queue_refuses_a_classic_start(container_factory, ccrm_config):
    container_factory(Probe, _config(ccrm_config, "quorum")).start()   # declares them
    container = container_factory(Probe, _config(ccrm_config, "classic"))
    with eventlet.Timeout(15):
        with pytest.raises(InvalidInput) as refused:
            container.start()
    assert "x-queue-type" in refused.value.fields["QUEUE_TYPE"][0]


def test_dead_letters_reach_a_dead_letter_queue_changed_while_running(two_probes, rabbit_manager,
                                                                      ccrm_config):
    """ccrm.dead-letter recreated classic behind the running services' back: the
    failed event still lands there, once, instead of bouncing back to its handler."""
    config = two_probes("quorum")
    with kombu.Connection(ccrm_config["AMQP_URI"]) as conn:
        conn.default_channel.queue_delete(DEAD_LETTER_QUEUE)
        kombu.Queue(DEAD_LETTER_QUEUE, durable=True)(conn.channel()).declare()
    _publish(config, [{"n": 3, "fail": True}])
    _wait(lambda: len(Probe.handled) >= MAX_ATTEMPTS)
    time.sleep(1.0)
    assert len(Probe.handled) == MAX_ATTEMPTS
    assert _types(rabbit_manager, ccrm_config["vhost"])[DEAD_LETTER_QUEUE] == "classic"
    dead = _drain_dead_letters(config, kombu.Queue(DEAD_LETTER_QUEUE, durable=True))
    assert [json.loads(d["body"])["n"] for d in dead] == [3]


# -- the real services ---------------------------------------------------------------------------

def test_gateway_and_two_dispatch_instances_on_quorum_queues(
        runner_factory, container_factory, ccrm_config, web_config, clean_database,
        rabbit_manager):
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(_config(ccrm_config, "quorum"), RPC_TIMEOUT=10,
                  **{WEB_SERVER_CONFIG_KEY: address})
    for _ in range(2):
        container_factory(DispatchService, config).start()
    runner_factory(config, GatewayService).start()

    # The gateway reaches dispatch through its (classic, exclusive) reply queue.
    health = requests.get(f"http://{address}/api/health", timeout=30).json()
    assert health["services"]["dispatch"]["status"] == "ok", health

    queues = {q["name"]: q for q in rabbit_manager.get_queues(ccrm_config["vhost"])}
    assert queues["rpc-dispatch"]["type"] == "quorum"
    handlers = [name for name in queues if name.startswith("evt-") and "--dispatch." in name]
    assert handlers and all(queues[name]["type"] == "quorum" for name in handlers)
    replies = [name for name in queues if name.startswith("rpc.reply-")]
    assert any(name.startswith("rpc.reply-gateway-") for name in replies)
    assert all(queues[name]["type"] == "classic" for name in replies)
