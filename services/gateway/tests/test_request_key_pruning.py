"""Housekeeping (issue 14): the request-key tables are pruned after
REQUEST_KEYS_KEEP_DAYS (default 7 days on the shared clock) by a daily job in
each owning service: the gateway's `idempotency`, intake's `record_requests`,
dispatch's `requests`. Gateway, intake, dispatch and media on the real broker,
database and S3 server; the admin moves the simulation clock; each job is run
through its timer entrypoint, as nameko's timer runs it.

A specialist records a complaint and a head a progress note, each with an
Idempotency-Key; eight days later the same again with new keys. The daily
jobs delete the first keys and keep the second: a retry with a second key
still answers the first answer (the gateway's key), and intake and dispatch
still dedupe it by their own keys if the gateway's answer were lost. A second
run the same day does nothing; the next day's run deletes the rest in time.
"""
import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_hook
from nameko.testing.utils import get_container

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.service import GatewayService
from services.gateway.tests.test_dispatch_api import (
    DEMO_FILE,
    PEOPLE,
    Api,
    Gateway,
    advance,
    ok,
    signed_order,
)
from services.gateway.tokens import issue_tokens
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.intake.tests.helpers import NOW, form
from services.media.service import MediaService
from shared.clock import SimulationClock
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

JOBS = ((Gateway, "prune_idempotency_keys"), (IntakeService, "prune_request_keys"),
        (DispatchService, "prune_request_keys"))


@pytest.fixture
def world(runner_factory, ccrm_config, s3_config, web_config, clean_database):
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10,
                  **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, Gateway, IntakeService, DispatchService, MediaService)
    runner.start()
    issued = issue_tokens(clean_database, [{"id": i, "name": i} for i in PEOPLE.values()], NOW)
    tokens = {entry["person_id"]: entry["token"] for entry in issued}
    apis = {key: Api(f"http://{address}", tokens[p]) for key, p in PEOPLE.items()}
    yield apis, runner, config, clean_database
    clear_caches()


def post_with_key(api, path, body, key):
    return requests.post(api.base + path, json=body, timeout=30, headers={
        "Authorization": f"Bearer {api.token}", "Idempotency-Key": key})


def run_jobs(runner):
    """Each service's daily job, through its timer entrypoint."""
    for service, method in JOBS:
        with entrypoint_hook(get_container(runner, service), method) as job:
            job()


def runs(database):
    with database.connection() as conn:
        return [r["ran_at"] for schema in ("gateway", "intake", "dispatch")
                for r in conn.execute(f"SELECT ran_at FROM {schema}.housekeeping")]


def keys(database):
    with database.connection() as conn:
        return {
            "gateway": {r["key"] for r in conn.execute("SELECT key FROM gateway.idempotency")},
            "intake": {r["request_key"] for r in conn.execute(
                "SELECT request_key FROM intake.record_requests")},
            "dispatch": {r["request_key"] for r in conn.execute(
                "SELECT request_key FROM dispatch.requests")}}


def test_old_request_keys_are_pruned_daily_and_recent_ones_still_dedupe(world):
    api, runner, config, database = world
    cid, _ = signed_order(api)          # maintenance_repair on GZ-P01: pcgz-head's

    bodies = {}

    def record(key):
        """The same body for the same key (a retry), contacted just now."""
        now = advance(api, "PT1M")
        body = bodies.setdefault(key, form(now=now, channel="phone", room="9-901"))
        return ok(post_with_key(api["spec"], "/api/complaints", body, key), 201)["id"]

    def progress(key):
        return ok(post_with_key(api["head"], f"/api/complaints/{cid}/progress",
                                {"note": f"进展 {key}"}, key), 201)["id"]

    old_complaint, old_note = record("rec-old"), progress("note-old")
    advance(api, "P8D")
    new_complaint, new_note = record("rec-new"), progress("note-new")
    before = keys(database)
    assert {"rec-old", "note-old", "rec-new", "note-new"} <= before["gateway"]
    assert {"rec-old", "rec-new"} <= before["intake"]
    assert {"note-old", "note-new"} <= before["dispatch"]

    run_jobs(runner)
    after = keys(database)
    assert {"rec-new", "note-new"} <= after["gateway"]
    assert not {"rec-old", "note-old"} & after["gateway"]
    assert "rec-new" in after["intake"] and "rec-old" not in after["intake"]
    assert after["dispatch"] == {"note-new"}
    with database.connection() as conn:
        ran = {r["job"]: r["deleted"] for r in conn.execute(
            "SELECT job, deleted FROM intake.housekeeping UNION ALL "
            "SELECT job, deleted FROM dispatch.housekeeping UNION ALL "
            "SELECT job, deleted FROM gateway.housekeeping")}
    assert ran["prune:dispatch.requests"] == 1
    assert ran["prune:intake.record_requests"] >= 2      # rec-old and signed_order's own key

    # Within the window a retry still answers the first answer...
    assert record("rec-new") == new_complaint and progress("note-new") == new_note
    # ...and intake and dispatch dedupe by their own keys (the gateway's answer lost).
    with ServiceRpcProxy("intake", config) as intake:
        again = intake.record_complaint(
            {"kind": "person", "person_id": "p01-spec-1", "roles": ["specialist"]},
            bodies["rec-new"], request_key="rec-new")
    assert again["id"] == new_complaint
    with ServiceRpcProxy("dispatch", config) as dispatch:
        head = {"kind": "person", "person_id": "pcgz-head", "roles": ["head"]}
        note = dispatch.record_progress(head, cid, note="进展 note-new", request_key="note-new")
    assert note["id"] == new_note
    # A pruned key is a new request, checked anew (its requested time has passed
    # by now), not the old complaint answered again.
    retried = post_with_key(api["spec"], "/api/complaints", bodies["rec-old"], "rec-old")
    assert retried.status_code == 400 and old_complaint not in retried.text
    assert "requested_completion_at" in retried.json()["error"]["fields"] and old_note

    # Once a day: the same day's second run does not run.
    ran_at = runs(database)
    advance(api, "PT1H")
    run_jobs(runner)
    assert runs(database) == ran_at
    advance(api, "P7D")                                   # 15 days after the first keys
    run_jobs(runner)
    final = keys(database)
    assert "note-new" not in final["dispatch"] and "rec-new" not in final["intake"]
    assert not {"rec-new", "note-new"} & final["gateway"]


def test_the_daily_jobs_are_timers_of_their_services():
    from shared.pruning import CHECK_SECONDS, keep
    for service, method in ((GatewayService, "prune_idempotency_keys"),
                            (IntakeService, "prune_request_keys"),
                            (DispatchService, "prune_request_keys")):
        entrypoints = getattr(service, method).nameko_entrypoints
        assert [type(e).__name__ for e in entrypoints] == ["Timer"], service
        assert next(iter(entrypoints)).interval == CHECK_SECONDS
    assert keep({}).days == 7 and keep({"REQUEST_KEYS_KEEP_DAYS": "30"}).days == 30
    for wrong in ("0", "-1", "a week"):
        with pytest.raises(ValueError):
            keep({"REQUEST_KEYS_KEEP_DAYS": wrong})
