"""One headless Debian Chromium per test session, driven by Playwright
(pytest plugin; the browser tests and the security sweep's rendering test
share it: Playwright's sync API allows one running instance per thread).

Playwright's sync API runs under eventlet's monkey-patching (root conftest):
its calls wait in an asyncio loop on green selectors, so the services' green
threads in the same process keep serving the browser. Only stopping it waits
forever for the driver process's exit status, so it is stopped with a
bounded wait (the driver has exited by then).
"""
from pathlib import Path

import eventlet
import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    with eventlet.Timeout(3, False):
        playwright.stop()
