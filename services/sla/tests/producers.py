"""Intake's and dispatch's events produced the way they produce them: their
Outbox writes the envelope into `<producer>.outbox` (validated by the
producer's registered schema), then `relay_once` publishes it to
`<producer>.events` on the test broker."""
import json
import time
import uuid
from datetime import timedelta

from services.sla.tests.helpers import (
    CHAIRMAN,
    CID,
    DEPUTY,
    GM,
    HANDLER,
    LEADERS,
    SPECIALIST,
    at,
    facts,
    holder,
    iso,
)
from shared import roles
from shared.events.envelope import ENVELOPE
from shared.events.registry import UnknownEvent, schema_for
from shared.outbox import EventPublisher, Outbox, relay_once


class Producers:
    def __init__(self, database, amqp_uri):
        self.database = database
        self.outboxes = {name: Outbox(name, name, "GZ") for name in ("intake", "dispatch")}
        self.publisher = EventPublisher(amqp_uri, confirm_timeout=5)

    def publish(self, producer, event_type, data, occurred_at, complaint_id=CID):
        with self.database.transaction() as conn:
            try:
                schema = schema_for(event_type)
            except UnknownEvent:
                event_id = self._raw(conn, producer, event_type, data, complaint_id, occurred_at)
            else:
                # JSON text in, the producer's objects out, as the producer hands them over.
                event_id = self.outboxes[producer].add(
                    conn, event_type, schema.load(data), occurred_at=occurred_at,
                    complaint_id=complaint_id).event_id
        self.relay(producer)
        return event_id

    def intake(self, event_type, data, occurred_at, complaint_id=CID):
        return self.publish("intake", event_type, data, occurred_at, complaint_id)

    def dispatch(self, event_type, data, occurred_at, complaint_id=CID):
        return self.publish("dispatch", event_type, data, occurred_at, complaint_id)

    def relay(self, producer):
        while relay_once(self.database, producer, self.publisher):
            pass

    def republish(self, producer, event_id):
        """The relay crashed before marking the row published: it goes out again."""
        with self.database.transaction() as conn:
            conn.execute(f"UPDATE {producer}.outbox SET published_at = NULL WHERE event_id = %s",
                         (event_id,))
        self.relay(producer)

    def close(self):
        self.publisher.close()

    @staticmethod
    def _raw(conn, producer, event_type, data, complaint_id, occurred_at):
        """Events whose schema is not registered yet (intake's closure loop)."""
        event_id = str(uuid.uuid4())
        body = json.dumps(ENVELOPE.dump({
            "event_id": event_id, "type": event_type, "version": 1, "occurred_at": occurred_at,
            "producer": producer, "region": "GZ", "complaint_id": complaint_id,
            "correlation_id": str(uuid.uuid4()), "data": data}), ensure_ascii=False,
            sort_keys=True, separators=(",", ":"), default=str)
        conn.execute(f"""INSERT INTO {producer}.outbox (event_id, exchange, routing_key, body)
                         VALUES (%s, %s, %s, %s)""",
                     (event_id, f"{producer}.events", event_type, body))
        return event_id


# -- dispatch's data (shared/events/dispatch.py) ------------------------------------------

def case_facts(order_round=1, complaint_id=CID, handler_id=None):
    return {"complaint_id": complaint_id, "project_id": "GZ-P01", "order_round": order_round,
            "category": "maintenance_repair", "department": "property",
            "handler_id": handler_id or HANDLER["person_id"], "major": False}


def routed_data(signed_at, requested, *, routed_at=None, complaint_id=CID, order_round=1):
    person = {k: HANDLER[k] for k in ("person_id", "name", "mobile")}
    return dict(case_facts(order_round, complaint_id), routing_id=str(uuid.uuid4()),
                reason="order_signed", department_name="物业公司", department_overridden=False,
                override_reason=None, company_id="pc-gz", unit_id="pc-gz", unit_name="广州物业公司",
                department_unit_id="pc-gz",
                handler=person, leaders=LEADERS,
                chairman={k: CHAIRMAN[k] for k in ("person_id", "name", "mobile")},
                department_head=person, supervising_leader={
                    k: LEADERS[0][k] for k in ("person_id", "name", "mobile")},
                cooperating_departments=[{"department": "engineering", "department_name": "工程部",
                                          "unit_id": "rc-gz.engineering", "unit_name": "工程部"}],
                escalation_level=None, signed_at=iso(signed_at),
                requested_completion_at=iso(requested), completion_due_at=iso(requested),
                routed_at=iso(routed_at or signed_at + timedelta(seconds=1)),
                directory_version=1)


def visit_data(recorded_at, requested, agreed, *, complaint_id=CID):
    return dict(case_facts(complaint_id=complaint_id), visit_id=str(uuid.uuid4()),
                visited_at=iso(recorded_at), recorded_at=iso(recorded_at),
                recorded_by=HANDLER["person_id"], plan="更换防水层",
                agreed_completion_at=iso(agreed),
                requested_completion_at=iso(requested),
                completion_due_at=iso(min(requested, agreed)), photo_media_ids=[],
                signature_media_id="M-GZ-" + "a" * 32)


# -- intake's side of a signed order --------------------------------------------------------

REQUESTED = at("18:00", day=30)


def publish_signed_order(producers, day=27, contact="10:00", submitted="10:42",
                         reviewed="11:00", signed="11:10", requested=REQUESTED, cid=CID):
    c0, s = at(contact, day), at(submitted, day)
    r, g = at(reviewed, day), at(signed, day)
    spec = holder(SPECIALIST, roles.SPECIALIST, c0, s)
    deputy = holder(DEPUTY, roles.CENTRE_DEPUTY_GM, s, r)
    common = dict(contact_ended_at=c0, requested_completion_at=requested, complaint_id=cid)
    producers.intake("complaint.received", facts(resolved_on_spot=False, signature_media_id=None,
                                                 **common), c0, cid)
    producers.intake("order.submitted", facts("order_submitted", first_submitted_at=s,
                                              resubmitted=False, **common,
                                              holders=[spec, holder(DEPUTY, roles.CENTRE_DEPUTY_GM,
                                                                    s)]), s, cid)
    producers.intake("order.reviewed", facts("order_reviewed", first_submitted_at=s,
                                             reviewed_at=r, **common,
                                             holders=[spec, deputy, holder(GM, roles.CENTRE_GM,
                                                                           r)]), r, cid)
    producers.intake("order.signed", facts("order_signed", first_submitted_at=s, reviewed_at=r,
                                           signed_at=g, department_overridden=False, **common,
                                           holders=[spec, deputy, holder(GM, roles.CENTRE_GM, r,
                                                                         g)]), g, cid)
    return g


# -- waiting for the service -------------------------------------------------------------

def wait_until(predicate, timeout=15.0, what="condition"):
    """Poll an effect of the asynchronous service (never a deadline: the
    deadlines move with the simulation clock)."""
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached in {timeout}s")


def scalar(database, sql, *params):
    with database.connection() as conn:
        row = conn.execute(sql, params).fetchone()
    return next(iter(row.values())) if row else None
