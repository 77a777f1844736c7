"""examples/subscriber.py as another team would run it: a separate process on
the real broker, its own durable queue bound to `intake.events` (every event)
and `dispatch.events` (`complaint.routed` only), while a complaint is recorded
and routed through the running suite (gateway, intake, dispatch, media). It
prints each event once, drops the same envelopes when they arrive again, acks
what it printed, and every event it prints matches docs/asyncapi.yaml."""
import json
import signal
import subprocess
import sys
import threading
import time
import uuid

import jsonschema
import kombu
import pytest
import yaml

from shared.config import REPO_ROOT
from tests.test_e2e_closure import api, record_and_sign  # noqa: F401  (the running suite)

pytestmark = pytest.mark.integration

EXAMPLE = REPO_ROOT / "examples" / "subscriber.py"
QUEUE = "crm.ccrm-events"


class Example:
    """The example running as a subprocess, its output read as it comes."""

    def __init__(self, amqp_uri, *bindings):
        self.proc = subprocess.Popen(
            [sys.executable, str(EXAMPLE), "--broker", amqp_uri, "--queue", QUEUE, *bindings],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lines.extend, args=(stream,), daemon=True).start()

    def printed(self):
        return [json.loads(line) for line in list(self.out)]

    def wait(self, predicate, what, timeout=20.0):
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            if predicate():
                return
            assert self.proc.poll() is None, "".join(self.err)
            time.sleep(0.05)
        raise AssertionError(f"{what} not seen in {timeout}s: {''.join(self.err)}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def publish_again(amqp_uri, envelope):
    """What the outbox relay does (shared/outbox.py), again with the same envelope."""
    with kombu.Connection(amqp_uri) as connection:
        connection.Producer().publish(
            json.dumps(envelope, ensure_ascii=False), routing_key=envelope["type"],
            exchange=kombu.Exchange(f"{envelope['producer']}.events", type="topic",
                                    durable=True),
            delivery_mode=2, content_type="application/json", content_encoding="utf-8",
            message_id=envelope["event_id"])


def check_against_asyncapi(envelope):
    doc = yaml.safe_load((REPO_ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8"))
    name = f"{envelope['type'].replace('.', '_')}_v{envelope['version']}"
    payload = doc["components"]["messages"][name]["payload"]
    jsonschema.Draft7Validator({**payload, "components": doc["components"]}).validate(envelope)


def test_the_example_subscriber_prints_each_event_once(api, rabbit_config,  # noqa: F811
                                                       subscriber_factory):
    amqp_uri = rabbit_config["AMQP_URI"]
    # What the broker routed, seen by plain queues with the same bindings.
    intake = subscriber_factory("intake.events")
    routed = subscriber_factory("dispatch.events", routing_key="complaint.routed")
    example = Example(amqp_uri, "intake.events:#", "dispatch.events:complaint.routed")
    try:
        example.wait(lambda: any(line.startswith("listening on") for line in example.err),
                     "listening")
        cid = record_and_sign(api)
        intake.wait_for(lambda got: len(got) >= 4)
        routed.wait_for(lambda got: len(got) >= 1)
        intake.drain(timeout=0.5)
        expected = intake.received + routed.received
        assert [e["type"] for e in intake.received][:4] == [
            "complaint.received", "order.submitted", "order.reviewed", "order.signed"]
        assert [(e["type"], e["complaint_id"]) for e in routed.received] == [
            ("complaint.routed", cid)]

        # The same envelopes again (a relay republishing after a crash), then
        # one with a new event id: once it is printed, the repeats were handled.
        again = [expected[0], expected[1], expected[0], expected[-1]]
        for envelope in again:
            publish_again(amqp_uri, envelope)
        fresh = dict(expected[0], event_id=str(uuid.uuid4()))
        publish_again(amqp_uri, fresh)
        example.wait(lambda: fresh["event_id"] in "".join(example.out), "the new event")
        time.sleep(0.3)
    finally:
        assert example.stop() == 0, "".join(example.err)

    printed = example.printed()
    ids = [e["event_id"] for e in printed]
    assert len(ids) == len(set(ids)), "an event was printed twice"
    assert ids[-1] == fresh["event_id"]
    assert sorted(ids[:-1]) == sorted(e["event_id"] for e in expected)
    assert [e for e in printed if e["producer"] == "intake"][:-1] == intake.received
    assert [e for e in printed if e["producer"] == "dispatch"] == routed.received
    dropped = [line.split(": ")[1].strip() for line in example.err
               if line.startswith("duplicate dropped")]
    assert dropped == [e["event_id"] for e in again]
    for envelope in printed:
        check_against_asyncapi(envelope)

    with kombu.Connection(amqp_uri) as connection:      # everything printed was acked
        _, waiting, _ = connection.default_channel.queue_declare(QUEUE, passive=True,
                                                                 durable=True)
    assert waiting == 0
