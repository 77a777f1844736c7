"""Every service runs its real code as its own database role (issue 8).

All six services on the real broker, database and S3 server, each connecting
through `DATABASE_URLS` as `ccrm_<service>`; the shared DATABASE_URL names a
role that does not exist, so any path still using it would fail. A complaint
recorded and signed through the gateway is routed by dispatch, timed by sla,
and penalty holds the directory: each role has what its service needs.
"""
from datetime import datetime

import psycopg
import pytest
from nameko.constants import WEB_SERVER_CONFIG_KEY

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.service import GatewayService
from services.gateway.tokens import issue_tokens
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.intake.tests.helpers import NOW, form
from services.media.service import MediaService
from services.penalty.service import PenaltyService
from services.sla.service import SlaService
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.db_roles import SERVICES, database_urls, role_name, service_dsn
from shared.outbox import Outbox
from shared.testing.polling import eventually

pytestmark = pytest.mark.integration

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
PEOPLE = {"spec": "p01-spec-1", "deputy": "centre-deputy-gm", "gm": "centre-gm",
          "staff": "centre-staff-1", "admin": "admin-1"}


class Api:
    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, json=None):
        import requests
        response = requests.request(method, self.base + path, json=json, timeout=30,
                                    headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code in (200, 201), response.text
        return response.json()


@pytest.fixture
def suite(runner_factory, ccrm_config, s3_config, web_config, clean_database, test_dsn):
    # Set-up as `make run` does it: the owner loads the directory and issues tokens.
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, DB_POOL_SIZE=2,
                  SMS={"provider": "record"},
                  DATABASE_URL=service_dsn(test_dsn, "nobody", environ={}),
                  DATABASE_URLS=database_urls(test_dsn, environ={}),
                  **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, GatewayService, IntakeService, DispatchService,
                            MediaService, SlaService, PenaltyService)
    runner.start()
    issued = issue_tokens(clean_database, [{"id": pid, "name": key} for key, pid in
                                           PEOPLE.items()], NOW)
    tokens = {entry["person_id"]: entry["token"] for entry in issued}
    yield {key: Api(f"http://{address}", tokens[pid]) for key, pid in PEOPLE.items()}
    clear_caches()


def connected_roles(test_dsn):
    with psycopg.connect(test_dsn) as conn:
        return {row[0] for row in conn.execute(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database()")}


def test_a_complaint_goes_through_every_service_each_on_its_own_role(suite, clean_database,
                                                                     test_dsn):
    api = suite
    cid = api["spec"].call("POST", "/api/complaints", form())["id"]

    def advance(duration):
        return datetime.fromisoformat(
            api["admin"].call("POST", "/api/admin/clock", {"advance": duration})["now"])

    advance("PT20M")                                  # the gateway role moves the clock
    api["spec"].call("POST", f"/api/complaints/{cid}/order/submit")
    advance("PT20M")
    api["deputy"].call("POST", f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    advance("PT20M")
    api["gm"].call("POST", f"/api/complaints/{cid}/order/sign", {"decision": "approve"})

    # dispatch routed it, and intake learnt who answers for it
    shown = eventually(lambda: (lambda c: c if c["handler_id"] else None)(
        api["staff"].call("GET", f"/api/complaints/{cid}")))
    assert shown["state"] == "order_signed" and shown["timeline"][-1]["action"] == "routed"

    def count(query):
        with clean_database.connection() as conn:
            return conn.execute(query, {"id": cid}).fetchone()["n"]

    eventually(lambda: count("SELECT count(*) AS n FROM dispatch.routings "
                             "WHERE complaint_id = %(id)s"))
    eventually(lambda: count("SELECT count(*) AS n FROM sla.timers WHERE complaint_id = %(id)s"))
    eventually(lambda: count("SELECT count(*) AS n FROM penalty.directory_state"))
    # Every service's connections are its own role's, and only those.
    roles = {role_name(service) for service in SERVICES}
    seen = eventually(lambda: (lambda got: got if roles <= got else None)(
        connected_roles(test_dsn)))
    owner = psycopg.conninfo.conninfo_to_dict(test_dsn)["user"]
    assert seen - roles <= {owner}, seen          # the test's own connections are the owner's
