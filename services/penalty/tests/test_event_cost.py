"""What penalty's consumers cost in statements (issue 17): an intake fact
that only updates the complaint's read model is one autocommit statement
with its inbox row; a deadline's outcome shares the inbox row's statement.
A redelivery still changes nothing."""
import json
import uuid
from datetime import timedelta
from unittest import mock

import pytest

from services.penalty import charging, projection
from services.penalty.context import Penalty
from services.penalty.tests.helpers import BOOK, ZONE, at, missed
from shared.outbox import Outbox
from shared.tests.statements import sent_statements

pytestmark = pytest.mark.integration

CID = "C-GZ-2026-000777"
NOW = at("2026-11-03 12:00")


@pytest.fixture
def ctx(clean_database):
    clock = mock.Mock(zone=ZONE)
    clock.now.return_value = NOW
    return Penalty(clean_database, Outbox("penalty", "penalty", "GZ", ZONE), clock, BOOK)


def envelope(event_type, data, occurred_at, producer):
    return json.loads(json.dumps({
        "event_id": str(uuid.uuid4()), "type": event_type, "version": 1,
        "occurred_at": occurred_at, "producer": producer, "region": "GZ",
        "complaint_id": CID, "correlation_id": str(uuid.uuid4()), "data": data},
        default=lambda v: v.isoformat()))


def facts(order_round=1, **extra):
    return {"complaint_id": CID, "project_id": "GZ-P01", "region_company_id": "rc-gz",
            "property_company_id": "pc-gz", "category": "maintenance_repair",
            "channel": "visit", "room": "3-2-1801", "state": "order_drafted",
            "order_round": order_round, "specialist_id": "p01-spec-1",
            "recorded_at": at("2026-11-03 10:02"), "holders": [], **extra}


def rows(database, sql, *params):
    with database.connection() as conn:
        return conn.execute(sql, params).fetchall()


def test_an_intake_fact_is_one_statement_and_applied_once(ctx, clean_database):
    event = envelope("complaint.received", facts(), at("2026-11-03 10:02"), "intake")
    with sent_statements() as sent:
        projection.consume_intake_facts(ctx, "complaint.received", event, NOW)
    assert len(sent) == 1, sent         # before: BEGIN, inbox row, upsert, COMMIT
    [row] = rows(clean_database, "SELECT order_round, facts_at FROM penalty.complaints")
    assert row["order_round"] == 1
    # the same event again, even carrying other facts, changes nothing
    again = dict(event, data=facts(order_round=5), occurred_at=at("2026-11-03 11:00").isoformat())
    with sent_statements() as sent:
        projection.consume_intake_facts(ctx, "complaint.received", again, NOW)
    assert len(sent) == 1
    assert rows(clean_database, "SELECT order_round, facts_at FROM penalty.complaints") == [row]


def test_a_fact_with_more_to_write_shares_the_inbox_statement(ctx, clean_database):
    event = envelope("complaint.reopened", facts(order_round=2), at("2026-11-03 10:30"),
                     "intake")
    with sent_statements() as sent:
        projection.consume_intake_facts(ctx, "complaint.reopened", event, NOW)
    assert len(sent) == 4, sent         # BEGIN, inbox row + upsert, the reopening, COMMIT
    projection.consume_intake_facts(ctx, "complaint.reopened", event, NOW)
    assert len(rows(clean_database, "SELECT * FROM penalty.reopens")) == 1
    assert rows(clean_database, "SELECT order_round FROM penalty.complaints") == [
        {"order_round": 2}]


def test_a_deadline_outcome_shares_the_inbox_statement_and_charges_once(ctx, clean_database):
    data = missed("visit", at("2026-11-03 10:30"), 3600, timer=str(uuid.uuid4()))
    data["article"] = "16"
    event = envelope("deadline.missed", data, at("2026-11-03 11:30"), "sla")
    with sent_statements() as sent:
        charging.consume_deadline(ctx, "deadline.missed", event, NOW)
    assert not [s for s in sent if s.startswith("INSERT INTO penalty.deadline_outcomes")]
    assert [s for s in sent if "inbox_first" in s and "deadline_outcomes" in s]
    lines = rows(clean_database, "SELECT id, amount FROM penalty.deductions")
    [outcome] = rows(clean_database, "SELECT outcome FROM penalty.deadline_outcomes")
    assert lines and outcome["outcome"] == "missed"
    charging.consume_deadline(ctx, "deadline.missed", event, NOW + timedelta(hours=1))
    assert rows(clean_database, "SELECT id, amount FROM penalty.deductions") == lines
