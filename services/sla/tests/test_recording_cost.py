"""What a recorded phone complaint costs sla (issue 17, fourth part): its two
events (complaint.received, complaint.signature_requested) and the sending
of the signing link's SMS. Each test pins a saving and fails on the code
before it: a consumer schema built per event, two statements per SMS sent,
the SMS queued by a statement of its own, arrays dumped as text."""
import json
from datetime import timedelta

import pytest
from marshmallow import Schema
from psycopg.types import array

from services.sla import decision_store
from services.sla.decision import armed_data
from services.sla.incoming import INCOMING, load_incoming
from services.sla.model import Message, Outcome, Timer
from services.sla.outbox import BatchOutbox
from services.sla.processing import SlaEngine
from services.sla.rules import Settings
from services.sla.sms import RecordingSmsGateway, SendResult, SmsGateway
from services.sla.tests.helpers import CID, at, facts
from services.sla.tests.test_engine import envelope, rows
from shared.tests.statements import sent_statements


@pytest.fixture
def engine(clean_database):
    return SlaEngine(clean_database, BatchOutbox("sla", "sla", "GZ"), Settings())


def received(complaint_id=CID):
    return envelope("complaint.received", json.loads(json.dumps(
        facts(complaint_id=complaint_id, resolved_on_spot=False, signature_media_id=None))),
        at("10:00"), complaint_id=complaint_id)


def signature_requested(complaint_id=CID):
    data = facts(complaint_id=complaint_id, signature_status="pending",
                 link_path='/sign/t"ok\\en', expires_at=at("10:00", day=28).isoformat(),
                 customer_phone="13800138000", customer_name="压测 \"客户\"",
                 step="record_signature")
    return envelope("complaint.signature_requested", json.loads(json.dumps(data)),
                    at("10:00"), complaint_id=complaint_id)


def test_an_event_is_loaded_without_building_a_schema(monkeypatch):
    made = []
    init = Schema.__init__

    def counted(self, *args, **kwargs):
        made.append(type(self).__name__)
        init(self, *args, **kwargs)

    monkeypatch.setattr(Schema, "__init__", counted)
    data = json.loads(json.dumps(facts(resolved_on_spot=False)))
    for _ in range(3):
        assert load_incoming("complaint.received", data)["complaint_id"] == CID
    assert made == []
    assert set(INCOMING) >= {"complaint.received", "complaint.signature_requested"}


@pytest.mark.integration
def test_the_signing_link_is_queued_in_the_write_statement(engine, clean_database):
    assert engine.handle(received(), "sla.test", at("10:01")) == "applied"
    with sent_statements() as sent:
        assert engine.handle(signature_requested(), "sla.test", at("10:02")) == "applied"
    # BEGIN, inbox + lock + version, complaint, timers + parked, complaint
    # upsert, the write (the SMS queued in it), COMMIT (before: an
    # executemany of its own beside it)
    assert len(sent) == 7, [s[:60] for s in sent]
    assert not [s for s in sent if s.startswith("INSERT INTO sla.notifications")]
    [sms] = rows(clean_database, "SELECT template, mobile, status, attempts, text, "
                                 "next_attempt_at, created_at FROM sla.notifications")
    assert (sms["template"], sms["mobile"], sms["status"], sms["attempts"]) == (
        "signing_link", "13800138000", "pending", 0)
    assert '/sign/t"ok\\en' in sms["text"]
    assert sms["next_attempt_at"] == sms["created_at"] == at("10:02")


@pytest.mark.integration
def test_arrays_go_in_binary_not_quoted_and_escaped(engine, clean_database, monkeypatch):
    """psycopg's text arrays escape every `"` of a JSON body by a regex
    substitution: the outbox bodies, timer details and SMS params go in
    binary, and come out as they were."""
    dumped = []
    text_dump = array.ListDumper.dump
    monkeypatch.setattr(array.ListDumper, "dump",
                        lambda self, obj: dumped.append(obj) or text_dump(self, obj))
    assert engine.handle(received(), "sla.test", at("10:01")) == "applied"
    assert engine.handle(signature_requested(), "sla.test", at("10:02")) == "applied"
    assert engine.send_notifications(RecordingSmsGateway(), at("10:03")) == (1, 0)
    # (psycopg dumps a list of only NULLs as text, whatever asked: no element to quote)
    assert [obj for obj in dumped if any(item is not None for item in obj)] == []
    bodies = [json.loads(r["body"]) for r in rows(
        clean_database, "SELECT body FROM sla.outbox ORDER BY id")]
    assert [b["type"] for b in bodies] == ["deadline.armed", "notification.sent"]
    [sms] = rows(clean_database, "SELECT params, recipient_name FROM sla.notifications")
    assert sms["params"]["link"].endswith('/sign/t"ok\\en')
    assert sms["recipient_name"] == '压测 "客户"'
    assert all(isinstance(t["details"], dict)
               for t in rows(clean_database, "SELECT details FROM sla.timers"))


class Alternating(SmsGateway):
    """Fails every other message (an odd one permanently)."""
    name = "alternating"

    def __init__(self):
        self.n = 0

    def send(self, message):
        self.n += 1
        if self.n % 2:
            return SendResult(True, f"ok-{self.n}")
        return SendResult(False, error=f"down {self.n}", permanent=self.n % 4 == 0)


def queue(engine, database, count, now):
    messages = [Message(f"p-{n}", f"人{n}", None if n == 0 else f"1380000{n:04d}", "escalation",
                        {"n": n}, f"【恒大售后】测试 {n}", f"C-{n}", "visit")
                for n in range(count)]
    with database.transaction() as conn:
        engine.store(conn, Outcome(messages=messages), now)


@pytest.mark.integration
def test_a_sending_round_writes_its_results_in_one_statement(engine, clean_database):
    now = at("10:00")
    queue(engine, clean_database, 9, now)
    with sent_statements() as sent:
        assert engine.send_notifications(Alternating(), now, limit=20) == (4, 5)
    # BEGIN, the claim, the results with their events, COMMIT (before: two
    # statements per message: its UPDATE and its outbox INSERT)
    assert len(sent) == 4, [s[:60] for s in sent]
    got = {r["recipient_person_id"]: r for r in rows(
        clean_database, "SELECT * FROM sla.notifications")}
    assert (got["p-0"]["status"], got["p-0"]["next_attempt_at"]) == ("failed", None)
    assert "无手机号" in got["p-0"]["error"]
    sent_rows = [r for r in got.values() if r["status"] == "sent"]
    assert len(sent_rows) == 4 and all(
        r["sent_at"] == now and r["error"] is None and r["provider_id"].startswith("ok-")
        and r["next_attempt_at"] is None for r in sent_rows)
    failed = [r for r in got.values() if r["status"] == "failed" and r["mobile"]]
    assert sorted(r["next_attempt_at"] is None for r in failed) == [False, False, True, True]
    assert all(r["next_attempt_at"] in (None, now + timedelta(seconds=30)) and
               r["provider_id"] is None and r["sent_at"] is None and r["error"].startswith("down")
               for r in failed)
    assert all(r["attempts"] == 1 and r["last_attempt_at"] == now and
               r["provider"] == "alternating" for r in got.values())
    events = [(r["routing_key"], json.loads(r["body"])["data"]) for r in rows(
        clean_database, "SELECT routing_key, body FROM sla.outbox ORDER BY id")]
    assert [e[0] for e in events].count("notification.sent") == 4
    assert [e[0] for e in events].count("notification.failed") == 5
    # in the order the messages were claimed and sent
    claimed = [r["id"] for r in rows(clean_database, "SELECT id::text FROM sla.notifications "
                                                     "ORDER BY next_attempt_at, created_at")]
    assert sorted(e[1]["notification_id"] for e in events) == sorted(claimed)


def test_the_largest_write_stays_a_cached_statement():
    """psycopg parses a statement afresh when it is over 4096 bytes or 50
    parameters: the write with every part must stay under both."""
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS

    class Recorder:
        def execute(self, query, params):
            self.query, self.params = query, params

    timer = Timer("00000000-0000-0000-0000-000000000001", "k", "visit", "16", at("12:00"),
                  at("10:00"), complaint_id=CID)
    conn = Recorder()
    armed = ("deadline.armed", armed_data(timer), at("10:00"), CID, timer.id)
    decision_store.write(conn, BatchOutbox("sla", "sla", "GZ"), None, [timer], [armed],
                         [timer], [Message("p", "n", "1", "t", {}, "x")], at("10:00"))
    assert all(part in conn.query for part in ("armed AS", "updated AS", "queued AS",
                                                "events AS"))
    assert len(conn.query.encode()) <= MAX_CACHED_STATEMENT_LENGTH
    assert len(conn.params) <= MAX_CACHED_STATEMENT_PARAMS
