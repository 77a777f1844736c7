"""The closure loop end to end through the gateway's HTTP API (SPEC §2, §10;
Art. 19-29): gateway, intake, dispatch and media on the real broker, database
and S3 server, an admin moving the simulation clock between the steps.

One complaint goes from recording to an approved closure; another through a
blocked visit and the centre's callback, a closure application rejected at
verification (the department's work reopens), a second application that is
approved, and the customer complaining again (reopen). A subscriber bound to
`intake.events` and `dispatch.events`, as another group system would bind,
receives every event of each path exactly once per event id, in each
producer's order."""
from datetime import datetime, timedelta

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
from services.intake.tests.helpers import NOW, form
from services.media.service import MediaService
from services.media.tests import samples
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.outbox import Outbox
from shared.testing.polling import eventually

pytestmark = pytest.mark.integration

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
PEOPLE = {"spec": "p01-spec-1", "spec2": "p01-spec-2", "deputy": "centre-deputy-gm",
          "gm": "centre-gm", "staff": "centre-staff-1", "admin": "admin-1",
          "head": "pcgz-head"}

# The gateway with the complaint and dispatch routes (until the core has both).
_missing = tuple(m for m in (ComplaintRoutes, DispatchRoutes)
                 if not issubclass(GatewayService, m))
Gateway = type("Gateway", _missing + (GatewayService,), {"intake": RpcProxy("intake")}) \
    if _missing or not hasattr(GatewayService, "intake") else GatewayService


class Api:
    """requests against the running gateway as one person."""

    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, json=None, **kwargs):
        return requests.request(method, self.base + path, json=json, timeout=30,
                                headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def get(self, path):
        response = self.call("GET", path)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path, json=None, status=(200, 201)):
        response = self.call("POST", path, json=json)
        assert response.status_code in status, response.text
        return response.json()

    def upload(self, kind, complaint_id=None, **fields):
        data = {"kind": kind, **({"complaint_id": complaint_id} if complaint_id else {}), **fields}
        response = self.call("POST", "/api/media", data=data, files={
            "file": (f"{kind}.png", samples.PNG, "application/octet-stream")})
        assert response.status_code == 201, response.text
        return response.json()["id"]


@pytest.fixture
def api(runner_factory, ccrm_config, s3_config, web_config, clean_database):
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10,
                  **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, Gateway, IntakeService, DispatchService, MediaService)
    runner.start()
    issued = issue_tokens(clean_database, [{"id": pid, "name": key} for key, pid in
                                           PEOPLE.items()], NOW)
    tokens = {entry["person_id"]: entry["token"] for entry in issued}
    yield {key: Api(f"http://{address}", tokens[pid]) for key, pid in PEOPLE.items()}
    clear_caches()


def advance(api, duration):
    return datetime.fromisoformat(api["admin"].post("/api/admin/clock",
                                                    {"advance": duration})["now"])


def page_when(api, cid, check):
    return eventually(lambda: (lambda p: p if check(p) else None)(
        api["staff"].get(f"/api/complaints/{cid}")))


def record_and_sign(api):
    """Recorded at the desk with the customer's signature, then the order's
    chain within its deadlines; dispatch routes it to the property company."""
    signature = api["spec"].upload("signature")
    cid = api["spec"].post("/api/complaints", form(
        channel="visit", customer_signature_media_id=signature))["id"]
    advance(api, "PT10M")
    api["spec"].post(f"/api/complaints/{cid}/order/submit")
    advance(api, "PT15M")
    api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    advance(api, "PT20M")
    api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve", "reason": "同意"})
    page = page_when(api, cid, lambda p: p["handler_id"] and p["dispatch"])
    assert page["responsibility"]["handler"]["person_id"] == "pcgz-head"
    assert page["dispatch"]["state"] == "routed"
    return cid


def visit_done(api, cid):
    now = advance(api, "PT40M")
    return api["head"].post(f"/api/complaints/{cid}/visits", {
        "outcome": "done", "visited_at": now.isoformat(), "plan": "更换防水层并修补天花板",
        "agreed_completion_at": (now + timedelta(days=3)).isoformat(),
        "customer_signature_media_id": api["head"].upload("signature", cid),
        "photo_media_ids": [api["head"].upload("photo", cid, stage="before")]})


def apply_closure(api, cid):
    application = api["head"].post(f"/api/complaints/{cid}/closure/apply", {
        "material_media_ids": [api["head"].upload("material", cid)],
        "customer_signature_media_id": api["head"].upload("signature", cid)})
    page_when(api, cid, lambda p: p["state"] == "closure_applied"
              and p["closure"]["application_id"] == application["id"])
    return application["id"]


def verify_review_approve(api, cid, satisfaction):
    advance(api, "PT20M")
    verified = api["spec"].post(f"/api/complaints/{cid}/closure/verify",
                                {"satisfaction": satisfaction, "comment": "客户确认已修好"})
    assert verified["state"] == "closure_verified"
    advance(api, "PT1H")
    api["deputy"].post(f"/api/complaints/{cid}/closure/review", {"decision": "approve"})
    advance(api, "PT1H")
    closed = api["gm"].post(f"/api/complaints/{cid}/closure/approve",
                            {"decision": "approve", "reason": "同意结案"})
    assert closed["state"] == "closed"
    return closed


def events_of(subscriber, cid, intake_path, dispatch_path):
    """Wait for both producers' paths; return the complaint's events (and
    check nothing else of it, nor any repeat, arrived)."""
    def mine(producer):
        return [e for e in subscriber.received
                if e["complaint_id"] == cid and e["producer"] == producer]
    subscriber.wait_for(lambda got: len(mine("intake")) >= len(intake_path)
                        and len(mine("dispatch")) >= len(dispatch_path), timeout=15)
    subscriber.drain(timeout=0.5)                       # anything extra would show up now
    assert [e["type"] for e in mine("intake")] == intake_path
    assert [e["type"] for e in mine("dispatch")] == dispatch_path
    ids = [e["event_id"] for e in subscriber.received]
    assert len(ids) == len(set(ids)), "an event arrived twice"
    return mine("intake"), mine("dispatch")


def test_from_recording_to_an_approved_closure(api, subscriber_factory):
    events = subscriber_factory("intake.events", "dispatch.events")
    cid = record_and_sign(api)
    visit_done(api, cid)
    advance(api, "PT3H")
    api["head"].post(f"/api/complaints/{cid}/progress", {"note": "防水层已更换，待干燥"})
    advance(api, "P1D")
    application = apply_closure(api, cid)
    closed = verify_review_approve(api, cid, 5)
    assert closed["closure"]["application_id"] == application
    assert closed["closure"]["satisfaction"] == 5

    page = page_when(api, cid, lambda p: p["dispatch"]["state"] == "closed")
    assert page["state"] == "closed" and page["closed_at"]
    assert [a["status"] for a in page["dispatch"]["applications"]] == ["approved"]
    assert len(page["media"]["items"]) == 5            # the record's, visit's, application's
    actions = [e["action"] for e in page["timeline"]]
    assert actions[actions.index("routed"):] == [
        "routed", "closure_applied", "closure_verified", "closure_reviewed", "closure_approved"]

    intake, dispatch = events_of(events, cid, [
        "complaint.received", "order.submitted", "order.reviewed", "order.signed",
        "closure.verified", "closure.reviewed", "complaint.closed"], [
        "complaint.routed", "visit.recorded", "progress.recorded", "closure.applied"])
    assert intake[-1]["data"]["application_id"] == dispatch[-1]["data"]["application_id"]
    assert intake[-1]["data"]["satisfaction"] == 5
    signed_at = datetime.fromisoformat(intake[3]["data"]["signed_at"])
    assert datetime.fromisoformat(dispatch[0]["data"]["signed_at"]) == signed_at


def test_a_blocked_visit_a_rejected_application_the_reopened_work_and_a_reopen(
        api, subscriber_factory):
    events = subscriber_factory("intake.events", "dispatch.events")
    cid = record_and_sign(api)

    # Art. 23: the customer keeps the department out; the centre calls back.
    attempted = advance(api, "PT30M")
    api["head"].post(f"/api/complaints/{cid}/visits", {
        "outcome": "blocked", "attempted_at": attempted.isoformat(),
        "reason": "客户不在家且拒绝改约"})
    page = page_when(api, cid, lambda p: p["callback"]["due"])
    assert page["dispatch"]["state"] == "visit_blocked"
    advance(api, "PT20M")
    called = api["staff"].post(f"/api/complaints/{cid}/callbacks", {
        "outcome": "reached", "note": "客户同意明天上午上门"})
    assert called["callback"]["due"] is False
    page = page_when(api, cid, lambda p: p["dispatch"]["callbacks"])
    assert page["dispatch"]["callbacks"][0]["by"] == "centre-staff-1"

    # The department applies without a done visit; verification rejects it and
    # the department's work reopens.
    first = apply_closure(api, cid)
    advance(api, "PT25M")
    back = api["spec"].post(f"/api/complaints/{cid}/closure/verify", {
        "decision": "reject", "satisfaction": 1, "reason": "客户称问题未处理"})
    assert back["state"] == "order_signed" and back["closure"] is None
    page = page_when(api, cid, lambda p: p["dispatch"]["state"] == "visit_blocked"
                     and p["dispatch"]["applications"][0]["status"] == "rejected")
    assert page["dispatch"]["applications"][0]["rejected_stage"] == "verify"

    # The work goes on: a done visit, a second application, approved.
    visit_done(api, cid)
    advance(api, "P1D")
    second = apply_closure(api, cid)
    assert second != first
    closed = verify_review_approve(api, cid, 4)
    assert [(x["application_id"], x["status"]) for x in closed["closures"]] == [
        (first, "rejected"), (second, "approved")]
    page_when(api, cid, lambda p: p["dispatch"]["state"] == "closed")

    # The customer complains again: a new order round, the history kept.
    advance(api, "P2D")
    reopened = api["spec2"].post(f"/api/complaints/{cid}/reopen", {"reason": "天花板再次渗水"})
    assert reopened["state"] == "order_drafted" and reopened["order"]["order_round"] == 2
    assert reopened["responsibility"] is None and reopened["handler_id"] is None
    page = page_when(api, cid, lambda p: p["dispatch"]["order_round"] == 2)
    assert page["dispatch"]["state"] == "awaiting_order"
    assert len(page["closures"]) == 2 and len(page["callbacks"]) == 1

    intake, _ = events_of(events, cid, [
        "complaint.received", "order.submitted", "order.reviewed", "order.signed",
        "callback.recorded", "closure.rejected", "closure.verified", "closure.reviewed",
        "complaint.closed", "complaint.reopened"], [
        "complaint.routed", "visit.blocked", "closure.applied", "visit.recorded",
        "closure.applied"])
    rejected = intake[5]["data"]
    assert (rejected["application_id"], rejected["stage"], rejected["application_rejected"]) \
        == (first, "verify", True)
    assert intake[4]["data"]["visit_ids"] and intake[4]["data"]["by_role"] == "centre_staff"
