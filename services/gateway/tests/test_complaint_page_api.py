"""After the order, end to end through the gateway's HTTP API (SPEC §10): the
callback and closure steps' refusals, and the complaint's page, whole and
with parts that do not answer in time. Gateway, intake, dispatch and media
(or stand-ins for sla and media) on the real broker, database and S3 server."""
import time

import eventlet
import pytest
from nameko.constants import WEB_SERVER_CONFIG_KEY
from nameko.rpc import RpcProxy, rpc

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.tests.complaints_suite import (
    DEMO_FILE,
    PEOPLE,
    Api,
    Gateway,
    error,
    running_suite,  # noqa: F401 - the `api` fixture
)
from services.gateway.tokens import issue_tokens
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.intake.tests.helpers import NOW, form
from services.media.tests import samples
from shared.clock import SimulationClock
from shared.outbox import Outbox
from shared.testing.polling import eventually

pytestmark = pytest.mark.integration


# -- after the order: the callback, the closure loop and the complaint's page ---------------------

def signed_and_routed(api, **changes):
    cid = api["spec"].post("/api/complaints", form(**changes)).json()["id"]
    api["spec"].post(f"/api/complaints/{cid}/order/submit")
    api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    signed = api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"})
    assert signed.status_code == 200, signed.text
    eventually(lambda: api["staff"].get(f"/api/complaints/{cid}").json()["handler_id"])
    return cid


def test_callback_and_closure_steps_refuse_with_the_error_body_and_change_nothing(api):
    cid = signed_and_routed(api)
    base = f"/api/complaints/{cid}"
    assert "没有待回访" in error(api["staff"].post(f"{base}/callbacks", {"outcome": "reached"}),
                                409, "wrong_state")["message"]
    error(api["head"].post(f"{base}/callbacks", {"outcome": "reached"}), 403, "forbidden")
    bad = error(api["staff"].post(f"{base}/callbacks", {"outcome": "maybe", "x": 1}), 400)
    assert set(bad["fields"]) == {"outcome", "x"}
    naive = error(api["staff"].post(f"{base}/callbacks", {
        "outcome": "reached", "callback_at": "2026-11-27T10:00:00"}), 400)
    assert "callback_at" in naive["fields"]

    error(api["deputy"].post(f"{base}/closure/verify", {"satisfaction": 5}), 403, "forbidden")
    error(api["other_spec"].post(f"{base}/closure/verify", {"satisfaction": 5}), 403)
    assert "尚未申请结案" in error(api["spec"].post(f"{base}/closure/verify", {"satisfaction": 5}),
                                409, "wrong_state")["message"]
    assert "satisfaction" in error(api["spec"].post(f"{base}/closure/verify",
                                                    {"satisfaction": 9}), 400)["fields"]
    assert "satisfaction" in error(api["spec"].post(f"{base}/closure/verify", {}), 400)["fields"]
    assert "reason" in error(api["spec"].post(f"{base}/closure/verify",
                                              {"decision": "reject"}), 400)["fields"]
    error(api["deputy"].post(f"{base}/closure/review", {"decision": "approve"}), 409)
    error(api["gm"].post(f"{base}/closure/review", {"decision": "approve"}), 403)
    error(api["gm"].post(f"{base}/closure/approve", {"decision": "approve"}), 409)
    error(api["deputy"].post(f"{base}/closure/approve", {"decision": "approve"}), 403)
    assert "reason" in error(api["gm"].post(f"{base}/closure/approve", {"decision": "reject"}),
                             400)["fields"]

    shown = api["staff"].get(base).json()
    assert shown["state"] == "order_signed" and shown["closures"] == []
    assert shown["callbacks"] == [] and shown["timeline"][-1]["action"] == "routed"


def test_the_complaint_page_brings_record_work_deadlines_and_media_together(api):
    signature = api["spec"].upload_signature(kind="signature").json()["id"]
    cid = signed_and_routed(api, channel="visit", customer_signature_media_id=signature)
    photo = api["head"].call("POST", "/api/media", data={
        "kind": "photo", "stage": "before", "complaint_id": cid},
        files={"file": ("门口.png", samples.PNG, "application/octet-stream")})
    assert photo.status_code == 201, photo.text
    visit = api["head"].post(f"/api/complaints/{cid}/visits", {
        "outcome": "blocked", "reason": "客户拒绝开门", "attempted_at": NOW.isoformat(),
        "photo_media_ids": [photo.json()["id"]]})
    assert visit.status_code == 201, visit.text
    page = eventually(lambda: (lambda p: p if p["callback"]["due"] else None)(
        api["staff"].get(f"/api/complaints/{cid}").json()))

    assert page["id"] == cid and page["state"] == "order_signed"
    assert page["responsibility"]["handler"]["person_id"] == "pcgz-head"
    assert page["dispatch"]["routing"]["handler"]["person_id"] == "pcgz-head"
    assert [v["outcome"] for v in page["dispatch"]["visits"]] == ["blocked"]
    assert page["deadlines"]["unavailable"] is True          # sla is not running here
    assert [m["id"] for m in page["media"]["items"]] == [signature, photo.json()["id"]]
    assert all(m["url"].startswith("http") for m in page["media"]["items"])
    assert [e["action"] for e in page["timeline"]][-2:] == ["routed", "visit_blocked"]

    called = api["staff"].post(f"/api/complaints/{cid}/callbacks", {
        "outcome": "reached", "note": "客户同意明日上门"})
    assert called.status_code == 201, called.text
    assert called.json()["callback"]["due"] is False
    # the handler sees the page; a head of another department does not
    assert api["head"].get(f"/api/complaints/{cid}").json()["dispatch"]["complaint_id"] == cid
    error(api["other_head"].get(f"/api/complaints/{cid}"), 403, "forbidden")
    error(api["staff"].get("/api/complaints/C-GZ-2026-999999"), 404, "not_found")


# -- a page whose parts do not all answer -------------------------------------------------------

class SlowSla:
    """An sla that takes longer than the page waits."""
    name = "sla"

    @rpc
    def list_timers(self, complaint_id):
        eventlet.sleep(2)
        return {"complaint_id": complaint_id, "timers": []}


class StubMedia:
    """A media service that answers intake's recording, then stops answering `get`."""
    name = "media"
    slow = False

    @rpc
    def get(self, media_id):
        if StubMedia.slow:
            eventlet.sleep(2)
        return {"id": media_id, "kind": "signature", "complaint_id": None, "binding": None}

    @rpc
    def bind_signature(self, media_id, record_type, record_id, record_sha256, bound_by=None,
                       complaint_id=None):
        return {"id": media_id}


class GatewayWithSla(Gateway):
    sla = RpcProxy("sla")


@pytest.fixture
def slow_api(runner_factory, ccrm_config, web_config, clean_database):
    clear_caches()
    StubMedia.slow = False
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, RPC_TIMEOUT=10, COMPLAINT_PAGE_TIMEOUT=0.5,
                  **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, GatewayWithSla, IntakeService, DispatchService, SlowSla,
                            StubMedia)
    runner.start()
    issued = issue_tokens(clean_database, [PEOPLE["spec"], PEOPLE["staff"]], NOW)
    yield {entry["person_id"]: Api(f"http://{address}", entry["token"]) for entry in issued}
    StubMedia.slow = False
    clear_caches()


def test_a_part_that_does_not_answer_is_marked_unavailable_and_the_rest_still_shows(slow_api):
    spec, staff = slow_api["p01-spec-1"], slow_api["centre-staff-1"]
    created = spec.post("/api/complaints", form(channel="visit",
                                                customer_signature_media_id="M-GZ-" + "a" * 32))
    assert created.status_code == 201, created.text
    StubMedia.slow = True
    started = time.monotonic()
    page = staff.get(f"/api/complaints/{created.json()['id']}")
    elapsed = time.monotonic() - started
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["state"] == "order_drafted" and body["timeline"]
    assert body["deadlines"]["unavailable"] is True and body["media"]["unavailable"] is True
    assert body["dispatch"] is None                       # answered: nothing routed yet
    assert elapsed < 1.8, elapsed                         # two bounded stages of 0.5 s
