"""The engine on the real database, without the broker: events as delivered
envelopes, the firing loop's locking, the daily jobs' slots, bad input."""
import json
import uuid
from datetime import date

import pytest

from services.sla.outbox import BatchOutbox
from services.sla.processing import SlaEngine
from services.sla.rules import Settings
from services.sla.tests.helpers import CID, at, facts

pytestmark = pytest.mark.integration

# The deadlines themselves, not the warnings and hourly notices that follow them.
DEADLINES = "rule NOT IN ('deadline_warning', 'running_fine')"


@pytest.fixture
def engine(clean_database):
    return SlaEngine(clean_database, BatchOutbox("sla", "sla", "GZ"), Settings())


def envelope(event_type, data, occurred_at, complaint_id=CID, producer="intake"):
    """An event as it arrives from the broker (JSON)."""
    return json.loads(json.dumps({
        "event_id": str(uuid.uuid4()), "type": event_type, "version": 1,
        "occurred_at": occurred_at.isoformat(), "producer": producer, "region": "GZ",
        "complaint_id": complaint_id, "correlation_id": str(uuid.uuid4()), "data": data}))


def rows(database, sql, *params):
    with database.connection() as conn:
        return conn.execute(sql, params).fetchall()


def received(at_=None):
    return envelope("complaint.received", json.loads(json.dumps(
        facts(resolved_on_spot=False, signature_media_id=None))), at_ or at("10:00"))


def test_each_event_is_applied_once(engine, clean_database):
    event = received()
    assert engine.handle(event, "sla.test", at("10:01")) == "applied"
    assert engine.handle(event, "sla.test", at("10:01")) == "duplicate"
    assert len(rows(clean_database, f"SELECT * FROM sla.timers WHERE {DEADLINES}")) == 1
    assert engine.handle(envelope("complaint.signature_requested", {}, at("10:00"))
                         | {"type": "unheard.of"}, "sla.test", at("10:01")) == "ignored"


def test_invalid_data_is_recorded_not_retried_for_ever(engine, clean_database):
    bad = envelope("complaint.routed", {"handler": "nobody", "signed_at": "yesterday"},
                   at("10:00"), producer="dispatch")
    assert engine.handle(bad, "sla.test", at("10:01")) == "invalid"
    [error] = rows(clean_database, "SELECT * FROM sla.event_errors")
    assert error["kind"] == "invalid" and error["state"] == "recorded"
    assert error["body"]["data"]["handler"] == "nobody"
    assert engine.handle({"type": "x"}, "sla.test", at("10:01")) == "invalid"


def test_first_event_of_an_unknown_complaint_is_applied_and_reported(engine, clean_database):
    submitted = envelope("order.submitted", json.loads(json.dumps(facts(
        "order_submitted", first_submitted_at=at("10:20"), resubmitted=False))), at("10:20"))
    assert engine.handle(submitted, "sla.test", at("10:21")) == "applied"
    [error] = rows(clean_database, "SELECT * FROM sla.event_errors")
    assert error["kind"] == "unknown_complaint" and error["state"] == "recorded"
    assert {r["rule"] for r in rows(clean_database, f"SELECT rule FROM sla.timers "
                                                    f"WHERE {DEADLINES}")} == {
        "order_submit", "order_sign"}


def test_a_timer_whose_complaint_is_being_changed_waits_for_the_next_round(
        engine, clean_database, database):
    engine.handle(received(), "sla.test", at("10:00"))
    with database.transaction() as conn:       # an event holds the complaint
        conn.execute("SELECT 1 FROM sla.complaints WHERE id = %s FOR UPDATE", (CID,))
        assert engine.fire_due(at("10:31")) == (2, 0)     # the deadline and its warning
    assert engine.fire_due(at("10:31")) == (2, 2)
    assert engine.fire_due(at("10:31")) == (0, 0)
    [timer] = rows(clean_database, f"SELECT state FROM sla.timers WHERE {DEADLINES}")
    assert timer["state"] == "missed"


def test_a_clock_set_backwards_is_recorded_and_fires_nothing_twice(engine, clean_database):
    engine.handle(received(), "sla.test", at("10:00"))
    engine.check_clock(at("10:31"))
    assert engine.fire_due(at("10:31")) == (2, 2)        # the deadline and its warning
    engine.check_clock(at("10:05"))
    assert engine.fire_due(at("10:40")) == (0, 0)
    # (and missing_data: no directory here, nobody above the specialist to tell)
    assert [r["kind"] for r in rows(clean_database, "SELECT kind FROM sla.event_errors "
                                                    "WHERE kind <> 'missing_data'")] == [
        "clock_backwards"]
    assert len(rows(clean_database, "SELECT * FROM sla.outbox WHERE routing_key = "
                                    "'deadline.missed'")) == 1


def test_first_start_skips_old_slots_and_runs_recent_ones(engine, clean_database):
    ran = engine.run_jobs(at("09:00"))      # 08:30 is 30 min ago; 09:30 was yesterday
    assert ("daily_overdue_summary", date(2026, 11, 27)) in ran
    assert ("daily_reminder", date(2026, 11, 26)) not in ran
    states = {(r["job"], r["slot"]): r["state"]
              for r in rows(clean_database, "SELECT job, slot, state FROM sla.daily_jobs")}
    assert states[("daily_reminder", date(2026, 11, 26))] == "skipped"
    assert engine.run_jobs(at("09:10")) == []


def test_slots_missed_while_down_are_skipped_but_every_month_is_reported(
        engine, clean_database):
    engine.run_jobs(at("00:00", day=1, month=11))
    engine._jobs_done.clear()
    # Down from 11-01 to 01-01 10:00: reminders of the days between are not sent late.
    ran = engine.run_jobs(at("10:00", day=1, month=1, year=2027))
    assert ("daily_reminder", date(2027, 1, 1)) in ran
    months = [r["summary"] for r in rows(
        clean_database, "SELECT summary FROM sla.daily_jobs WHERE job = 'monthly_report' "
                        "AND state = 'done' ORDER BY slot")]
    assert len(months) == 3
    due = [json.loads(r["body"])["data"]["month"] for r in rows(
        clean_database, "SELECT body FROM sla.outbox WHERE routing_key = 'monthly_report.due' "
                        "ORDER BY id")]
    assert due == ["2026-10", "2026-11", "2026-12"]
    skipped = rows(clean_database, "SELECT count(*) AS n FROM sla.daily_jobs WHERE job = "
                                   "'daily_reminder' AND state = 'skipped'")[0]["n"]
    # 10-31 (the first start's baseline) to 12-31: 62 days recorded as skipped.
    assert skipped == (date(2027, 1, 1) - date(2026, 10, 31)).days


def test_the_times_in_events_carry_the_group_offset(engine, clean_database):
    engine.handle(received(), "sla.test", at("10:00"))
    [row] = rows(clean_database, "SELECT body FROM sla.outbox")
    assert json.loads(row["body"])["data"]["due_at"] == "2026-11-27T10:30:00+08:00"


def test_a_message_penalty_requests_twice_is_queued_once_per_person(engine, clean_database):
    request = {"key": "monthly_report:2026-11", "source": "monthly_report",
               "template": "monthly_report", "params": {"month": "2026-11"},
               "recipients": [{"person_id": "hr-1", "name": "人力", "mobile": "13900000009"}],
               "text": "2026年11月扣罚月报已生成，请查收。"}
    for _ in range(2):          # two events, one key (penalty asked again)
        event = envelope("notification.requested", request, at("00:05", day=1, month=12),
                         complaint_id=None, producer="penalty")
        assert engine.handle(event, "sla.test", at("00:05", day=1, month=12)) == "applied"
    [row] = rows(clean_database, "SELECT * FROM sla.notifications")
    assert row["request_key"] == "monthly_report:2026-11" and row["status"] == "pending"
    assert row["text"] == "【恒大售后】2026年11月扣罚月报已生成，请查收。"
