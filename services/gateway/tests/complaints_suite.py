"""The running suite of the complaint-side gateway tests (test_complaints_api,
test_complaint_page_api, test_correlation, test_unknown_routes): gateway,
intake, dispatch and media on the real broker, database and S3 server, and a
token for each of PEOPLE; the simulation clock moved by an admin."""
from datetime import datetime

import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY
from nameko.rpc import RpcProxy

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.routes.complaints import ComplaintRoutes
from services.gateway.routes.dispatch import DispatchRoutes
from services.gateway.service import GatewayService
from services.gateway.tokens import issue_tokens
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.intake.tests.helpers import NOW
from services.media.service import MediaService
from services.media.tests import samples
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.outbox import Outbox

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
PEOPLE = {
    "spec": {"id": "p01-spec-1", "name": "客服专员"},
    "spec2": {"id": "p01-spec-2", "name": "客服专员二"},
    "other_spec": {"id": "p03-spec-1", "name": "他盘专员"},
    "deputy": {"id": "centre-deputy-gm", "name": "副总经理"},
    "gm": {"id": "centre-gm", "name": "总经理"},
    "staff": {"id": "centre-staff-1", "name": "客服人员"},
    "admin": {"id": "admin-1", "name": "管理员"},
    "head": {"id": "pcgz-head", "name": "物业公司一把手"},
    "other_head": {"id": "rcgz-fin-head", "name": "财务部一把手"},
}

# The gateway with the complaint and dispatch routes (until the core has both).
_missing = tuple(m for m in (ComplaintRoutes, DispatchRoutes)
                 if not issubclass(GatewayService, m))
Gateway = type("Gateway", _missing + (GatewayService,), {"intake": RpcProxy("intake")}) \
    if _missing or not hasattr(GatewayService, "intake") else GatewayService


class Api:
    """requests against the running gateway, as one person (or no one)."""

    def __init__(self, base, token=None):
        self.base = base
        self.token = token

    def call(self, method, path, json=None, data=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return requests.request(method, self.base + path, json=json, data=data,
                                headers=headers, timeout=30, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json=json, **kwargs)

    def upload_signature(self, path="/api/media", **fields):
        return self.call("POST", path, data=fields,
                         files={"file": ("签名.png", samples.PNG, "application/octet-stream")})


@pytest.fixture(name="api")
def running_suite(runner_factory, ccrm_config, s3_config, web_config, clean_database):
    """Gateway, intake, dispatch and media running; `api[key]` acts as PEOPLE[key]
    (`api` in the tests: a test module imports `running_suite` to have it)."""
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10,
                  **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, Gateway, IntakeService, DispatchService, MediaService)
    runner.start()
    issued = issue_tokens(clean_database, list(PEOPLE.values()), NOW)
    tokens = {entry["person_id"]: entry["token"] for entry in issued}
    base = f"http://{address}"
    apis = {key: Api(base, tokens[person["id"]]) for key, person in PEOPLE.items()}
    apis["public"] = Api(base)
    yield apis
    clear_caches()


def error(response, status, code=None):
    assert response.status_code == status, response.text
    body = response.json()["error"]
    if code:
        assert body["code"] == code
    return body


def advance(api, duration):
    response = api["admin"].post("/api/admin/clock", {"advance": duration})
    assert response.status_code == 200, response.text
    return datetime.fromisoformat(response.json()["now"])
