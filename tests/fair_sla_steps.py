"""The suite and the steps the fair-rules (issue 13) sla tests share: gateway,
intake, dispatch, media, sla and penalty on the real broker, database and S3
server; an admin moves the simulation clock between the steps."""
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from nameko.constants import WEB_SERVER_CONFIG_KEY

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.service import GatewayService
from services.gateway.tokens import issue_tokens
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.intake.tests.helpers import NOW
from services.media.service import MediaService
from services.penalty.service import PenaltyService
from services.sla.service import SlaService
from services.sla.tests.producers import Producers
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.outbox import Outbox
from shared.testing.polling import eventually
from tests.test_e2e_closure import Api

ZONE = ZoneInfo("Asia/Shanghai")

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
PEOPLE = {"spec": "p01-spec-1", "deputy": "centre-deputy-gm", "gm": "centre-gm",
          "staff": "centre-staff-1", "admin": "admin-1", "head": "pcgz-head",
          "leader": "pcgz-vp-service", "chairman": "pcgz-chairman", "vp": "group-vp"}


@pytest.fixture
# The suite the fair-rules sla tests share (tests/conftest.py offers it to them).
def fair_sla(runner_factory, ccrm_config, s3_config, web_config, clean_database, rabbit_config):
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, SMS={"provider": "record"},
                  DB_POOL_SIZE=3, **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, GatewayService, IntakeService, DispatchService,
                            MediaService, SlaService, PenaltyService)
    runner.start()
    # After the start: sla's queue is bound when directory.loaded leaves.
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    issued = issue_tokens(clean_database, [{"id": pid, "name": key} for key, pid in
                                           PEOPLE.items()], NOW)
    tokens = {entry["person_id"]: entry["token"] for entry in issued}
    with clean_database.connection() as conn:
        eventually(lambda: conn.execute("SELECT version FROM sla.directory").fetchone())
        eventually(lambda: conn.execute("SELECT 1 FROM penalty.directory_state").fetchone())
    producers = Producers(clean_database, rabbit_config["AMQP_URI"])
    yield {key: Api(f"http://{address}", tokens[pid]) for key, pid in PEOPLE.items()}, \
        producers, clean_database
    producers.close()
    clear_caches()


def at(clock, day=27):
    """A Shanghai time on 2026-11-<day>."""
    hour, minute = (int(x) for x in clock.split(":"))
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE)


def set_clock(api, when):
    return datetime.fromisoformat(api["admin"].post("/api/admin/clock",
                                                    {"now": when.isoformat()})["now"])


def notices(api, who, cid, template, count=1):
    """The person's own notifications of a template about the complaint, once
    there are `count` of them (GET /api/notifications)."""
    def found():
        page = api[who].get(f"/api/notifications?complaint_id={cid}&template={template}"
                            f"&person_id={PEOPLE[who]}")
        return page["items"] if page["total"] >= count else None
    return eventually(found)


def sent_to(api, who, template):
    """Every notification of a template sent to the person, once there is one."""
    return eventually(lambda: api["admin"].get(
        f"/api/notifications?template={template}&person_id={PEOPLE[who]}")["items"] or None)


def none_of(api, who, cid, template):
    return api[who].get(f"/api/notifications?complaint_id={cid}&template={template}"
                        f"&person_id={PEOPLE[who]}")["total"]


def deadlines(api, cid, check):
    def found():
        timers = api["gm"].get(f"/api/complaints/{cid}/deadlines")["timers"]
        by_rule = {t["rule"]: t for t in timers}
        return by_rule if check(by_rule) else None
    return eventually(found)


def sign(api, cid, submit, review, signed):
    set_clock(api, submit)
    api["spec"].post(f"/api/complaints/{cid}/order/submit")
    set_clock(api, review)
    api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    set_clock(api, signed)
    api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve", "reason": "同意"})
    eventually(lambda: api["staff"].get(f"/api/complaints/{cid}")["handler_id"])


def outbox(database, routing_key, cid):
    """sla's published events of a type about the complaint (their data)."""
    with database.connection() as conn:
        return [row["data"] for row in conn.execute(
            "SELECT body::json->'data' AS data FROM sla.outbox WHERE routing_key = %s "
            "AND body::json->>'complaint_id' = %s ORDER BY id", (routing_key, cid))]



def ledger(api, cid):
    """Penalty's order_submit lines of the specialist about the complaint (amounts)."""
    page = api["gm"].get(f"/api/deductions?person_id={PEOPLE['spec']}&rule=order_submit"
                         "&limit=1000")
    return sorted(Decimal(line["amount"]) for line in page["items"]
                  if line["complaint_id"] == cid)



def customer_links(api, cid, count):
    def found():
        page = api["admin"].get(f"/api/notifications?complaint_id={cid}&template=signing_link")
        return sorted(page["items"], key=lambda n: n["created_at"]) \
            if page["total"] >= count else None
    return eventually(found)
