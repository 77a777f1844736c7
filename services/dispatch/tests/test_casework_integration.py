"""The departments' side on the real servers: dispatch and media containers
on PostgreSQL, RabbitMQ and the S3 test server; intake's events produced the
way intake produces them (its Outbox into intake.outbox, then the relay)."""
from datetime import timedelta

import eventlet
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.dispatch.tests.casework import NOW, REQUESTED, closure_event, facts_data
from services.dispatch.tests.conftest import DEMO_FILE
from services.dispatch.tests.integration import IntakeEvents, actor, until, upload
from services.media.service import MediaService
from shared.clock import SimulationClock
from shared.errors import from_remote
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

CID = "C-GZ-2026-000001"
HEAD = actor("rcgz-mkt-head", "head")


@pytest.fixture
def config(ccrm_config, s3_config):
    return dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10)


def load_demo(database, path=DEMO_FILE):
    return load_organisation(database, path, now=NOW, outbox=Outbox("dispatch", "dispatch", "GZ"))


@pytest.fixture
def suite(runner_factory, config, clean_database):
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    load_demo(clean_database)
    runner = runner_factory(config, DispatchService, MediaService)
    runner.start()
    return runner


@pytest.fixture
def dispatch(suite, config):
    with ServiceRpcProxy("dispatch", config, timeout=30) as proxy:
        yield proxy


@pytest.fixture
def media(suite, config):
    with ServiceRpcProxy("media", config, timeout=30) as proxy:
        yield proxy


@pytest.fixture
def intake(clean_database, config):
    events = IntakeEvents(clean_database, config["AMQP_URI"])
    yield events
    events.close()


@pytest.fixture
def events(subscriber_factory):
    return subscriber_factory("dispatch.events")


def error_of(caught):
    error = from_remote(caught.value.exc_type, caught.value.value)
    assert error is not None, caught.value
    return error


def state_of(database, complaint_id=CID):
    with database.connection() as conn:
        row = conn.execute("SELECT state FROM dispatch.complaints WHERE id = %s",
                           (complaint_id,)).fetchone()
    return row["state"] if row else None


def sign_order(intake, database, complaint_id=CID, occurred_at=NOW, **changes):
    data = facts_data(complaint_id=complaint_id, **changes)
    data["department_overridden"] = data["department"] is not None
    event_id = intake.publish("order.signed", data, complaint_id, occurred_at)
    until(lambda: state_of(database, complaint_id) in ("routed", "routing_failed"),
          what="the routing")
    return event_id


def of_type(received, event_type):
    return [e for e in received if e["type"] == event_type]


def test_a_signed_order_is_routed_once_however_often_it_arrives(dispatch, intake, events,
                                                                clean_database):
    event_id = sign_order(intake, clean_database, category="sales_contract")
    routed = events.wait_for(lambda got: of_type(got, "complaint.routed"))[-1]
    assert routed["complaint_id"] == CID and routed["producer"] == "dispatch"
    data = routed["data"]
    assert data["handler"] == {"person_id": "rcgz-mkt-head", "name": "冯晓东",
                               "mobile": "13802100011"}
    assert [leader["person_id"] for leader in data["leaders"]] == [
        "rcgz-vp-mkt", "rcgz-vp-design", "rcgz-vp-eng", "rcgz-vp-dev"]
    assert data["chairman"]["person_id"] == "rcgz-chairman"
    assert data["signed_at"].endswith("+08:00") and data["directory_version"] == 1

    intake.republish(event_id)  # delivered again: applied once
    # Another complaint's order behind it on the same queue: once that one is
    # routed, the copy before it has been handled too.
    sign_order(intake, clean_database, complaint_id="C-GZ-2026-000002")
    events.wait_for(lambda got: len(of_type(got, "complaint.routed")) >= 2)
    events.drain(timeout=0.5)
    assert [e["complaint_id"] for e in of_type(events.received, "complaint.routed")] == [
        CID, "C-GZ-2026-000002"]

    view = dispatch.get_complaint_view(CID)
    assert view["state"] == "routed" and view["routing"]["handler"]["person_id"] == "rcgz-mkt-head"
    assert [c["department"] for c in view["routing"]["cooperating_departments"]] == [
        "finance", "treasury"]
    assert view["completion_due_at"] == REQUESTED.astimezone(
        SimulationClock(clean_database).zone).isoformat()
    assert [h["action"] for h in view["history"]] == ["routed"]


def test_a_directory_lacking_a_head_fails_visibly_then_routes_once_filled(
        dispatch, intake, events, clean_database, demo_raw, write_org):
    demo_raw["regional_companies"][0]["departments"]["marketing"]["head"] = None
    demo_raw["people"] = [p for p in demo_raw["people"] if p["id"] != "rcgz-mkt-head"]
    load_demo(clean_database, write_org(demo_raw))  # version 2 lacks the head
    sign_order(intake, clean_database)
    failed = events.wait_for(lambda got: of_type(got, "routing.failed"))
    data = of_type(failed, "routing.failed")[0]["data"]
    assert (data["role"], data["unit_id"], data["directory_version"]) == (
        "head", "rc-gz.marketing", 2)
    [error] = dispatch.list_routing_errors()
    assert (error["complaint_id"], error["role"], error["resolved_at"]) == (CID, "head", None)
    assert dispatch.health()["routing_errors_open"] == 1
    with pytest.raises(RemoteError) as caught:
        dispatch.record_visit(actor("rcgz-vp-mkt"), CID, {
            "outcome": "blocked", "attempted_at": NOW.isoformat(), "reason": "x"})
    assert error_of(caught).status == 409  # nobody has the order yet

    assert dispatch.retry_failed_routings() == 0  # nothing changed in the directory yet
    load_demo(clean_database, write_org(demo_raw))  # version 3: still no head
    assert dispatch.retry_failed_routings() == 1
    assert [(e["directory_version"], e["resolved_by"]) for e in dispatch.list_routing_errors(
        open_only=False)] == [(3, None), (2, "superseded")]
    assert dispatch.retry_failed_routings() == 0  # once per directory load, not forever
    load_demo(clean_database)  # version 4 has the head again
    assert dispatch.retry_failed_routings() == 1
    assert state_of(clean_database) == "routed"
    routed = events.wait_for(lambda got: of_type(got, "complaint.routed"))
    assert of_type(routed, "complaint.routed")[0]["data"]["reason"] == "retry"
    assert dispatch.list_routing_errors() == []
    assert dispatch.list_routing_errors(open_only=False)[0]["resolved_by"] == f"{CID}-R1"
    assert len(of_type(events.received, "routing.failed")) == 2


def test_visit_progress_closure_and_the_closure_loop(dispatch, media, intake, events,
                                                     clean_database):
    sign_order(intake, clean_database, category="sales_contract")
    signature = upload(media, "signature", CID)
    photo = upload(media, "photo", CID)

    # Another department may not record the visit; nothing is stored.
    with pytest.raises(RemoteError) as caught:
        dispatch.record_visit(actor("rcgz-eng-head", "head"), CID, {
            "outcome": "done", "visited_at": NOW.isoformat(), "plan": "x",
            "agreed_completion_at": (NOW + timedelta(days=2)).isoformat(),
            "customer_signature_media_id": signature})
    assert error_of(caught).status == 403
    with pytest.raises(RemoteError) as caught:
        dispatch.record_visit(HEAD, CID, {"outcome": "done", "visited_at": NOW.isoformat(),
                                          "plan": "x", "agreed_completion_at": NOW.isoformat(),
                                          "customer_signature_media_id": signature})
    assert "agreed_completion_at" in error_of(caught).fields

    agreed = NOW + timedelta(days=2)
    visit = dispatch.record_visit(HEAD, CID, {
        "outcome": "done", "visited_at": (NOW - timedelta(minutes=10)).isoformat(),
        "plan": "与财务部核对退款", "agreed_completion_at": agreed.isoformat(),
        "customer_signature_media_id": signature, "photo_media_ids": [photo]})
    assert visit["id"] == f"{CID}-V1" and visit["signature_status"] == "bound"
    bound = media.get(signature)["binding"]
    assert (bound["record_type"], bound["record_id"]) == ("visit", visit["id"])
    assert dispatch.verify_record_signature(visit["id"])["intact"] is True
    recorded = of_type(events.wait_for(lambda got: of_type(got, "visit.recorded")),
                       "visit.recorded")[0]["data"]
    assert recorded["completion_due_at"] == recorded["agreed_completion_at"]

    progress = dispatch.record_progress(actor("rcgz-fin-head", "head"), CID, "已核对付款记录")
    assert progress["by_handler_department"] is False and progress["department"] == "finance"

    with pytest.raises(RemoteError) as caught:
        dispatch.apply_closure(HEAD, CID, [], None)
    assert error_of(caught).status == 400
    closure_signature = upload(media, "signature", CID)
    application = dispatch.apply_closure(HEAD, CID, [upload(media, "material", CID)],
                                         closure_signature)
    assert application["status"] == "pending" and application["signature_status"] == "bound"
    with pytest.raises(RemoteError) as caught:
        dispatch.apply_closure(HEAD, CID, [], upload(media, "signature", CID))
    assert error_of(caught).status == 409
    with pytest.raises(RemoteError) as caught:  # one signature, one record
        dispatch.record_progress(HEAD, CID, "x", [closure_signature])
    assert error_of(caught).status == 400

    later = NOW + timedelta(hours=1)
    intake.publish("closure.rejected", closure_event(
        "closure.rejected", CID, later, application["id"], reason="客户未签字确认完成"), CID, later)
    until(lambda: state_of(clean_database) == "in_progress", what="the rejection")
    second = dispatch.apply_closure(HEAD, CID, [], upload(media, "signature", CID))
    assert second["id"] == f"{CID}-A2"
    intake.publish("closure.verified", closure_event("closure.verified", CID, later,
                                                     second["id"], state="closure_verified"),
                   CID, later)
    intake.publish("complaint.closed", closure_event("complaint.closed", CID, later,
                                                     second["id"], state="closed"), CID, later)
    until(lambda: state_of(clean_database) == "closed", what="the closure")
    view = dispatch.get_complaint_view(CID)
    assert [(a["id"], a["status"]) for a in view["applications"]] == [
        (application["id"], "rejected"), (second["id"], "approved")]
    assert view["applications"][0]["rejection_reason"] == "客户未签字确认完成"

    # 再次投诉: the customer complains again; a new round waits for its order.
    reopened_at = NOW + timedelta(days=1)
    intake.publish("complaint.reopened", facts_data(
        state="order_drafted", order_round=2, signed_at=None, reason="退款未到账",
        previous_closed_at=later.isoformat()), CID, reopened_at)
    until(lambda: state_of(clean_database) == "awaiting_order", what="the reopen")
    sign_order(intake, clean_database, occurred_at=reopened_at + timedelta(hours=1),
               order_round=2)
    view = dispatch.get_complaint_view(CID)
    assert (view["order_round"], view["state"], view["routing"]["id"]) == (2, "routed",
                                                                           f"{CID}-R2")
    actions = [h["action"] for h in view["history"]]
    assert actions == ["routed", "visit_recorded", "progress_recorded", "closure_applied",
                       "closure_rejected", "closure_applied", "closure_verified", "closed",
                       "reopened", "routed"]


def test_two_applications_at_once_one_wins(dispatch, media, intake, clean_database, config):
    sign_order(intake, clean_database)
    dispatch.record_visit(HEAD, CID, {"outcome": "blocked", "attempted_at": NOW.isoformat(),
                                      "reason": "客户不在家"})
    signatures = [upload(media, "signature", CID) for _ in range(2)]

    def apply(signature):
        with ServiceRpcProxy("dispatch", config, timeout=30) as proxy:
            try:
                return proxy.apply_closure(HEAD, CID, [], signature)["id"]
            except RemoteError as exc:
                return from_remote(exc.exc_type, exc.value).status

    results = list(eventlet.GreenPool().imap(apply, signatures))
    assert sorted(map(str, results)) == ["409", f"{CID}-A1"]


def test_escalation_claims_and_the_chairmans_meeting(dispatch, media, intake, events,
                                                     clean_database):
    sign_order(intake, clean_database, category="maintenance_repair", project_id="GZ-P02")
    later = NOW + timedelta(minutes=30)
    intake.publish("complaint.escalated", facts_data(
        category="maintenance_repair", project_id="GZ-P02", escalation_level="major",
        level="major", previous_level=None, reason="业主聚集投诉"), CID, later)
    rerouted = events.wait_for(lambda got: len(of_type(got, "complaint.routed")) == 2)
    data = of_type(rerouted, "complaint.routed")[1]["data"]
    assert (data["major"], data["reason"], data["handler"]["person_id"]) == (
        True, "escalated", "pcgz-chairman")

    claim = dispatch.raise_claim(actor("p02-spec-1", "specialist"), CID, "8000", "地下室泡水损失")
    assert (claim["head_person_id"], claim["major"], claim["amount_claimed"]) == (
        "pcgz-head", True, "8000.00")
    report = upload(media, "report", CID, uploaded_by="pcgz-head")
    dispatch.report_claim(actor("pcgz-head", "head"), claim["id"], "书面报告：同意赔付部分损失",
                          report)
    with pytest.raises(RemoteError) as caught:
        dispatch.decide_claim(actor("pcgz-vp-service", "supervising_leader"), claim["id"],
                              "approve", "5000")
    assert error_of(caught).status == 403
    decided = dispatch.decide_claim(actor("pcgz-chairman", "chairman"), claim["id"], "approve",
                                    "5000.00", "按评估赔付")
    assert (decided["decided_as"], decided["amount_granted"]) == ("chairman", "5000.00")
    filed = dispatch.file_claim(actor("pcgz-head", "head"), claim["id"])
    assert filed["status"] == "filed"
    with pytest.raises(RemoteError) as caught:
        dispatch.file_claim(actor("pcgz-head", "head"), "C-GZ-2026-000001-CL9")
    assert error_of(caught).status == 404

    minutes = upload(media, "minutes", CID, uploaded_by="pcgz-chairman")
    meeting = dispatch.record_meeting(actor("pcgz-chairman", "chairman"), CID,
                                      NOW.isoformat(), "温嘉欣", "一周内完成排水改造",
                                      (NOW + timedelta(days=7)).isoformat(), minutes)
    assert meeting["minutes_media_id"] == minutes and meeting["id"] == f"{CID}-M1"
    got = events.wait_for(lambda got: of_type(got, "meeting.minutes_filed"))
    types = [e["type"] for e in got]
    for expected in ("claim.raised", "claim.reported", "claim.decided", "claim.filed",
                     "meeting.held", "meeting.minutes_filed"):
        assert types.count(expected) == 1, expected
    view = dispatch.get_complaint_view(CID)
    assert view["major"] and view["claims"][0]["status_label"] == "已报备"
    assert [r["reason"] for r in view["routings"]] == ["order_signed", "escalated"]


def test_a_step_retried_with_its_request_key_makes_one_record(dispatch, intake, events, config,
                                                               clean_database):
    """A caller retrying after a lost answer, or an RPC redelivered to another
    instance after a crash, runs the step again with the same key: one record,
    one event (found by the fault test: a progress note stored three times)."""
    sign_order(intake, clean_database, category="sales_contract")
    first = dispatch.record_progress(HEAD, CID, "已核对付款记录", request_key="k-1")
    again = dispatch.record_progress(HEAD, CID, "已核对付款记录", request_key="k-1")
    assert again == first

    def record(_):
        with ServiceRpcProxy("dispatch", config, timeout=30) as proxy:
            return proxy.record_progress(HEAD, CID, "第二次进展", request_key="k-2")["id"]

    assert len(set(eventlet.GreenPool(4).imap(record, range(4)))) == 1
    assert dispatch.record_progress(HEAD, CID, "第三次进展")["id"] != first["id"]   # no key
    with clean_database.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM dispatch.progress").fetchone()["n"] == 3
    events.wait_for(lambda got: len(of_type(got, "progress.recorded")) >= 3)
    events.drain(timeout=0.5)
    assert len(of_type(events.received, "progress.recorded")) == 3


def test_a_retry_that_waited_on_its_first_run_s_lock_answers_that_run_s_record(
        dispatch, media, intake, config, clean_database):
    """The fault test's stall: a step's first run held the complaint's lock,
    its connection stalled, the caller retried with the same key; the retry
    checked the key (nothing yet), waited on the lock, and once the first run
    committed was refused ("the visit is already recorded", a 409 the caller
    cannot act on). The key is checked again under the lock: the retry answers
    the first run's record."""
    sign_order(intake, clean_database)
    body = {"outcome": "done", "visited_at": (NOW - timedelta(minutes=10)).isoformat(),
            "plan": "与财务部核对退款",
            "agreed_completion_at": (NOW + timedelta(days=2)).isoformat(),
            "customer_signature_media_id": upload(media, "signature", CID),
            "photo_media_ids": [upload(media, "photo", CID, stage="before")]}
    results = []

    def run(_):
        with ServiceRpcProxy("dispatch", config, timeout=30) as proxy:
            try:
                results.append(proxy.record_visit(HEAD, CID, body, request_key="k-stall")["id"])
            except RemoteError as exc:
                results.append(from_remote(exc.exc_type, exc.value).status)

    with clean_database.transaction() as holder:     # the stalled first run's lock
        holder.execute("SELECT 1 FROM dispatch.complaints WHERE id = %s FOR UPDATE", (CID,))
        pool = eventlet.GreenPool()
        for n in range(2):                              # the first run and its retry
            pool.spawn(run, n)
        until(lambda: waiting_on_lock(clean_database) == 2, what="both runs at the lock")
    pool.waitall()
    assert results == [f"{CID}-V1", f"{CID}-V1"], results


def waiting_on_lock(database):
    with database.connection() as conn:
        return conn.execute("""SELECT count(*) AS n FROM pg_stat_activity
                               WHERE datname = current_database() AND wait_event_type = 'Lock'
                            """).fetchone()["n"]
