"""End to end through the gateway's HTTP API (SPEC §10): gateway, intake,
dispatch and media running on the real broker, database and S3 server; the
simulation clock moved between the order's steps by an admin. The complaint's
page, the callback and the closure loop: test_complaint_page_api."""
import uuid
from datetime import datetime, timedelta

import pytest

from services.gateway.tests.complaints_suite import (
    Api,
    advance,
    error,
    running_suite,  # noqa: F401 - the `api` fixture
)
from services.intake.tests.helpers import NOW, form
from shared.testing.polling import eventually

pytestmark = pytest.mark.integration


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
