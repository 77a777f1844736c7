"""sla's `timers.fired_through` (issue 13), the mark penalty closes a month
behind: every timer and daily job due at or before it has fired; published
when it moves, rounded down to a quarter hour, at most every few seconds."""
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.sla import timer_loop
from services.sla.outbox import BatchOutbox
from services.sla.processing import SlaEngine
from services.sla.rules import Settings
from services.sla.tests.test_engine import received

ZONE = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)


def test_the_mark_is_just_before_the_earliest_armed_timer_still_due():
    now = at("2026-12-01 00:30")
    assert timer_loop.fired_through_mark(now, None) == at("2026-12-01 00:30")
    assert timer_loop.fired_through_mark(now, at("2026-12-01 09:00")) == now   # not due yet
    # A timer of 20 Oct 18:00 still armed: everything before it has fired.
    assert timer_loop.fired_through_mark(now, at("2026-10-20 18:00")) == at("2026-10-20 17:45")
    assert timer_loop.fired_through_mark(at("2026-12-01 00:14"), None) == at("2026-12-01 00:00")
    assert timer_loop.fired_through_mark(now, at("2026-12-01 00:00")) == at("2026-11-30 23:45")
    assert timer_loop.fired_through_mark(now, at("2026-12-01 00:00")).tzinfo == ZONE


@pytest.mark.integration
def test_the_engine_publishes_the_mark_when_it_moves_and_not_more_often(clean_database,
                                                                        monkeypatch):
    engine = SlaEngine(clean_database, BatchOutbox("sla", "sla", "GZ"), Settings())
    ticks = iter(range(0, 1000, 3))           # each round 3 s of real time later
    monkeypatch.setattr(timer_loop.time, "monotonic", lambda: float(next(ticks)))

    def marks():
        with clean_database.connection() as conn:
            return [json.loads(r["body"])["data"]["fired_through"] for r in conn.execute(
                "SELECT body FROM sla.outbox WHERE routing_key = 'timers.fired_through' "
                "ORDER BY id")]

    today = datetime(2026, 11, 27, tzinfo=ZONE)
    engine.handle(received(today.replace(hour=10)), "sla.test", today.replace(hour=10))
    engine.run_jobs(today.replace(hour=10, minute=20))    # order_submit due 10:30: not yet
    engine.run_jobs(today.replace(hour=10, minute=25))    # the same quarter hour: nothing
    # 11:00: order_submit (10:30) is due but the firing loop has not reached it.
    engine.run_jobs(today.replace(hour=11))
    assert marks() == ["2026-11-27T10:15:00+08:00"]
    engine.fire_all_due(today.replace(hour=11))
    engine.run_jobs(today.replace(hour=11))
    assert marks() == ["2026-11-27T10:15:00+08:00", "2026-11-27T11:00:00+08:00"]
    # Within FIRED_THROUGH_EVERY_SECONDS of real time: not published, even if moved.
    monkeypatch.setattr(timer_loop.time, "monotonic", lambda: 1e6)
    # The missed order_submit keeps running: its hourly notice (11:30) is due by 12:00,
    # so the loop fires it first, or the mark would stay behind it.
    engine.fire_all_due(today.replace(hour=12))
    engine.publish_fired_through(today.replace(hour=12))
    engine.publish_fired_through(today.replace(hour=13))
    assert marks()[-1] == "2026-11-27T12:00:00+08:00" and len(marks()) == 3
    assert timedelta(seconds=timer_loop.FIRED_THROUGH_EVERY_SECONDS) <= timedelta(seconds=5)


@pytest.mark.integration
def test_a_clock_set_back_moves_the_mark_back(clean_database, monkeypatch):
    """An admin (or the fault test) sets the simulation clock back: sla announces
    the earlier mark and penalty keeps it, so no month counts as fired through
    before sla has really fired it."""
    from services.penalty.repository import closes as close_store
    engine = SlaEngine(clean_database, BatchOutbox("sla", "sla", "GZ"), Settings())
    ticks = iter(range(0, 1000, 3))
    monkeypatch.setattr(timer_loop.time, "monotonic", lambda: float(next(ticks)))
    assert engine.publish_fired_through(at("2026-12-06 16:00")) == at("2026-12-06 16:00")
    assert engine.publish_fired_through(at("2026-11-02 09:00")) == at("2026-11-02 09:00")
    with clean_database.transaction() as conn:
        close_store.record_fired_through(conn, at("2026-12-06 16:00"), at("2026-12-06 16:00"))
        assert close_store.record_fired_through(conn, at("2026-11-02 09:00"),
                                                at("2026-11-02 09:00")) == at("2026-11-02 09:00")
        assert close_store.fired_through(conn) == at("2026-11-02 09:00")
