"""The intake service with the real dispatch and media services, on real
PostgreSQL, RabbitMQ and an S3-compatible server."""
import time
from datetime import timedelta

import eventlet
import psycopg
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy

from services.intake.tests.helpers import (
    DEPUTY,
    GM,
    HR,
    NOW,
    OTHER_SPECIALIST,
    SPECIALIST,
    SPECIALIST_2,
    STAFF,
    form,
)
from shared.clock import SimulationClock
from shared.errors import from_remote

pytestmark = pytest.mark.integration


def error_of(call, *args, **kwargs):
    with pytest.raises(RemoteError) as caught:
        call(*args, **kwargs)
    error = from_remote(caught.value.exc_type, caught.value.value)
    assert error is not None, caught.value
    return error


def visit_form(signature_id, **changes):
    return form(channel="visit", customer_signature_media_id=signature_id, **changes)


def rows(database, sql, **params):
    with database.connection() as conn:
        return conn.execute(sql, params).fetchall()


def test_a_visit_is_recorded_signed_and_bound(intake, media, upload_signature, demo_directory,
                                              subscriber_factory):
    events = subscriber_factory("intake.events")
    signature = upload_signature()
    complaint = intake.record_complaint(SPECIALIST, visit_form(signature))
    assert complaint["id"] == "C-GZ-2026-000001"
    assert complaint["state"] == "order_drafted" and complaint["signature_status"] == "signed"
    assert complaint["order"]["holder"]["person_id"] == "p01-spec-1"
    assert complaint["recorded_at"].endswith("+08:00")
    assert [e["action"] for e in complaint["timeline"]] == ["recorded", "order_drafted",
                                                            "signature_bound"]
    bound = media.get(signature)["binding"]
    assert (bound["record_type"], bound["record_id"]) == ("complaint", complaint["id"])

    verified = intake.verify_record_signature(STAFF, complaint["id"])
    assert verified["intact"] is True and verified["record_sha256"] == bound["record_sha256"]
    # Someone edits the signed record behind the application's back.
    with demo_directory.transaction() as conn:
        conn.execute("UPDATE intake.complaints SET demand = demand || '（改）' WHERE id = %s",
                     (complaint["id"],))
    assert intake.verify_record_signature(STAFF, complaint["id"])["intact"] is False

    received = events.wait_for(lambda got: len(got) == 1)[0]
    assert received["type"] == "complaint.received" and received["complaint_id"] == complaint["id"]
    assert received["data"]["signature_media_id"] == signature
    assert received["data"]["region_company_id"] == "rc-gz"

    # The same signature cannot confirm a second record.
    again = error_of(intake.record_complaint, SPECIALIST, visit_form(signature))
    assert again.status == 400 and "customer_signature_media_id" in again.fields


def test_bad_recordings_change_nothing(intake, upload_signature, demo_directory):
    photo_error = error_of(intake.record_complaint, SPECIALIST, visit_form("M-GZ-" + "0" * 32))
    assert "不存在" in photo_error.fields["customer_signature_media_id"][0]
    unknown = error_of(intake.record_complaint, SPECIALIST, form(project_id="GZ-P99"))
    assert unknown.status == 400 and "project_id" in unknown.fields
    assert error_of(intake.record_complaint, OTHER_SPECIALIST, form()).status == 403
    assert error_of(intake.record_complaint, STAFF, form()).status == 403
    bad = error_of(intake.record_complaint, SPECIALIST, form(customer_phone="123", bogus=1))
    assert set(bad.fields) == {"customer_phone", "bogus"}
    past = error_of(intake.record_complaint, SPECIALIST, form(
        requested_completion_at=(NOW - timedelta(days=1)).isoformat()))
    assert "requested_completion_at" in past.fields
    assert rows(demo_directory, "SELECT id FROM intake.complaints") == []
    assert rows(demo_directory, "SELECT id FROM intake.outbox") == []


def test_the_order_runs_to_the_gms_signature_with_every_event_in_order(
        intake, demo_directory, subscriber_factory):
    events = subscriber_factory("intake.events")
    clock = SimulationClock(demo_directory, cache_seconds=0)
    cid = intake.record_complaint(SPECIALIST, form(channel="letter"))["id"]

    assert error_of(intake.sign_order, GM, cid, "approve").status == 409      # never submitted
    assert error_of(intake.review_order, GM, cid, "approve").status == 403    # wrong role
    assert error_of(intake.submit_order, OTHER_SPECIALIST, cid).status == 403
    clock.advance(timedelta(minutes=20))
    intake.submit_order(SPECIALIST, cid)
    assert error_of(intake.submit_order, SPECIALIST, cid).status == 409       # twice
    assert error_of(intake.sign_order, GM, cid, "approve").status == 409      # never reviewed
    assert "reason" in error_of(intake.review_order, DEPUTY, cid, "reject").fields
    clock.advance(timedelta(minutes=10))
    intake.review_order(DEPUTY, cid, "reject", "诉求描述不清")
    clock.advance(timedelta(minutes=5))
    intake.submit_order(SPECIALIST_2, cid)
    clock.advance(timedelta(minutes=10))
    intake.review_order(DEPUTY, cid, "approve", None)
    clock.advance(timedelta(minutes=50))   # past the 60 minutes from the first submission
    signed = intake.sign_order(GM, cid, "approve", "同意", department="engineering",
                               department_reason="属工程质量问题")

    assert signed["state"] == "order_signed"
    order = signed["order"]
    assert (order["department"], order["department_reason"]) == ("engineering", "属工程质量问题")
    assert [(h["person_id"], h["role"]) for h in order["holders"]] == [
        ("p01-spec-1", "specialist"), ("centre-deputy-gm", "centre_deputy_gm"),
        ("p01-spec-1", "specialist"), ("centre-deputy-gm", "centre_deputy_gm"),
        ("centre-gm", "centre_gm")]
    assert all(h["to"] for h in order["holders"]) and order["holder"] is None
    assert [(d["step"], d["decision"]) for d in order["decisions"]] == [
        ("review", "reject"), ("review", "approve"), ("sign", "approve")]
    assert [e["action"] for e in signed["timeline"]] == [
        "recorded", "order_drafted", "order_submitted", "order_review_rejected",
        "order_submitted", "order_reviewed", "order_signed"]

    expected = ["complaint.received", "complaint.signature_requested", "order.submitted",
                "order.rejected", "order.submitted", "order.reviewed", "order.signed"]
    got = events.wait_for(lambda got: len(got) >= len(expected))
    assert [e["type"] for e in got] == expected
    assert len({e["event_id"] for e in got}) == len(expected)
    last = got[-1]["data"]
    assert last["first_submitted_at"] < last["submitted_at"] < last["reviewed_at"] \
        < last["signed_at"]
    assert [h["person_id"] for h in last["holders"]] == [
        "p01-spec-1", "centre-deputy-gm", "p01-spec-1", "centre-deputy-gm", "centre-gm"]
    assert got[3]["data"]["step"] == "review" and got[3]["data"]["reason"] == "诉求描述不清"


def test_the_customer_signs_and_rates_through_one_time_links(intake, upload_signature,
                                                             demo_directory, subscriber_factory):
    events = subscriber_factory("intake.events")
    cid = intake.record_complaint(SPECIALIST, form(channel="phone"))["id"]
    assert intake.get_complaint(STAFF, cid)["signature"]["status"] == "pending"
    requested = events.wait_for(lambda got: len(got) == 2)[1]
    assert requested["type"] == "complaint.signature_requested"
    token = requested["data"]["link_path"].rsplit("/", 1)[1]

    shown = intake.open_signing_link(token)
    assert shown["complaint_id"] == cid and shown["project_name"] == "恒大御景半岛"
    assert shown["step"] == "record_signature" and "customer_phone" not in shown
    assert intake.check_link(token)["complaint_id"] == cid
    assert error_of(intake.rate_by_link, token, 5).status == 409   # a signing link

    signature = upload_signature(complaint_id=cid, uploaded_by=None)
    signed = intake.sign_by_link(token, signature)
    assert signed["signature_status"] == "signed"
    assert error_of(intake.open_signing_link, token).status == 409   # used up
    assert error_of(intake.sign_by_link, token, signature).status == 409
    assert error_of(intake.open_signing_link, "x" * 43).status == 404
    assert intake.verify_record_signature(SPECIALIST, cid)["intact"] is True

    rating_token = signed["rating_link_path"].rsplit("/", 1)[1]
    assert intake.open_signing_link(rating_token)["step"] == "rating"
    assert intake.rate_by_link(rating_token, 4, "耐心") == {"complaint_id": cid, "score": 4}
    assert error_of(intake.rate_by_link, rating_token, 5).status == 409
    assert error_of(intake.rate_reception, SPECIALIST, cid, 5).status == 409   # once per complaint
    complaint = intake.get_complaint(SPECIALIST, cid)
    assert complaint["rating"]["score"] == 4 and complaint["rating"]["via"] == "link"
    types = [e["type"] for e in events.wait_for(lambda got: len(got) == 4)]
    assert types[2:] == ["complaint.signed", "complaint.reception_rated"]


def test_an_expired_link_is_refused(intake, demo_directory, subscriber_factory):
    events = subscriber_factory("intake.events")
    intake.record_complaint(SPECIALIST, form(channel="phone"))
    token = events.wait_for(lambda got: len(got) == 2)[1]["data"]["link_path"].rsplit("/", 1)[1]
    SimulationClock(demo_directory, cache_seconds=0).advance(timedelta(hours=25))
    expired = error_of(intake.open_signing_link, token)
    assert expired.status == 409 and "过期" in expired.message


def test_resolved_on_the_spot_then_reopened_then_escalated(intake, upload_signature,
                                                           demo_directory, subscriber_factory):
    events = subscriber_factory("intake.events")
    closed = intake.record_complaint(SPECIALIST, visit_form(upload_signature(),
                                                            resolved_on_spot=True))
    assert closed["state"] == "closed" and closed["order"] is None
    intake.rate_reception(SPECIALIST, closed["id"], 5, None)
    assert error_of(intake.escalate, GM, closed["id"], "major", "x").status == 409
    assert error_of(intake.reopen, DEPUTY, closed["id"], "再次投诉").status == 403
    reopened = intake.reopen(SPECIALIST_2, closed["id"], "客户再次来访投诉")
    assert reopened["state"] == "order_drafted" and reopened["reopen_count"] == 1
    assert reopened["order"]["order_round"] == 2 and reopened["rating"] is None
    assert reopened["order"]["holder"]["person_id"] == "p01-spec-2"
    assert error_of(intake.reopen, SPECIALIST, closed["id"], "again").status == 409
    escalated = intake.escalate(GM, closed["id"], "group", "多户同类投诉")
    assert escalated["escalation"]["level"] == "group"
    assert error_of(intake.escalate, DEPUTY, closed["id"], "major", "x").status == 403
    types = [e["type"] for e in events.wait_for(lambda got: len(got) == 5)]
    assert types == ["complaint.received", "complaint.resolved_on_spot",
                     "complaint.reception_rated", "complaint.reopened", "complaint.escalated"]


def test_lists_filter_paginate_and_show_each_person_their_own(intake, demo_directory):
    first = intake.record_complaint(SPECIALIST, form())["id"]
    intake.record_complaint(SPECIALIST, form(category="leasing"))
    other_desk = intake.record_complaint(OTHER_SPECIALIST, form(project_id="GZ-P03"))["id"]
    intake.submit_order(SPECIALIST, first)

    everything = intake.list_complaints(STAFF, {})
    assert everything["total"] == 3 and len(everything["items"]) == 3
    assert [c["id"] for c in intake.list_complaints(SPECIALIST, {})["items"]] == [
        "C-GZ-2026-000002", first]
    assert [c["id"] for c in intake.list_complaints(OTHER_SPECIALIST, {})["items"]] == [other_desk]
    assert intake.list_complaints(HR, {})["total"] == 0
    assert error_of(intake.get_complaint, OTHER_SPECIALIST, first).status == 403
    assert error_of(intake.list_complaints, OTHER_SPECIALIST,
                    {"project_id": "GZ-P01"}).status == 403
    assert [c["id"] for c in intake.list_complaints(
        DEPUTY, {"assigned_to_me": True})["items"]] == [first]
    assert intake.list_complaints(STAFF, {"state": "order_submitted"})["total"] == 1
    assert intake.list_complaints(STAFF, {"category": "leasing"})["total"] == 1
    page = intake.list_complaints(STAFF, {"page": 2, "page_size": 2})
    assert (page["total"], len(page["items"]), page["page"]) == (3, 1, 2)
    assert "page_size" in error_of(intake.list_complaints, STAFF, {"page_size": 500}).fields
    assert error_of(intake.get_complaint, STAFF, "C-GZ-2026-999999").status == 404
    assert error_of(intake.get_complaint, STAFF, "'; DROP TABLE x").status == 404


def test_the_timeline_is_append_only(intake, demo_directory):
    cid = intake.record_complaint(SPECIALIST, form())["id"]
    for sql in ("UPDATE intake.timeline SET note = 'edited' WHERE complaint_id = %(id)s",
                "DELETE FROM intake.timeline WHERE complaint_id = %(id)s"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            with demo_directory.transaction() as conn:
                conn.execute(sql, {"id": cid})
    assert len(rows(demo_directory, "SELECT id FROM intake.timeline")) == 2


def test_two_steps_at_once_on_one_complaint_cannot_both_succeed(intake, suite_config,
                                                                demo_directory):
    cid = intake.record_complaint(SPECIALIST, form())["id"]

    def submit(actor):
        with ServiceRpcProxy("intake", suite_config, timeout=30) as proxy:
            try:
                return proxy.submit_order(actor, cid)["state"]
            except RemoteError as exc:
                return from_remote(exc.exc_type, exc.value).status

    results = sorted(eventlet.GreenPool(4).imap(submit, [SPECIALIST, SPECIALIST_2] * 2),
                     key=str)
    assert results == [409, 409, 409, "order_submitted"]
    assert len(rows(demo_directory, "SELECT 1 FROM intake.outbox WHERE routing_key = "
                                    "'order.submitted'")) == 1


def test_fifty_concurrent_recordings_get_fifty_ids_and_fifty_events(intake, suite_config,
                                                                    subscriber_factory):
    events = subscriber_factory("intake.events", routing_key="complaint.received")

    def record(n):
        with ServiceRpcProxy("intake", suite_config, timeout=60) as proxy:
            return proxy.record_complaint(SPECIALIST, form(room=f"1-{n:04d}"))["id"]

    made = list(eventlet.GreenPool(50).imap(record, range(50)))
    assert len(set(made)) == 50
    assert sorted(made) == [f"C-GZ-2026-{n:06d}" for n in range(1, 51)]
    got = events.wait_for(lambda got: len(got) >= 50, timeout=30)
    assert len(got) == 50 and {e["complaint_id"] for e in got} == set(made)
    assert {e["type"] for e in got} == {"complaint.received"}


def test_the_year_of_an_id_is_the_groups_local_year(intake, demo_directory):
    # 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Shanghai.
    clock = SimulationClock(demo_directory, cache_seconds=0)
    clock.set(NOW.replace(month=12, day=31, hour=17))
    made = intake.record_complaint(SPECIALIST, form(now=clock.now()))
    assert made["id"] == "C-GZ-2027-000001"


def test_health(intake):
    health = intake.health()
    assert health["status"] == "ok" and health["pending_signature_bindings"] == 0


def test_a_recording_retried_with_its_request_key_records_once(intake, demo_directory,
                                                                 suite_config, subscriber_factory):
    """A gateway killed mid-call, or an RPC redelivered to another intake
    instance, runs record_complaint again with the same key: one complaint."""
    events = subscriber_factory("intake.events", routing_key="complaint.received")
    first = intake.record_complaint(SPECIALIST, form(), request_key="k-1")
    again = intake.record_complaint(SPECIALIST, form(), request_key="k-1")
    other_person = intake.record_complaint(SPECIALIST_2, form(), request_key="k-1")
    assert again["id"] == first["id"] and other_person["id"] != first["id"]

    def record(_):
        with ServiceRpcProxy("intake", suite_config, timeout=60) as proxy:
            return proxy.record_complaint(SPECIALIST, form(), request_key="k-2")["id"]

    assert len(set(eventlet.GreenPool(4).imap(record, range(4)))) == 1
    assert len(rows(demo_directory, "SELECT id FROM intake.complaints")) == 3
    events.wait_for(lambda got: len(got) >= 3)
    events.drain(timeout=0.5)
    assert len(events.received) == 3


def test_a_signed_recording_retried_while_its_first_run_is_slow_records_once(
        intake, upload_signature, demo_directory, suite_config):
    """The fault test's latency: a recording's first run was slow, the caller
    retried with the same key; both waited on the complaint counter, the first
    committed, and the retry met the first run's signature and was refused
    ("signature already attached", a 400 the caller cannot act on). The retry
    now answers the first run's complaint."""
    signature = upload_signature()
    results = []

    def record(_):
        with ServiceRpcProxy("intake", suite_config, timeout=60) as proxy:
            try:
                results.append(proxy.record_complaint(SPECIALIST, visit_form(signature),
                                                      request_key="k-slow")["id"])
            except RemoteError as exc:
                results.append(from_remote(exc.exc_type, exc.value).fields)

    with demo_directory.transaction() as holder:        # the slow first run's counter lock
        holder.execute("""INSERT INTO intake.complaint_counters (region, year, last_number)
                          VALUES ('GZ', 2026, 0) ON CONFLICT DO NOTHING""")
        holder.execute("SELECT 1 FROM intake.complaint_counters FOR UPDATE")
        pool = eventlet.GreenPool()
        for n in range(2):
            pool.spawn(record, n)
        limit = time.monotonic() + 20
        while waiting_on_lock(demo_directory) < 2:
            assert time.monotonic() < limit, "both runs at the counter"
            time.sleep(0.05)
    pool.waitall()
    assert len(results) == 2 and results[0] == results[1], results
    assert len(rows(demo_directory, "SELECT id FROM intake.complaints")) == 1


def waiting_on_lock(database):
    with database.connection() as conn:
        return conn.execute("""SELECT count(*) AS n FROM pg_stat_activity
                               WHERE datname = current_database() AND wait_event_type = 'Lock'
                            """).fetchone()["n"]
