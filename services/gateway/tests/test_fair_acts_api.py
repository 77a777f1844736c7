"""Issue 13's acts through the gateway's HTTP API (SPEC §4 fairness, §10):
voiding a complaint recorded by mistake, re-sending the customer's signing
link (Art. 13), and the deputy GM accepting a stated time that precedes its
receipt by more than SLA.stated_time_grace_minutes, for a blocked visit
(dispatch) and a callback (intake). Gateway, intake, dispatch and media on
the real broker, database and S3 server; the simulation clock moved by an
admin between the steps."""
from datetime import datetime, timedelta

import pytest

from services.gateway.tests.test_dispatch_api import (
    advance,
    error,
    ok,
    running_suite,  # noqa: F401 - the `api` fixture
    signed_order,
)
from services.intake.tests.helpers import form
from services.media.tests import samples
from shared.testing.polling import eventually

pytestmark = pytest.mark.integration


def of_type(events, event_type):
    return [e for e in events.received if e["type"] == event_type]


def token_of(event):
    return event["data"]["link_path"].rsplit("/", 1)[1]


# -- void (SPEC §10 POST /api/complaints/{id}/void) ------------------------------------------

def test_the_deputy_gm_voids_a_complaint_recorded_by_mistake(api, subscriber_factory):
    events = subscriber_factory("intake.events")
    cid = ok(api["spec"].post("/api/complaints", form()), 201)["id"]   # phone: a link is sent
    kept = ok(api["spec"].post("/api/complaints", form(room="3-2-1802")), 201)["id"]
    advance(api, "PT5M")
    ok(api["spec"].post(f"/api/complaints/{cid}/order/submit"))
    events.wait_for(lambda got: of_type(events, "complaint.signature_requested"))
    token = token_of(of_type(events, "complaint.signature_requested")[0])
    base = f"/api/complaints/{cid}"

    # refusals first: nothing changes
    for who in ("spec", "gm", "staff", "head"):
        error(api[who].post(f"{base}/void", {"reason": "重复登记"}), 403, "forbidden")
    assert set(error(api["deputy"].post(f"{base}/void", {}), 400, "invalid_input")["fields"]) \
        == {"reason"}
    assert set(error(api["deputy"].post(f"{base}/void", {"reason": "  ", "x": 1}), 400)[
        "fields"]) == {"reason", "x"}
    error(api["deputy"].post("/api/complaints/C-GZ-2026-999999/void", {"reason": "重复"}), 404)
    before = ok(api["staff"].get(base))
    assert before["state"] == "order_submitted" and before["void"] is None

    voided_at = advance(api, "PT3M")
    voided = ok(api["deputy"].post(f"{base}/void", {"reason": "与 " + kept + " 重复登记"}))
    assert voided["state"] == "voided" and voided["state_label"] == "已作废"
    assert voided["void"]["by"] == "centre-deputy-gm"
    assert voided["void"]["reason"].endswith("重复登记")
    assert abs(datetime.fromisoformat(voided["void"]["at"]) - voided_at) < timedelta(seconds=30)
    last = voided["timeline"][-1]
    assert (last["action"], last["from_state"], last["to_state"]) == (
        "voided", "order_submitted", "voided")
    assert last["note"] == voided["void"]["reason"] and voided["order"]["holder"] is None

    events.wait_for(lambda got: of_type(events, "complaint.voided"))
    [event] = of_type(events, "complaint.voided")
    assert event["complaint_id"] == cid and event["data"]["state"] == "voided"
    assert event["data"]["previous_state"] == "order_submitted"
    assert event["data"]["voided_by"] == "centre-deputy-gm"
    assert event["data"]["reason"] == voided["void"]["reason"]

    # it leaves every list, the audit still shows it
    listed = ok(api["staff"].get("/api/complaints"))
    assert [c["id"] for c in listed["items"]] == [kept] and listed["total"] == 1
    assert ok(api["deputy"].get("/api/complaints?assigned_to_me=true"))["total"] == 0
    only = ok(api["staff"].get("/api/complaints?state=voided"))
    assert [(c["id"], c["state_label"]) for c in only["items"]] == [(cid, "已作废")]
    assert ok(api["spec"].get(base))["state"] == "voided"

    # no step acts on it afterwards
    error(api["deputy"].post(f"{base}/order/review", {"decision": "approve"}), 409, "wrong_state")
    error(api["deputy"].post(f"{base}/void", {"reason": "再次作废"}), 409, "wrong_state")
    error(api["spec"].post(f"{base}/signing-link"), 409, "wrong_state")
    error(api["spec"].post(f"{base}/rating", {"score": 5}), 409, "wrong_state")
    error(api["gm"].post(f"{base}/escalate", {"level": "major", "reason": "x"}), 409)
    error(api["public"].get(f"/api/sign/{token}"), 409)          # its link stopped working
    after = ok(api["staff"].get(base))
    assert after["timeline"] == voided["timeline"] and after["state"] == "voided"
    events.drain(timeout=0.5)
    assert len(of_type(events, "complaint.voided")) == 1


def test_a_signed_order_cannot_be_voided(api):
    cid, _ = signed_order(api)
    refused = error(api["deputy"].post(f"/api/complaints/{cid}/void", {"reason": "重复"}), 409,
                    "wrong_state")
    assert "督办单已签发" in refused["message"]
    assert ok(api["staff"].get(f"/api/complaints/{cid}"))["state"] == "order_signed"


# -- the signing link again (Art. 13) ---------------------------------------------------------

def test_the_specialist_re_sends_the_signing_link_and_the_order_goes_ahead_unsigned(
        api, subscriber_factory):
    events = subscriber_factory("intake.events", routing_key="complaint.signature_requested")
    cid = ok(api["spec"].post("/api/complaints", form(channel="letter")), 201)["id"]
    first = events.wait_for(lambda got: len(got) == 1)[0]
    base = f"/api/complaints/{cid}"
    page = ok(api["spec"].get(base))
    signature = page["signature"]
    assert (signature["status"], signature["status_label"]) == ("pending", "客户未签名")
    assert signature["by_link"] and signature["may_resend"] and signature["links_sent"] == 1

    # the order goes ahead unsigned (Art. 13)
    ok(api["spec"].post(f"{base}/order/submit"))
    ok(api["deputy"].post(f"{base}/order/review", {"decision": "approve"}))
    signed = ok(api["gm"].post(f"{base}/order/sign", {"decision": "approve"}))
    assert signed["state"] == "order_signed" and signed["signature"]["status"] == "pending"

    error(api["head"].post(f"{base}/signing-link"), 403, "forbidden")
    resent_at = advance(api, "PT2H")
    page = ok(api["spec"].post(f"{base}/signing-link"))
    assert page["signature"]["links_sent"] == 2 and page["signature"]["may_resend"]
    assert datetime.fromisoformat(page["signature"]["link_expires_at"]) - resent_at \
        > timedelta(hours=23)
    assert page["timeline"][-1]["action"] == "signing_link_resent"
    second = events.wait_for(lambda got: len(got) == 2)[1]
    assert second["data"]["resent"] is True and second["data"]["customer_phone"] == "13812345678"
    assert token_of(second) != token_of(first)

    # the old link stops working; the new one works once
    assert "失效" in error(api["public"].get(f"/api/sign/{token_of(first)}"), 409)["message"]
    error(upload_to(api, token_of(first)), 409)
    assert ok(api["public"].get(f"/api/sign/{token_of(second)}"))["complaint_id"] == cid
    ok(api["staff"].post(f"{base}/signing-link"))                 # the centre may too
    third = events.wait_for(lambda got: len(got) == 3)[2]
    error(api["public"].get(f"/api/sign/{token_of(second)}"), 409)
    upload = upload_to(api, token_of(third))
    assert upload.status_code == 201, upload.text
    ok(api["public"].post(f"/api/sign/{token_of(third)}",
                          {"signature_media_id": upload.json()["id"]}))
    after = eventually(lambda: (lambda p: p if p["signature"]["status"] == "signed" else None)(
        api["spec"].get(base).json()))
    assert after["signature"]["status_label"] == "客户已签名"
    assert after["signature"]["may_resend"] is False
    error(api["spec"].post(f"{base}/signing-link"), 409, "wrong_state")

    visit_cid = ok(api["spec"].post("/api/complaints", form(
        channel="visit", customer_signature_media_id=api["spec"].upload("signature"))), 201)["id"]
    error(api["spec"].post(f"/api/complaints/{visit_cid}/signing-link"), 409, "wrong_state")
    error(api["spec"].post("/api/complaints/C-GZ-2026-999999/signing-link"), 404)


def upload_to(api, token):
    """The customer uploads a signature image through the link."""
    return api["public"].call("POST", f"/api/sign/{token}/media",
                              files={"file": ("签名.png", samples.PNG, "application/octet-stream")})


# -- stated times and their acceptance -----------------------------------------------------

def test_a_late_blocked_visit_and_callback_are_judged_late_unless_the_deputy_gm_accepts(
        api, subscriber_factory):
    """The issue's example: a blocked visit recorded at 14:00 stating an attempt
    just after the routing; the deputy GM accepts the stated time with a reason."""
    events = subscriber_factory("intake.events", "dispatch.events")
    cid, view = signed_order(api)                         # signed and routed at 10:10
    signed_at = datetime.fromisoformat(view["signed_at"])
    base = f"/api/complaints/{cid}"
    received = advance(api, "PT3H50M")                    # 14:00
    stated = signed_at + timedelta(minutes=5)             # 10:15
    visit = ok(api["head"].post(f"{base}/visits", {
        "outcome": "blocked", "attempted_at": stated.isoformat(), "reason": "客户拒绝开门"}), 201)
    vid = visit["id"]
    assert datetime.fromisoformat(visit["happened_at"]) == stated
    assert abs(datetime.fromisoformat(visit["recorded_at"]) - received) < timedelta(seconds=30)
    assert visit["time_acceptable"] is True and visit["time_accepted"] is None

    accept = f"{base}/acts/{vid}/accept-time"
    for who in ("spec", "gm", "staff", "head"):
        error(api[who].post(accept, {"reason": "信号差"}), 403, "forbidden")
    assert set(error(api["deputy"].post(accept, {}), 400)["fields"]) == {"reason"}
    for unknown in (f"{cid}-V9", "C-GZ-2026-999999-V1", f"{cid}-P1", "nonsense"):
        error(api["deputy"].post(f"{base}/acts/{unknown}/accept-time", {"reason": "x"}), 404)
    shown = ok(api["staff"].get(f"{base}/dispatch"))
    assert shown["time_acceptances"] == [] and shown["visits"][0]["time_acceptable"] is True

    accepted_at = advance(api, "PT10M")
    accepted = ok(api["deputy"].post(accept, {"reason": "项目地下室无信号，回到办公室补登"}))
    assert (accepted["act_id"], accepted["act_kind"], accepted["outcome"]) == (
        vid, "blocked_visit", "blocked")
    assert datetime.fromisoformat(accepted["stated_at"]) == stated
    assert datetime.fromisoformat(accepted["received_at"]) == datetime.fromisoformat(
        visit["recorded_at"])
    assert accepted["accepted_by"] == "centre-deputy-gm"
    assert abs(datetime.fromisoformat(accepted["accepted_at"]) - accepted_at) < timedelta(
        seconds=30)
    assert "已认可" in error(api["deputy"].post(accept, {"reason": "再次"}), 409)["message"]

    events.wait_for(lambda got: of_type(events, "visit.time_accepted"))
    [event] = of_type(events, "visit.time_accepted")
    data = event["data"]
    assert (data["visit_id"], data["outcome"], data["accepted_by"]) == (
        vid, "blocked", "centre-deputy-gm")
    assert datetime.fromisoformat(data["stated_at"]) == stated
    assert data["reason"] == "项目地下室无信号，回到办公室补登"

    work = ok(api["staff"].get(f"{base}/dispatch"))
    assert work["visits"][0]["time_accepted"]["reason"] == data["reason"]
    assert work["visits"][0]["time_acceptable"] is False
    assert [a["act_id"] for a in work["time_acceptances"]] == [vid]
    assert work["history"][-1]["action"] == "visit_time_accepted"
    assert work["history"][-1]["note"] == data["reason"]

    # the centre's callback, stated 50 minutes before it was recorded
    page = eventually(lambda: (lambda p: p if p["callback"]["due"] else None)(
        api["staff"].get(base).json()))
    recorded_at = advance(api, "PT1H")
    called = ok(api["staff"].post(f"{base}/callbacks", {
        "outcome": "reached", "callback_at": (recorded_at - timedelta(minutes=50)).isoformat(),
        "note": "客户同意明日上门"}), 201)
    [callback] = called["callbacks"]
    assert callback["callback_id"] == f"{cid}-CB1" and callback["time_acceptable"] is True
    events.wait_for(lambda got: of_type(events, "callback.recorded"))
    [recorded] = of_type(events, "callback.recorded")
    assert recorded["data"]["callback_id"] == f"{cid}-CB1"
    assert abs(datetime.fromisoformat(recorded["data"]["recorded_at"]) - recorded_at) \
        < timedelta(seconds=30)
    # dispatch names its copy of the callback the same
    eventually(lambda: [c["id"] for c in api["staff"].get(f"{base}/dispatch").json()[
        "callbacks"]] == [f"{cid}-CB1"])

    cb_accept = f"{base}/acts/{cid}-CB1/accept-time"
    error(api["staff"].post(cb_accept, {"reason": "x"}), 403)
    error(api["deputy"].post(f"{base}/acts/{cid}-CB2/accept-time", {"reason": "x"}), 404)
    accepted = ok(api["deputy"].post(cb_accept, {"reason": "回访电话记录可查"}))
    assert (accepted["act_id"], accepted["act_kind"]) == (f"{cid}-CB1", "callback")
    error(api["deputy"].post(cb_accept, {"reason": "再次"}), 409, "wrong_state")
    events.wait_for(lambda got: of_type(events, "callback.time_accepted"))
    [event] = of_type(events, "callback.time_accepted")
    assert event["data"]["visit_ids"] == [vid] and event["data"]["reason"] == "回访电话记录可查"
    assert event["data"]["callback_id"] == f"{cid}-CB1"
    page = ok(api["staff"].get(base))
    assert page["callbacks"][0]["time_accepted"]["reason"] == "回访电话记录可查"
    assert page["callbacks"][0]["time_acceptable"] is False
    assert page["timeline"][-1]["action"] == "callback_time_accepted"
    assert page["timeline"][-1]["note"] == "回访电话记录可查"
    assert page["dispatch"]["visits"][0]["time_accepted"]["act_id"] == vid

    # a visit stated within the grace has nothing to accept
    now = advance(api, "PT1H")
    done = ok(api["head"].post(f"{base}/visits", {
        "outcome": "done", "visited_at": (now - timedelta(minutes=25)).isoformat(),
        "plan": "更换水管", "agreed_completion_at": (now + timedelta(days=2)).isoformat(),
        "customer_signature_media_id": api["head"].upload("signature", cid)}), 201)
    assert done["time_acceptable"] is False
    within = error(api["deputy"].post(f"{base}/acts/{done['id']}/accept-time",
                                      {"reason": "x"}), 409, "wrong_state")
    assert "无需认可" in within["message"]
    events.drain(timeout=0.5)
    assert len(of_type(events, "visit.time_accepted")) == 1
    assert len(of_type(events, "callback.time_accepted")) == 1
