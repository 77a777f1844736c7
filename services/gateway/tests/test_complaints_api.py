"""End to end through the gateway's HTTP API (SPEC §10): gateway, intake,
dispatch and media running on the real broker, database and S3 server; the
simulation clock moved between the order's steps by an admin."""
import time
import uuid
from datetime import datetime, timedelta

import eventlet
import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY
from nameko.rpc import RpcProxy, rpc

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


def test_record_submit_review_sign_with_every_event_once_and_in_order(api, subscriber_factory):
    events = subscriber_factory("intake.events")
    uploaded = api["spec"].upload_signature(kind="signature")
    assert uploaded.status_code == 201, uploaded.text
    created = api["spec"].post("/api/complaints", form(
        channel="visit", customer_signature_media_id=uploaded.json()["id"]))
    assert created.status_code == 201, created.text
    complaint = created.json()
    cid = complaint["id"]
    assert cid == "C-GZ-2026-000001" and complaint["state"] == "order_drafted"
    assert complaint["signature_status"] == "signed"

    submitted_at = advance(api, "PT20M")
    assert api["spec"].post(f"/api/complaints/{cid}/order/submit").json()["state"] == \
        "order_submitted"
    reviewed_at = advance(api, "PT25M")
    review = api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    assert review.status_code == 200 and review.json()["state"] == "order_reviewed"
    signed_at = advance(api, "PT50M")
    sign = api["gm"].post(f"/api/complaints/{cid}/order/sign", {
        "decision": "approve", "reason": "同意派单", "department": "property",
        "department_reason": "物业维保范围"})
    assert sign.status_code == 200, sign.text

    # dispatch routes the signed order; intake keeps who answers for it
    shown = eventually(lambda: (lambda c: c if c["handler_id"] else None)(
        api["staff"].get(f"/api/complaints/{cid}").json()))
    assert shown["state"] == "order_signed" and shown["order"]["department"] == "property"
    assert shown["handler_id"] == "pcgz-head" and shown["responsibility"]["unit_id"] == "pc-gz"
    assert [(h["role"], h["person_id"]) for h in shown["order"]["holders"]] == [
        ("specialist", "p01-spec-1"), ("centre_deputy_gm", "centre-deputy-gm"),
        ("centre_gm", "centre-gm")]
    assert [e["action"] for e in shown["timeline"]] == [
        "recorded", "order_drafted", "signature_bound", "order_submitted", "order_reviewed",
        "order_signed", "routed"]
    assert api["staff"].get(f"/api/complaints/{cid}/signature/verify").json()["intact"] is True

    path = ["complaint.received", "order.submitted", "order.reviewed", "order.signed"]
    got = events.wait_for(lambda got: len(got) >= len(path))
    events.drain(timeout=0.5)                     # anything extra would show up now
    assert [e["type"] for e in events.received] == path
    assert len({e["event_id"] for e in events.received}) == len(path)
    assert all(e["complaint_id"] == cid and e["producer"] == "intake" for e in got)
    occurred = [datetime.fromisoformat(e["occurred_at"]) for e in got]
    assert occurred == sorted(occurred)
    for when, event in ((submitted_at, got[1]), (reviewed_at, got[2]), (signed_at, got[3])):
        assert abs(datetime.fromisoformat(event["occurred_at"]) - when) < timedelta(seconds=30)
    signed_data = got[3]["data"]
    assert signed_data["department"] == "property" and signed_data["department_overridden"]
    assert datetime.fromisoformat(signed_data["signed_at"]) - datetime.fromisoformat(
        signed_data["first_submitted_at"]) >= timedelta(minutes=75)


def test_refusals_have_the_error_body_and_change_nothing(api):
    cid = api["spec"].post("/api/complaints", form()).json()["id"]

    error(api["public"].get("/api/complaints"), 401, "unauthenticated")
    error(Api(api["spec"].base, "not-a-token").get(f"/api/complaints/{cid}"), 401)
    error(api["deputy"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"}),
          403, "forbidden")
    error(api["other_spec"].post(f"/api/complaints/{cid}/order/submit"), 403, "forbidden")
    error(api["spec"].post("/api/complaints", form(project_id="GZ-P03")), 403)
    conflict = error(api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"}),
                     409, "wrong_state")
    assert "提交" in conflict["message"]

    malformed = api["spec"].call("POST", "/api/complaints", data=b'{"room": ',
                                 headers={"Content-Type": "application/json"})
    assert "_body" in error(malformed, 400, "invalid_input")["fields"]
    unknown = error(api["spec"].post("/api/complaints", form(state="closed")), 400)
    assert unknown["fields"] == {"state": ["不允许的字段 (unknown field)"]}
    bad = error(api["spec"].post("/api/complaints", form(customer_phone="12345", room="",
                                                         demand="x" * 2001)), 400)
    assert {"customer_phone", "room", "demand"} <= set(bad["fields"])
    future = error(api["spec"].post("/api/complaints", form(
        contact_ended_at=(NOW + timedelta(hours=2)).isoformat())), 400)
    assert "contact_ended_at" in future["fields"]
    reject = error(api["deputy"].post(f"/api/complaints/{cid}/order/review",
                                      {"decision": "reject"}), 400)
    assert "reason" in reject["fields"]
    error(api["staff"].get("/api/complaints/C-GZ-2026-999999"), 404, "not_found")

    listed = api["staff"].get("/api/complaints").json()
    assert listed["total"] == 1 and listed["items"][0]["state"] == "order_drafted"
    assert "page_size" in error(api["staff"].get("/api/complaints?page_size=1000"), 400)["fields"]
    assert "bogus" in error(api["staff"].get("/api/complaints?bogus=1"), 400)["fields"]


def test_one_refused_recording_names_every_field_with_its_code(api):
    """Issue 16 item 3: shape, signature and both times in the first 400
    (the gateway checks the times on its clock, as intake does)."""
    bad = error(api["spec"].post("/api/complaints", form(
        channel="visit", customer_phone="12345", category=None, room="x" * 41,
        requested_completion_at=(NOW - timedelta(hours=1)).isoformat(),
        contact_ended_at=(NOW + timedelta(hours=2)).isoformat())), 400, "invalid_input")
    codes = {name: [e["code"] for e in errors] for name, errors in bad["field_errors"].items()}
    assert codes == {"customer_phone": ["phone"], "category": ["null"], "room": ["too_long"],
                     "customer_signature_media_id": ["signature_needed"],
                     "requested_completion_at": ["in_future"],
                     "contact_ended_at": ["not_in_future"]}
    assert bad["field_errors"]["room"][0]["params"] == {"max": 40}
    assert set(bad["fields"]) == set(codes)          # the messages themselves stay
    # what only intake can check (the project, the signature's media) also comes at once
    unknown = error(api["spec"].post("/api/complaints", form(
        project_id="GZ-NOPE", channel="visit",
        customer_signature_media_id="M-GZ-" + "a" * 32)), 400)
    assert {n: [e["code"] for e in v] for n, v in unknown["field_errors"].items()} == {
        "project_id": ["unknown_project"], "customer_signature_media_id": ["no_media"]}
    assert api["staff"].get("/api/complaints").json()["total"] == 0


def test_script_in_a_demand_comes_back_as_text(api):
    demand = "<script>alert(1)</script>'); DROP TABLE intake.complaints;--"
    cid = api["spec"].post("/api/complaints", form(demand=demand)).json()["id"]
    response = api["staff"].get(f"/api/complaints/{cid}")
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["demand"] == demand


def test_a_repeated_recording_with_one_idempotency_key_records_once(api):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api["spec"].post("/api/complaints", form(), headers=key)
    second = api["spec"].post("/api/complaints", form(), headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert api["staff"].get("/api/complaints").json()["total"] == 1


def test_the_customer_signs_and_rates_through_the_public_link(api, subscriber_factory):
    events = subscriber_factory("intake.events", routing_key="complaint.signature_requested")
    cid = api["spec"].post("/api/complaints", form(channel="phone")).json()["id"]
    token = events.wait_for(lambda got: len(got) == 1)[0]["data"]["link_path"].rsplit("/", 1)[1]

    shown = api["public"].get(f"/api/sign/{token}")
    assert shown.status_code == 200 and shown.json()["complaint_id"] == cid
    uploaded = api["public"].upload_signature(f"/api/sign/{token}/media")
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["complaint_id"] == cid and uploaded.json()["kind"] == "signature"
    signed = api["public"].post(f"/api/sign/{token}", {"signature_media_id": uploaded.json()["id"]})
    assert signed.status_code == 200, signed.text
    error(api["public"].post(f"/api/sign/{token}", {"signature_media_id": uploaded.json()["id"]}),
          409)
    error(api["public"].upload_signature(f"/api/sign/{token}/media"), 409)
    error(api["public"].get("/api/sign/" + "n" * 43), 404)

    rating_token = signed.json()["rating_link_path"].rsplit("/", 1)[1]
    error(api["public"].post(f"/api/sign/{rating_token}/rating", {"score": 9}), 400)
    rated = api["public"].post(f"/api/sign/{rating_token}/rating", {"score": 5, "comment": "好"})
    assert rated.status_code == 200, rated.text
    error(api["spec"].post(f"/api/complaints/{cid}/rating", {"score": 4}), 409)
    shown = api["spec"].get(f"/api/complaints/{cid}").json()
    assert shown["signature_status"] == "signed" and shown["rating"]["score"] == 5


def test_reopen_and_escalate_over_http(api):
    signature = api["spec"].upload_signature(kind="signature").json()["id"]
    cid = api["spec"].post("/api/complaints", form(
        channel="visit", customer_signature_media_id=signature, resolved_on_spot=True)).json()["id"]
    error(api["spec"].post(f"/api/complaints/{cid}/reopen", {}), 400)
    reopened = api["spec2"].post(f"/api/complaints/{cid}/reopen", {"reason": "客户再次投诉"})
    assert reopened.status_code == 200 and reopened.json()["reopen_count"] == 1
    error(api["deputy"].post(f"/api/complaints/{cid}/escalate",
                             {"level": "major", "reason": "x"}), 403)
    escalated = api["gm"].post(f"/api/complaints/{cid}/escalate",
                               {"level": "common_issue", "reason": "同类问题多发"})
    assert escalated.status_code == 200 and escalated.json()["escalation_level"] == "common_issue"


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
