"""Example: another system subscribes to CCRM's events (docs/asyncapi.yaml).

    python examples/subscriber.py --broker amqp://USER:PASS@HOST:5672// \\
        --queue crm.ccrm-events intake.events:complaint.* dispatch.events:#

Binds its own durable queue to each `exchange:routing-key` given (default: every
event of intake and dispatch), prints each event once as one JSON line, and acks
after printing; Ctrl-C stops it. Delivery is at least once (a producer may
republish after a crash, the broker redelivers what was not acked), so it drops
duplicates by `event_id`. Here the ids seen are kept in memory; a real system
keeps them in its own database, in the same transaction as what it does with
the event. The queue keeps what arrives while the subscriber is away.
Needs only kombu (`pip install kombu`).
"""
import argparse
import json
import os
import sys
from collections import OrderedDict

from kombu import Connection, Exchange, Queue, binding
from kombu.mixins import ConsumerMixin


class Subscriber(ConsumerMixin):
    """kombu's ConsumerMixin reconnects by itself when the broker goes away."""

    def __init__(self, connection, queue):
        self.connection, self.queue = connection, queue
        self.seen = OrderedDict()          # the last 100 000 event ids, oldest first

    def get_consumers(self, Consumer, channel):
        return [Consumer(queues=[self.queue], callbacks=[self.on_message], accept=["json"],
                         prefetch_count=50)]

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        print(f"listening on {self.queue.name}", file=sys.stderr, flush=True)

    def on_message(self, body, message):
        event = json.loads(body) if isinstance(body, (str, bytes)) else body
        if event["event_id"] in self.seen:
            print(f"duplicate dropped: {event['event_id']}", file=sys.stderr, flush=True)
        else:
            print(json.dumps(event, ensure_ascii=False, sort_keys=True), flush=True)
            self.seen[event["event_id"]] = True
            if len(self.seen) > 100_000:
                self.seen.popitem(last=False)
        message.ack()                      # after printing: a crash before this redelivers it


def main(argv=None):
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("bindings", nargs="*", default=["intake.events:#", "dispatch.events:#"],
                      help="exchange:routing-key, e.g. intake.events:complaint.*")
    args.add_argument("--broker", default=os.environ.get("AMQP_URI",
                                                         "amqp://guest:guest@localhost:5672//"))
    args.add_argument("--queue", default="example.ccrm-events", help="your own queue's name")
    args = args.parse_args(argv)
    queue = Queue(args.queue, durable=True, auto_delete=False, bindings=[
        binding(Exchange(exchange, type="topic", durable=True), routing_key=key or "#")
        for exchange, _, key in (b.partition(":") for b in args.bindings)])
    with Connection(args.broker) as connection:
        try:
            Subscriber(connection, queue).run()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
