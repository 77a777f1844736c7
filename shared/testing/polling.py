"""Waiting in tests for what arrives by event: one service's news reaches
another a moment later, so a test polls, with a bound, instead of sleeping."""
import time


def eventually(check, timeout=20.0, interval=0.05):
    """Poll until `check()` is truthy and return it; fail after `timeout` seconds."""
    limit = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < limit, f"not reached in {timeout}s"
        time.sleep(interval)
