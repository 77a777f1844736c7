"""The JSON log formatter: one object per line, with the worker's context."""
import json
import logging

import eventlet

from shared import worker_context
from shared.logs import JsonFormatter

CORRELATION = "6f1c1bb5-3d0e-4c55-9d43-1a2b3c4d5e6f"


def record(message, *args, exc_info=None, **extra):
    made = logging.LogRecord("ccrm.test", logging.WARNING, __file__, 1, message, args, exc_info)
    made.created = 1795746120.123      # 2026-11-27T02:22:00.123Z
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_a_line_inside_a_worker_carries_its_correlation_and_complaint():
    def worker():
        worker_context.begin("intake", CORRELATION, "C-GZ-2026-000123")
        try:
            return JsonFormatter().format(record("受理 %s", "ok"))
        finally:
            worker_context.end()

    line = eventlet.spawn(worker).wait()
    entry = json.loads(line)
    assert entry == {"ts": "2026-11-27T02:22:00.123+00:00", "level": "WARNING",
                     "logger": "ccrm.test", "service": "intake", "message": "受理 ok",
                     "correlation_id": CORRELATION, "complaint_id": "C-GZ-2026-000123"}
    assert "受理" in line     # readable, not \\u-escaped


def test_outside_a_worker_there_is_no_correlation_id():
    entry = json.loads(JsonFormatter().format(record("relay idle")))
    assert entry["correlation_id"] is None and "complaint_id" not in entry


def test_a_worker_context_does_not_leak_into_other_green_threads():
    seen = []

    def worker():
        worker_context.begin("intake", CORRELATION)
        eventlet.sleep(0.01)
        worker_context.end()

    def other():
        eventlet.sleep(0.005)
        seen.append(json.loads(JsonFormatter().format(record("x")))["correlation_id"])

    pool = eventlet.GreenPool()
    pool.spawn(worker)
    pool.spawn(other)
    pool.waitall()
    assert seen == [None]


def test_a_traceback_and_extra_fields_stay_on_one_line():
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        import sys
        made = record("failed", exc_info=sys.exc_info(), event="hub_blocked", blocked_seconds=1.5)
    line = JsonFormatter().format(made)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["event"] == "hub_blocked" and entry["blocked_seconds"] == 1.5
    assert entry["exc"].startswith("Traceback") and "ValueError: boom" in entry["exc"]
