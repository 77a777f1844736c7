"""The hub watch: a green thread that blocks the hub is reported with its
stack; green sleeping and busy-but-cooperative code are not."""
import logging

import eventlet
import pytest
from eventlet import patcher

from shared import metrics
from shared.hub_watch import EVENT, HubWatch

_original_time = patcher.original("time")


@pytest.fixture
def watch(caplog):
    caplog.set_level(logging.ERROR, logger="shared.hub_watch")
    started = HubWatch("hub_test", limit=1.0)
    started.start()
    eventlet.sleep(0.3)          # a few ticks before the test's work
    yield started
    started.stop()


def blocked_records(caplog):
    return [r for r in caplog.records if getattr(r, "event", None) == EVENT]


def _block_the_hub_for(seconds):
    _original_time.sleep(seconds)     # the unpatched sleep: nothing else runs meanwhile


def test_a_green_thread_blocking_the_hub_is_reported_with_its_stack(watch, caplog):
    before = metrics.hub_blocked.labels("hub_test")._value.get()
    eventlet.spawn(_block_the_hub_for, 1.5).wait()
    eventlet.sleep(0.5)               # the heartbeat runs again and reports
    records = blocked_records(caplog)
    assert len(records) == 1
    record = records[0]
    assert record.levelname == "ERROR"
    assert 1.3 < record.blocked_seconds < 2.5
    assert "_block_the_hub_for" in record.stack
    assert metrics.hub_blocked.labels("hub_test")._value.get() == before + 1
    assert watch.reports == 1


def test_green_sleeps_and_cooperative_work_are_not_reported(watch, caplog):
    def cooperative():
        for _ in range(30):
            _original_time.sleep(0.05)   # short blocking bits that yield in between
            eventlet.sleep(0)

    pool = eventlet.GreenPool()
    pool.spawn(eventlet.sleep, 1.5)
    pool.spawn(cooperative)
    pool.waitall()
    eventlet.sleep(0.3)
    assert blocked_records(caplog) == []
    assert watch.reports == 0


def test_a_block_under_the_limit_is_not_reported(watch, caplog):
    eventlet.spawn(_block_the_hub_for, 0.6).wait()
    eventlet.sleep(0.3)
    assert blocked_records(caplog) == []


def test_stopping_is_not_taken_for_a_block(caplog):
    caplog.set_level(logging.ERROR, logger="shared.hub_watch")
    watch = HubWatch("hub_test", limit=0.3)
    watch.start()
    eventlet.sleep(0.2)
    watch.stop()
    _original_time.sleep(0.6)     # no heartbeat any more; the watcher must not report
    eventlet.sleep(0.2)
    assert blocked_records(caplog) == [] and watch.reports == 0
