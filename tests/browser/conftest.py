"""Fixtures of the browser tests: the whole suite (gateway with the web
console, intake, dispatch, media, sla, penalty) on the real broker, database
and S3 server, started with nameko's runner_factory, and Debian's Chromium
driven by Playwright (the session's `browser`, shared/testing/chromium.py).
"""

import pytest
import requests
from browser_steps import NOW, SCREENSHOTS, eventually
from nameko.constants import WEB_SERVER_CONFIG_KEY
from nameko.rpc import RpcProxy

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.routes.complaints import ComplaintRoutes
from services.gateway.routes.dispatch import DispatchRoutes
from services.gateway.routes.notifications import NotificationRoutes
from services.gateway.routes.penalty import PenaltyRoutes
from services.gateway.routes.web import WebRoutes
from services.gateway.service import GatewayService
from services.gateway.tokens import issue_tokens
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.media.service import MediaService
from services.penalty.service import PenaltyService
from services.sla.service import SlaService
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.outbox import Outbox

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"

# The demo organisation's people the tests act as.
PEOPLE = {
    "spec": {"id": "p01-spec-1", "name": "李思琪"},
    "deputy": {"id": "centre-deputy-gm", "name": "林静怡"},
    "gm": {"id": "centre-gm", "name": "周明华"},
    "staff": {"id": "centre-staff-1", "name": "陈晓燕"},
    "head": {"id": "pcgz-head", "name": "温嘉欣"},
    "hr": {"id": "hr-1", "name": "刘丽娟"},
    "admin": {"id": "admin-1", "name": "马骏"},
}

# The gateway with every route mixin (until the core's GatewayService has them all).
_MIXINS = (WebRoutes, ComplaintRoutes, DispatchRoutes, NotificationRoutes, PenaltyRoutes)
_missing = tuple(m for m in _MIXINS if not issubclass(GatewayService, m))
_proxies = {name: RpcProxy(name) for name in ("intake", "dispatch", "media", "sla", "penalty")
            if not hasattr(GatewayService, name)}
Gateway = type("Gateway", _missing + (GatewayService,), _proxies) \
    if _missing or _proxies else GatewayService


class Api:
    """requests against the running gateway as one person (set-up and checks
    the pages do not cover)."""

    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, **kwargs):
        return requests.request(method, self.base + path, timeout=30,
                                headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def get(self, path, **params):
        response = self.call("GET", path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path, json=None):
        response = self.call("POST", path, json=json)
        assert response.status_code in (200, 201), response.text
        return response.json()


class Suite:
    def __init__(self, base, tokens, database, clock):
        self.base = base
        self.tokens = tokens
        self.database = database
        self.clock = clock
        self.api = {key: Api(base, token) for key, token in tokens.items()}

    def advance(self, duration):
        return self.api["admin"].post("/api/admin/clock", {"advance": duration})

    def set_clock(self, when):
        return self.api["admin"].post("/api/admin/clock", {"now": when.isoformat()})

    def scalar(self, sql, *args):
        with self.database.connection() as conn:
            row = conn.execute(sql, args).fetchone()
        return None if row is None else next(iter(row.values()))


def start_suite(runner_factory, ccrm_config, s3_config, web_config, clean_database, now):
    clear_caches()
    clock = SimulationClock(clean_database, cache_seconds=0)
    clock.set(now)
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, SMS={"provider": "record"},
                  **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, Gateway, IntakeService, DispatchService, MediaService,
                            SlaService, PenaltyService)
    runner.start()
    # after the start, so every consumer's queue exists when directory.loaded goes out
    load_organisation(clean_database, DEMO_FILE, now=now,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    issued = issue_tokens(clean_database, list(PEOPLE.values()), now)
    by_person = {entry["person_id"]: entry["token"] for entry in issued}
    suite = Suite(f"http://{address}", {key: by_person[p["id"]] for key, p in PEOPLE.items()},
                  clean_database, clock)
    eventually(lambda: suite.scalar("SELECT version FROM sla.directory WHERE id = 1"))
    eventually(lambda: suite.scalar("SELECT 1 FROM penalty.directory_state"))
    return suite


class Browser:
    """One person's browser: a context at a width, with their token in
    sessionStorage (as the sign-in page leaves it), and its page."""

    def __init__(self, browser, base, token=None, width=1280, height=900, mobile=False):
        self.context = browser.new_context(
            base_url=base, viewport={"width": width, "height": height}, locale="zh-CN",
            timezone_id="Asia/Shanghai", is_mobile=mobile, has_touch=mobile,
            device_scale_factor=2 if mobile else 1)
        self.context.set_default_timeout(15000)
        if token:
            self.context.add_init_script(f"sessionStorage.setItem('ccrm.token', '{token}')")
        self.page = self.context.new_page()
        self.errors = []
        # (event handlers only record: a sync call inside one never returns)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text)
                     if msg.type == "error" and "Failed to load resource" not in msg.text
                     else None)

    def goto(self, path):
        """Open a page and wait until it has drawn its content (the pages
        take `aria-busy` off <main> then). Not "networkidle": that wait never
        returns under eventlet."""
        self.page.goto(path)
        self.ready()
        return self.page

    def ready(self):
        self.page.wait_for_selector("main#main:not([aria-busy])", state="attached")

    def scripts(self):
        """{url: (bytes, bytes gzipped)} of every script this page loaded (the
        browser's resource timing names them; a file the cache revalidated has
        no size there, so each is asked for again)."""
        sizes = {}
        for url in self.page.evaluate("""performance.getEntriesByType("resource")
                .map((e) => e.name).filter((n) => new URL(n).pathname.endsWith(".js"))"""):
            plain = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
            packed = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=10, stream=True)
            sizes[url] = (len(plain.content), len(packed.raw.read()))
        return sizes

    def script_bytes(self):
        return sum(decoded for decoded, _ in self.scripts().values())

    def wire_bytes(self):
        """The page's scripts as a phone downloads them (gzip): the budget's measure."""
        return sum(packed for _, packed in self.scripts().values())

    def shot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self):
        self.context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "call":
        item.failed_call = outcome.get_result().failed


@pytest.fixture
def open_browser(browser, request):
    """Browsers for the test; on a failure each one's page is photographed
    (FAILED-<test>-<n>.png) before it closes."""
    opened = []

    def make(base, token=None, **kwargs):
        made = Browser(browser, base, token, **kwargs)
        opened.append(made)
        return made

    yield make
    for n, made in enumerate(opened):
        if getattr(request.node, "failed_call", False):
            try:
                made.shot(f"FAILED-{request.node.name}-{n}")
            except Exception as exc:  # noqa: BLE001 - the picture is a courtesy
                print(f"no screenshot of browser {n}: {exc}")
        made.close()


@pytest.fixture
def suite(runner_factory, ccrm_config, s3_config, web_config, clean_database):
    made = start_suite(runner_factory, ccrm_config, s3_config, web_config, clean_database, NOW)
    yield made
    clear_caches()
