"""Fixtures of the intake tests: the real dispatch (demo directory), media
(on the S3 test server) and intake services on the test broker and database."""
import base64

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.intake.tests.helpers import NOW
from services.media.service import MediaService
from services.media.tests import samples
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.outbox import Outbox

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"


@pytest.fixture(autouse=True)
def fresh_directory_cache():
    """Directory answers are cached per process; each test starts without them."""
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def suite_config(ccrm_config, s3_config):
    return dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10)


@pytest.fixture
def demo_directory(clean_database):
    """The demo organisation loaded, and the shared clock at NOW."""
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    return clean_database


@pytest.fixture
def suite(runner_factory, suite_config, demo_directory):
    runner = runner_factory(suite_config, DispatchService, MediaService, IntakeService)
    runner.start()
    return runner


@pytest.fixture
def intake(suite, suite_config):
    with ServiceRpcProxy("intake", suite_config, timeout=30) as proxy:
        yield proxy


@pytest.fixture
def media(suite, suite_config):
    with ServiceRpcProxy("media", suite_config, timeout=30) as proxy:
        yield proxy


@pytest.fixture
def upload_signature(media):
    """Store a signature image as the desk terminal (or a customer's link) would."""
    def upload(complaint_id=None, uploaded_by="p01-spec-1"):
        return media.upload(base64.b64encode(samples.PNG).decode(), "签名.png", "signature",
                            complaint_id=complaint_id, uploaded_by=uploaded_by)["id"]
    return upload
