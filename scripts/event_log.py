"""A subscriber like another group system's: one durable queue bound to every
service's events exchange, every message kept in memory, acknowledged after.

It reconnects when the broker restarts; its queue is durable and the
messages persistent, so nothing published while it was away is lost.
Redeliveries (the broker's `redelivered` flag, or an event id seen before)
are counted, not hidden.
"""
import json
import threading
import time

import kombu


class EventLog(threading.Thread):
    def __init__(self, amqp_uri, exchanges, queue_name, say=print):
        super().__init__(name="event-log", daemon=True)
        self.amqp_uri, self.exchanges, self.queue_name = amqp_uri, exchanges, queue_name
        self.say = say
        self.events = {}              # event_id -> envelope (the first delivery)
        self.deliveries = 0
        self.redelivered = 0          # flagged by the broker
        self.repeated = 0             # an event id already seen
        self.reconnects = 0
        self.last_at = time.monotonic()
        self.ready = threading.Event()
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def queue(self):
        bindings = [kombu.binding(kombu.Exchange(name, "topic", durable=True), routing_key="#")
                    for name in self.exchanges]
        return kombu.Queue(self.queue_name, bindings=bindings, durable=True, auto_delete=False)

    def _on_message(self, body, message):
        envelope = json.loads(body) if isinstance(body, (str, bytes)) else body
        with self._lock:
            self.deliveries += 1
            if message.delivery_info.get("redelivered"):
                self.redelivered += 1
            if envelope["event_id"] in self.events:
                self.repeated += 1
            else:
                self.events[envelope["event_id"]] = envelope
            self.last_at = time.monotonic()
        message.ack()

    def run(self):
        while not self._halt.is_set():
            try:
                with kombu.Connection(self.amqp_uri, heartbeat=10, connect_timeout=5) as conn:
                    with conn.Consumer(self.queue(), callbacks=[self._on_message],
                                       accept=["json"], prefetch_count=200):
                        self.ready.set()
                        while not self._halt.is_set():
                            try:
                                conn.drain_events(timeout=1.0)
                            except TimeoutError:
                                conn.heartbeat_check()
            except Exception as exc:  # noqa: BLE001 - the broker went away: come back
                if self._halt.is_set():
                    return
                self.reconnects += 1
                self.say(f"event log: connection lost ({type(exc).__name__}); reconnecting")
                time.sleep(1.0)

    def quiet_for(self):
        with self._lock:
            return time.monotonic() - self.last_at

    def snapshot(self):
        with self._lock:
            return dict(self.events)

    def stop(self):
        self._halt.set()
        self.join(10)
