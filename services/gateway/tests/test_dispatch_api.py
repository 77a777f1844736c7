"""The departments' side end to end through the gateway's HTTP API (SPEC §10):
gateway, intake, dispatch and media on the real broker, database and S3
server, the simulation clock moved by an admin between the steps.

The centre's side of the closure loop (verify, review, approve, callback) is
intake's next issue: until it exists, its events are produced here the way
intake produces them (intake's outbox, then the relay)."""
from datetime import datetime, timedelta

import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY
from nameko.rpc import RpcProxy

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.dispatch.tests.casework import closure_event
from services.dispatch.tests.integration import IntakeEvents
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

pytestmark = pytest.mark.integration

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
PEOPLE = {
    "spec": "p01-spec-1", "deputy": "centre-deputy-gm", "gm": "centre-gm",
    "staff": "centre-staff-1",
    "admin": "admin-1", "head": "pcgz-head", "eng": "rcgz-eng-head", "mkt": "rcgz-mkt-head",
    "leader": "pcgz-vp-service", "chairman": "pcgz-chairman", "outsider": "rcgx-mkt-head",
}

# The gateway with the complaint and dispatch routes (until the core has both).
_missing = tuple(m for m in (DispatchRoutes, ComplaintRoutes) if not issubclass(GatewayService, m))
Gateway = type("Gateway", _missing + (GatewayService,), {"intake": RpcProxy("intake")}) \
    if _missing or not hasattr(GatewayService, "intake") else GatewayService


class Api:
    def __init__(self, base, token=None):
        self.base, self.token = base, token

    def call(self, method, path, json=None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.request(method, self.base + path, json=json, headers=headers,
                                timeout=30, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json=json, **kwargs)

    def upload(self, kind, complaint_id=None, stage=None):
        content, name = (samples.PDF, "f.pdf") if kind in ("material", "minutes", "report") \
            else (samples.PNG, "f.png")
        data = {"kind": kind, "complaint_id": complaint_id or ""}
        if stage:
            data["stage"] = stage
        response = self.call("POST", "/api/media", data={k: v for k, v in data.items() if v},
                             files={"file": (name, content, "application/octet-stream")})
        assert response.status_code == 201, response.text
        return response.json()["id"]


@pytest.fixture(name="api")
def running_suite(runner_factory, ccrm_config, s3_config, web_config, clean_database):
    """Gateway, intake, dispatch and media running; `api[key]` acts as PEOPLE[key]
    (`api` in the tests: other modules import `running_suite` to have it)."""
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
    base = f"http://{address}"
    apis = {key: Api(base, tokens[person_id]) for key, person_id in PEOPLE.items()}
    apis["public"] = Api(base)
    yield apis
    clear_caches()


@pytest.fixture
def intake_events(clean_database, ccrm_config):
    events = IntakeEvents(clean_database, ccrm_config["AMQP_URI"])
    yield events
    events.close()


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def error(response, status, code=None):
    assert response.status_code == status, response.text
    body = response.json()["error"]
    if code:
        assert body["code"] == code
    return body


def advance(api, duration):
    return datetime.fromisoformat(ok(api["admin"].post("/api/admin/clock",
                                                       {"advance": duration}))["now"])


def signed_order(api, **changes):
    """Record -> submit -> review -> sign through intake's routes; wait for the routing."""
    signature = api["spec"].upload("signature")
    cid = ok(api["spec"].post("/api/complaints", form(
        channel="visit", customer_signature_media_id=signature, **changes)), 201)["id"]
    advance(api, "PT10M")
    ok(api["spec"].post(f"/api/complaints/{cid}/order/submit"))
    ok(api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"}))
    ok(api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"}))
    view = until_routed(api, cid)
    return cid, view


def until_routed(api, cid, timeout=10.0):
    """Dispatch has routed the complaint and intake has read the routing
    (`complaint.routed`), so the handler may see it: who may see a complaint
    is intake's answer, which follows dispatch's event a moment later."""
    import time
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        response = api["staff"].get(f"/api/complaints/{cid}/dispatch")
        if response.status_code == 200 and response.json()["state"] == "routed":
            handler = response.json()["routing"]["handler"]["person_id"]
            key = next(k for k, person in PEOPLE.items() if person == handler)
            if api[key].get(f"/api/complaints/{cid}").status_code == 200:
                return response.json()
        time.sleep(0.05)
    raise AssertionError(f"{cid} was not routed: {response.text}")


def count(events, event_type):
    return sum(1 for e in events if e["type"] == event_type)


def test_record_to_closure_applied_through_the_gateway(api, subscriber_factory):
    events = subscriber_factory("intake.events", "dispatch.events")
    cid, view = signed_order(api)  # maintenance_repair on GZ-P01: the property company
    routing = view["routing"]
    assert routing["handler"]["person_id"] == "pcgz-head"
    assert [c["department"] for c in routing["cooperating_departments"]] == ["engineering"]

    now = advance(api, "PT30M")
    photo = api["head"].upload("photo", cid, stage="before")
    signature = api["head"].upload("signature", cid)
    visit_body = {"outcome": "done", "visited_at": (now - timedelta(minutes=5)).isoformat(),
                  "plan": "更换破损水管，两天内完成",
                  "agreed_completion_at": (now + timedelta(days=2)).isoformat(),
                  "customer_signature_media_id": signature, "photo_media_ids": [photo]}
    error(api["eng"].post(f"/api/complaints/{cid}/visits", visit_body), 403, "forbidden")
    error(api["head"].post(f"/api/complaints/{cid}/visits",
                           dict(visit_body, customer_signature_media_id=None)), 400)
    past = error(api["head"].post(f"/api/complaints/{cid}/visits", dict(
        visit_body, agreed_completion_at=(now - timedelta(hours=1)).isoformat())), 400)
    assert "agreed_completion_at" in past["fields"]
    visit = ok(api["head"].post(f"/api/complaints/{cid}/visits", visit_body), 201)
    assert visit["completion_due_at"] == visit["agreed_completion_at"]
    assert visit["completion_due_at"].endswith("+08:00") and visit["signature_status"] == "bound"
    intact = ok(api["staff"].get(f"/api/dispatch/records/{visit['id']}/signature/verify"))
    assert intact["intact"] is True

    advance(api, "PT5H")
    progress = ok(api["eng"].post(f"/api/complaints/{cid}/progress",
                                  {"note": "工程部已安排水管材料"}), 201)
    assert progress["by_handler_department"] is False
    ok(api["head"].post(f"/api/complaints/{cid}/progress", {"note": "已更换水管，待试水"}), 201)

    advance(api, "PT20H")
    error(api["head"].post(f"/api/complaints/{cid}/closure/apply", {"material_media_ids": []}),
          400, "invalid_input")
    material = api["head"].upload("material", cid)
    applied = ok(api["head"].post(f"/api/complaints/{cid}/closure/apply", {
        "work_done": "已更换水管并试水，无渗漏", "material_media_ids": [material],
        "customer_signature_media_id": api["head"].upload("signature", cid)}), 201)
    assert applied["status"] == "pending" and applied["work_done"] == "已更换水管并试水，无渗漏"
    # what was done is part of what the customer signed
    assert ok(api["staff"].get(f"/api/dispatch/records/{applied['id']}/signature/verify"))[
        "intact"] is True
    error(api["head"].post(f"/api/complaints/{cid}/closure/apply", {
        "material_media_ids": [],
        "customer_signature_media_id": api["head"].upload("signature", cid)}),
        409, "wrong_state")

    page = ok(api["staff"].get(f"/api/complaints/{cid}/dispatch"))
    assert page["state"] == "closure_applied"
    assert page["applications"][0]["work_done"] == "已更换水管并试水，无渗漏"
    assert [h["action"] for h in page["history"]] == [
        "routed", "visit_recorded", "progress_recorded", "progress_recorded", "closure_applied"]

    path = {"complaint.received": 1, "order.submitted": 1, "order.reviewed": 1,
            "order.signed": 1, "complaint.routed": 1, "visit.recorded": 1,
            "progress.recorded": 2, "closure.applied": 1}
    events.wait_for(lambda got: count(got, "closure.applied") == 1)
    events.drain(timeout=0.5)  # a duplicate would show up now
    assert {t: count(events.received, t) for t in path} == path
    assert len({e["event_id"] for e in events.received}) == len(events.received)


def test_the_gm_previews_the_routing_before_signing(api):
    """Issue 16: before the signature the GM reads the department and handler the
    order will go to (names, from dispatch's table and directory); the GM's
    override is previewed too; the signed order goes where the preview said."""
    signature = api["spec"].upload("signature")
    cid = ok(api["spec"].post("/api/complaints", form(
        channel="visit", category="sales_contract", customer_signature_media_id=signature)),
        201)["id"]
    ok(api["spec"].post(f"/api/complaints/{cid}/order/submit"))
    ok(api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"}))

    preview = ok(api["gm"].get(f"/api/complaints/{cid}/routing-preview"))
    assert preview["routable"] is True and preview["department_name"] == "营销部"
    routing = preview["routing"]
    assert routing["handler"]["name"] and routing["department_unit_name"].endswith("营销部")
    assert preview["department_overridden"] is False and "id" not in routing
    moved = ok(api["gm"].get(f"/api/complaints/{cid}/routing-preview",
                             params={"department": "engineering"}))
    assert moved["department_name"] == "工程部" and moved["department_overridden"] is True
    assert moved["routing"]["handler"]["person_id"] == "rcgz-eng-head"
    bad = error(api["gm"].get(f"/api/complaints/{cid}/routing-preview",
                              params={"department": "nope"}), 400, "invalid_input")
    assert "department" in bad["fields"]
    error(api["head"].get(f"/api/complaints/{cid}/routing-preview"), 403, "forbidden")
    error(api["gm"].get("/api/complaints/C-GZ-2026-000999/routing-preview"), 404)

    ok(api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"}))
    signed = until_routed(api, cid)["routing"]
    assert signed["handler"] == routing["handler"]
    assert signed["department_name"] == preview["department_name"]


def test_blocked_visit_rejected_application_and_a_new_one(api, intake_events,
                                                        subscriber_factory):
    events = subscriber_factory("dispatch.events")
    cid, _ = signed_order(api, category="sales_contract")
    now = advance(api, "PT40M")
    blocked = ok(api["mkt"].post(f"/api/complaints/{cid}/visits", {
        "outcome": "blocked", "visited_at": now.isoformat(), "reason": "客户拒绝开门"}), 201)
    assert blocked["outcome"] == "blocked"
    now = advance(api, "PT2H")
    intake_events.publish("callback.recorded", closure_event(
        "callback.recorded", cid, now, state="order_signed", note="客户同意明日上门",
        visit_ids=[blocked["id"]], facts={"category": "sales_contract"}), cid, now)
    now = advance(api, "PT20H")
    ok(api["mkt"].post(f"/api/complaints/{cid}/visits", {
        "outcome": "done", "visited_at": now.isoformat(), "plan": "办理退款",
        "agreed_completion_at": (now + timedelta(days=30)).isoformat(),
        "customer_signature_media_id": api["mkt"].upload("signature", cid)}), 201)
    first = ok(api["mkt"].post(f"/api/complaints/{cid}/closure/apply", {
        "customer_signature_media_id": api["mkt"].upload("signature", cid)}), 201)

    now = advance(api, "PT1H")
    intake_events.publish("closure.rejected", closure_event(
        "closure.rejected", cid, now, first["id"], reason="客户表示退款未到账",
        facts={"category": "sales_contract"}), cid, now)
    page = until_state(api, cid, "in_progress")
    assert page["applications"][0]["status"] == "rejected"
    assert page["callbacks"][0]["note"] == "客户同意明日上门"
    # The completion deadline stayed the order's (earlier than the agreed time).
    assert page["completion_due_at"] == page["requested_completion_at"]

    second = ok(api["mkt"].post(f"/api/complaints/{cid}/closure/apply", {
        "customer_signature_media_id": api["mkt"].upload("signature", cid)}), 201)
    assert second["id"].endswith("-A2")
    events.wait_for(lambda got: count(got, "closure.applied") == 2)
    events.drain(timeout=0.3)
    assert [count(events.received, t)
            for t in ("complaint.routed", "visit.blocked", "visit.recorded",
                      "closure.applied")] == [1, 1, 1, 2]


def until_state(api, cid, state, timeout=10.0):
    import time
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        page = api["staff"].get(f"/api/complaints/{cid}/dispatch").json()
        if page.get("state") == state:
            return page
        time.sleep(0.05)
    raise AssertionError(f"{cid} never reached {state}")


def test_claims_and_meetings_over_http(api, intake_events):
    cid, _ = signed_order(api)  # property company: head pcgz-head, leader pcgz-vp-service
    error(api["outsider"].get(f"/api/complaints/{cid}/dispatch"), 403, "forbidden")
    assert ok(api["eng"].get(f"/api/complaints/{cid}/dispatch"))["state"] == "routed"
    claim = ok(api["spec"].post(f"/api/complaints/{cid}/claims", {
        "amount_claimed": "1200.50", "description": "水管爆裂泡坏地板"}), 201)
    cl = claim["id"]
    error(api["leader"].post(f"/api/claims/{cl}/report", {"report_text": "x"}), 403)
    ok(api["head"].post(f"/api/claims/{cl}/report", {"report_text": "同意赔付地板损失"}))
    error(api["head"].post(f"/api/claims/{cl}/decision", {"decision": "approve"}), 403)
    error(api["leader"].post(f"/api/claims/{cl}/decision", {"decision": "approve",
                                                           "amount_granted": "2000"}), 400)
    decided = ok(api["leader"].post(f"/api/claims/{cl}/decision", {
        "decision": "approve", "amount_granted": "1000", "note": "按评估"}))
    assert (decided["decided_as"], decided["amount_granted"]) == ("supervising_leader", "1000.00")
    assert ok(api["head"].post(f"/api/claims/{cl}/file"))["status"] == "filed"
    error(api["head"].post("/api/claims/C-GZ-2026-000001-CL7/file"), 404, "not_found")

    meeting = {"held_at": NOW.isoformat(), "responsible": "温嘉欣", "solution": "统一更换管道",
               "due_at": (NOW + timedelta(days=5)).isoformat()}
    error(api["chairman"].post(f"/api/complaints/{cid}/meetings", meeting), 409, "wrong_state")
    error(api["head"].post(f"/api/complaints/{cid}/meetings", meeting), 403)
    ok(api["gm"].post(f"/api/complaints/{cid}/escalate", {"level": "group", "reason": "多户漏水"}))
    page = until_chairman(api, cid)
    assert page["routing"]["handler"]["person_id"] == "pcgz-chairman"
    held = ok(api["chairman"].post(f"/api/complaints/{cid}/meetings", meeting), 201)
    assert held["minutes_media_id"] is None
    minutes = api["chairman"].upload("minutes", cid)
    filed = ok(api["chairman"].post(f"/api/meetings/{held['id']}/minutes",
                                    {"minutes_media_id": minutes}))
    assert filed["minutes_media_id"] == minutes


def until_chairman(api, cid, timeout=10.0):
    import time
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        page = api["staff"].get(f"/api/complaints/{cid}/dispatch").json()
        if page["major"] and page["routing"]["major"]:
            return page
        time.sleep(0.05)
    raise AssertionError("the escalation never reached dispatch")


def test_the_contract_lists_the_dispatch_routes(api):
    spec = ok(api["public"].get("/api/openapi.json"))
    for path in ("/api/complaints/{complaint_id}/visits", "/api/complaints/{complaint_id}/progress",
                 "/api/complaints/{complaint_id}/closure/apply",
                 "/api/complaints/{complaint_id}/claims", "/api/claims/{claim_id}/report",
                 "/api/claims/{claim_id}/decision", "/api/claims/{claim_id}/file",
                 "/api/complaints/{complaint_id}/meetings",
                 "/api/complaints/{complaint_id}/dispatch",
                 "/api/complaints/{complaint_id}/routing-preview"):
        assert path in spec["paths"], path
    error(api["public"].get("/api/complaints/C-GZ-2026-000001/dispatch"), 401)
    error(api["staff"].get("/api/complaints/C-GZ-2026-000404/dispatch"), 404, "not_found")
    assert ok(api["admin"].get("/api/dispatch/routing-errors")) == {
        "items": [], "total": 0, "limit": 20, "offset": 0}
    error(api["head"].get("/api/dispatch/routing-errors"), 403)
