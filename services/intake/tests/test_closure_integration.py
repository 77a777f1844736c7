"""The centre's side of the closure loop with the real dispatch service: the
routing reaches intake, a blocked visit makes a callback due, the department's
application starts the loop, and every rejection goes where it should
(real PostgreSQL, RabbitMQ and S3 server)."""
import base64
import time
from datetime import timedelta

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy

from services.intake.tests.helpers import (
    DEPUTY,
    GM,
    OTHER_SPECIALIST,
    SPECIALIST,
    SPECIALIST_2,
    STAFF,
    form,
)
from services.media.tests import samples
from shared import roles
from shared.clock import SimulationClock
from shared.errors import from_remote

pytestmark = pytest.mark.integration

HEAD = {"person_id": "pcgz-head", "roles": [roles.HEAD], "project_ids": [], "unit_id": "pc-gz"}
OTHER_HEAD = {"person_id": "rcgz-fin-head", "roles": [roles.HEAD], "project_ids": [],
              "unit_id": "rc-gz.finance"}


def error_of(call, *args, **kwargs):
    with pytest.raises(RemoteError) as caught:
        call(*args, **kwargs)
    error = from_remote(caught.value.exc_type, caught.value.value)
    assert error is not None, caught.value
    return error


def eventually(check, timeout=10.0):
    """Poll until `check()` is truthy: dispatch's news arrives asynchronously."""
    limit = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > limit:
            raise AssertionError(f"not reached in {timeout}s: {check}")
        time.sleep(0.05)


@pytest.fixture
def dispatch(suite, suite_config):
    with ServiceRpcProxy("dispatch", suite_config, timeout=30) as proxy:
        yield proxy


@pytest.fixture
def clock(demo_directory):
    return SimulationClock(demo_directory, cache_seconds=0)


@pytest.fixture
def upload(media):
    def store(kind, complaint_id):
        return media.upload(base64.b64encode(samples.PNG).decode(), f"{kind}.png", kind,
                            complaint_id=complaint_id, uploaded_by="pcgz-head")["id"]
    return store


def signed_and_routed(intake, clock):
    """A complaint signed by the GM and routed by dispatch to the property company."""
    cid = intake.record_complaint(SPECIALIST, form())["id"]
    clock.advance(timedelta(minutes=10))
    intake.submit_order(SPECIALIST, cid)
    intake.review_order(DEPUTY, cid, "approve", None)
    intake.sign_order(GM, cid, "approve", None)
    return eventually(lambda: (lambda c: c if c["handler_id"] else None)(
        intake.get_complaint(STAFF, cid)))


def state_of(intake, cid):
    return intake.get_complaint(STAFF, cid)["state"]


def test_the_routing_reaches_intake_and_the_handler_finds_and_sees_the_complaint(
        intake, clock):
    complaint = signed_and_routed(intake, clock)
    cid = complaint["id"]
    assert complaint["state"] == "order_signed" and complaint["handler_id"] == "pcgz-head"
    responsibility = complaint["responsibility"]
    assert responsibility["department"] == "property"
    assert responsibility["handler"]["name"] == "温嘉欣"
    assert responsibility["routed_at"].endswith("+08:00")
    assert complaint["timeline"][-1]["action"] == "routed"
    # The handler sees it, and finds it among what waits on them; another head does not.
    assert intake.get_complaint(HEAD, cid)["id"] == cid
    assert [c["id"] for c in intake.list_complaints(HEAD, {"assigned_to_me": True})["items"]] \
        == [cid]
    assert intake.list_complaints(HEAD, {})["total"] == 1
    assert error_of(intake.get_complaint, OTHER_HEAD, cid).status == 403
    assert intake.list_complaints(OTHER_HEAD, {})["total"] == 0


def test_a_blocked_visit_then_the_closure_loop_with_every_rejection(
        intake, dispatch, upload, clock, subscriber_factory):
    events = subscriber_factory("intake.events", "dispatch.events")
    cid = signed_and_routed(intake, clock)["id"]

    # Art. 23: the customer blocks the visit; the centre owes a callback.
    assert error_of(intake.record_callback, STAFF, cid, {"outcome": "reached"}).status == 409
    clock.advance(timedelta(minutes=20))
    dispatch.record_visit(HEAD, cid, {"outcome": "blocked", "reason": "客户拒绝开门",
                                      "attempted_at": clock.now().isoformat()})
    due = eventually(lambda: (lambda c: c if c["callback"]["due"] else None)(
        intake.get_complaint(STAFF, cid)))
    assert due["state"] == "order_signed" and len(due["callback"]["visit_ids"]) == 1
    assert intake.list_complaints(STAFF, {"callback_due": True})["total"] == 1
    assert [c["id"] for c in intake.list_complaints(
        STAFF, {"assigned_to_me": True})["items"]] == [cid]
    assert error_of(intake.record_callback, HEAD, cid, {"outcome": "reached"}).status == 403
    assert "outcome" in error_of(intake.record_callback, STAFF, cid, {"outcome": "?"}).fields
    clock.advance(timedelta(minutes=15))
    called = intake.record_callback(STAFF, cid, {"outcome": "reached",
                                                 "note": "客户同意改日上门"})
    assert called["callback"]["due"] is False
    assert called["callbacks"][0]["called_role"] == "centre_staff"

    # Verification before any application is out of order.
    assert error_of(intake.verify_closure, SPECIALIST, cid, 5).status == 409

    # Art. 28: the department applies; the specialist rejects: the work goes back.
    first = dispatch.apply_closure(HEAD, cid, [upload("material", cid)],
                                   upload("signature", cid))["id"]
    eventually(lambda: state_of(intake, cid) == "closure_applied")
    assert [c["id"] for c in intake.list_complaints(
        SPECIALIST, {"assigned_to_me": True})["items"]] == [cid]
    assert error_of(intake.review_closure, DEPUTY, cid, "approve").status == 409
    assert error_of(intake.verify_closure, OTHER_SPECIALIST, cid, 5).status == 403
    assert error_of(intake.verify_closure, DEPUTY, cid, 5).status == 403
    assert "reason" in error_of(intake.verify_closure, SPECIALIST, cid, 2, None, "reject").fields
    back = intake.verify_closure(SPECIALIST, cid, 2, "仍漏水", "reject", "客户反映仍在漏水")
    assert back["state"] == "order_signed" and back["closure"] is None
    assert back["closures"][0]["status"] == "rejected"
    eventually(lambda: dispatch.get_complaint_view(cid)["state"] == "visit_blocked")

    # The department applies again; review and approval each send it back one step.
    second = dispatch.apply_closure(HEAD, cid, [], upload("signature", cid))["id"]
    eventually(lambda: state_of(intake, cid) == "closure_applied")
    verified = intake.verify_closure(SPECIALIST_2, cid, 5, "已修好")
    assert verified["closure"]["application_id"] == second
    assert verified["closure"]["holder_id"] == "centre-deputy-gm"
    eventually(lambda: dispatch.get_complaint_view(cid)["applications"][-1]["status"]
               == "verified")
    assert error_of(intake.approve_closure, GM, cid, "approve").status == 409
    assert intake.review_closure(DEPUTY, cid, "reject", "回访记录过简")["state"] == \
        "closure_applied"
    # back to verification only: the department's application stays open
    eventually(lambda: (lambda v: v["applications"][-1]["status"] == "pending"
                        and v["state"] == "closure_applied")(dispatch.get_complaint_view(cid)))
    intake.verify_closure(SPECIALIST_2, cid, 4, "客户确认已修复")
    intake.review_closure(DEPUTY, cid, "approve")
    assert error_of(intake.review_closure, DEPUTY, cid, "approve").status == 409
    assert intake.approve_closure(GM, cid, "reject", "缺维修后照片")["state"] == "closure_verified"
    intake.review_closure(DEPUTY, cid, "approve", "已补充")
    assert error_of(intake.approve_closure, DEPUTY, cid, "approve").status == 403
    closed = intake.approve_closure(GM, cid, "approve", "同意结案")
    assert closed["state"] == "closed" and closed["closed_at"]
    assert closed["closure"]["status"] == "approved" and closed["closure"]["satisfaction"] == 4
    assert [(x["application_id"], x["status"]) for x in closed["closures"]] == [
        (first, "rejected"), (second, "approved")]
    assert [e["action"] for e in closed["timeline"]][-12:] == [
        "visit_blocked", "callback_recorded", "closure_applied", "closure_verify_rejected",
        "closure_applied", "closure_verified", "closure_review_rejected", "closure_verified",
        "closure_reviewed", "closure_approve_rejected", "closure_reviewed", "closure_approved"]
    eventually(lambda: dispatch.get_complaint_view(cid)["state"] == "closed")

    intake_path = ["complaint.received", "complaint.signature_requested", "order.submitted",
                   "order.reviewed", "order.signed", "callback.recorded", "closure.rejected",
                   "closure.verified", "closure.rejected", "closure.verified",
                   "closure.reviewed", "closure.rejected", "closure.reviewed",
                   "complaint.closed"]
    dispatch_path = ["complaint.routed", "visit.blocked", "closure.applied", "closure.applied"]

    def mine(got, producer):
        return [e for e in got if e["complaint_id"] == cid and e["producer"] == producer]
    got = events.wait_for(lambda got: len(mine(got, "intake")) >= len(intake_path)
                          and len(mine(got, "dispatch")) >= len(dispatch_path))
    events.drain(timeout=0.5)
    got = events.received
    assert [e["type"] for e in mine(got, "intake")] == intake_path
    assert [e["type"] for e in mine(got, "dispatch")] == dispatch_path
    assert len({e["event_id"] for e in got}) == len(got)
    rejections = [e["data"] for e in mine(got, "intake") if e["type"] == "closure.rejected"]
    assert [(r["stage"], r["returned_to"], r["application_rejected"]) for r in rejections] == [
        ("verify", "department", True), ("review", "verify", False),
        ("approve", "review", False)]
    assert [r["application_id"] for r in rejections] == [first, second, second]
