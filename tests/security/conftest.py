"""The security sweep's suite (issue 8): the gateway with intake, dispatch,
media, sla and penalty on the real broker, database and S3 server, the demo
organisation loaded, the simulation clock set, and tokens for the people the
tests act as (security_support.PEOPLE)."""
import pytest
from nameko.constants import WEB_SERVER_CONFIG_KEY
from security_support import DEMO_FILE, PEOPLE, UPLOAD_LIMIT, Suite, eventually

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
from shared.clock import SimulationClock
from shared.outbox import Outbox


@pytest.fixture
def suite(ccrm_config, s3_config, web_config, clean_database, runner_factory):
    # runner_factory last: its containers are killed before the vhost is deleted.
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, SMS={"provider": "record"},
                  MEDIA={"max_bytes": UPLOAD_LIMIT, "signed_url_seconds": 300},
                  **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, GatewayService, IntakeService, DispatchService, MediaService,
                            SlaService, PenaltyService)
    runner.start()
    # after the start, so every consumer's queue exists when directory.loaded goes out
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    issued = issue_tokens(clean_database, list(PEOPLE.values()), NOW)
    by_person = {entry["person_id"]: entry["token"] for entry in issued}
    suite = Suite(f"http://{address}", {key: by_person[p["id"]] for key, p in PEOPLE.items()},
                  clean_database, s3_config, runner)
    eventually(lambda: suite.scalar("SELECT version FROM sla.directory WHERE id = 1"))
    eventually(lambda: suite.scalar("SELECT 1 FROM penalty.directory_state"))
    yield suite
    clear_caches()
