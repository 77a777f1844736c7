"""Helpers of the dispatch integration tests: intake's events produced the way
intake produces them (its Outbox into intake.outbox, then relay_once), media
uploads, and waiting for an asynchronous effect without sleeping on deadlines."""
import base64
import json
import time
import uuid

from services.media.tests import samples
from shared.events.envelope import ENVELOPE
from shared.events.registry import UnknownEvent, schema_for
from shared.outbox import EventPublisher, Outbox, relay_once


class IntakeEvents:
    """Publishes intake events on the test broker as intake's outbox would."""

    def __init__(self, database, amqp_uri):
        self.database = database
        self.outbox = Outbox("intake", "intake", "GZ")
        self.publisher = EventPublisher(amqp_uri, confirm_timeout=5)

    def publish(self, event_type, data, complaint_id, occurred_at):
        with self.database.transaction() as conn:
            try:
                schema = schema_for(event_type)
            except UnknownEvent:
                # The closure loop's schemas are intake's next issue: until
                # they are registered, write the envelope the Outbox would.
                event_id = self._raw(conn, event_type, data, complaint_id, occurred_at)
            else:
                # JSON text in, the producer's objects out: as intake hands them over.
                event_id = self.outbox.add(conn, event_type, schema.load(data),
                                           occurred_at=occurred_at,
                                           complaint_id=complaint_id).event_id
        self.relay()
        return event_id

    def relay(self):
        while relay_once(self.database, "intake", self.publisher):
            pass

    def republish(self, event_id):
        """A crash before the relay marked the row published: it goes out again."""
        with self.database.transaction() as conn:
            conn.execute("UPDATE intake.outbox SET published_at = NULL WHERE event_id = %s",
                         (event_id,))
        self.relay()

    @staticmethod
    def _raw(conn, event_type, data, complaint_id, occurred_at):
        event_id = str(uuid.uuid4())
        body = json.dumps(ENVELOPE.dump({
            "event_id": event_id, "type": event_type, "version": 1, "occurred_at": occurred_at,
            "producer": "intake", "region": "GZ", "complaint_id": complaint_id,
            "correlation_id": str(uuid.uuid4()), "data": data}), ensure_ascii=False,
            sort_keys=True, separators=(",", ":"), default=str)
        conn.execute("""INSERT INTO intake.outbox (event_id, exchange, routing_key, body)
                        VALUES (%s, 'intake.events', %s, %s)""", (event_id, event_type, body))
        return event_id

    def close(self):
        self.publisher.close()


def until(probe, timeout=10.0, what="the effect"):
    """Poll `probe` until it returns something truthy (message delivery is
    asynchronous; no business deadline is waited for here)."""
    limit = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > limit:
            raise AssertionError(f"{what} not seen within {timeout}s")
        time.sleep(0.05)


def upload(media_proxy, kind, complaint_id=None, uploaded_by="rcgz-mkt-head", stage=None):
    stage = stage or ("before" if kind == "photo" else None)
    content = samples.PDF if kind in ("minutes", "report", "material") else samples.PNG
    name = "file.pdf" if content is samples.PDF else "file.png"
    return media_proxy.upload(base64.b64encode(content).decode(), name, kind, stage=stage,
                              complaint_id=complaint_id, uploaded_by=uploaded_by)["id"]


def actor(person_id, *roles):
    return {"person_id": person_id, "name": person_id, "roles": list(roles), "project_ids": [],
            "unit_id": None, "kind": "person"}
