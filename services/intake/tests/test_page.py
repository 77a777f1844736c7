"""The complaint's page in one statement, and a step's page sent with its
writes and COMMIT (issue 17): the same page, to the byte, as the per-table
reads made it before, after every kind of step; and the statements a step
and a page read cost, counted (real database, nameko's worker_factory)."""
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from services.intake import act_repository, repository, views
from services.intake.tests.counting import COUNTS, counting
from services.intake.tests.helpers import DEPUTY, GM, NOW, SPECIALIST, STAFF, form
from services.intake.tests.test_closure_consumers import applied, blocked, routed
from services.intake.tests.test_service_units import FakeMedia, make_service
from shared.contracts.intake.vocabulary import STEP_RECORD_SIGNATURE
from shared.errors import Conflict
from shared.outbox import Outbox

ZONE = ZoneInfo("Asia/Shanghai")
GRACE = timedelta(minutes=30)


def read_per_table(database, complaint_id):
    """The page as intake read it before issue 17: one statement per table,
    the holders after the complaint, in one transaction."""
    with database.transaction() as conn:
        row = conn.execute(repository._SELECT_COMPLAINT + " WHERE id = %(id)s",
                           {"id": complaint_id}).fetchone()
        held = repository.holders_of(conn, [(row["id"], row["order_round"])])
        complaint = repository._record(repository.Complaint, row,
                                       holders=held.get(complaint_id, ()))
        binding = (repository.get_binding(conn, complaint.signature_media_id)
                   if complaint.signature_media_id else None)
        return views.dump_complaint(
            complaint, repository.timeline(conn, complaint_id),
            repository.get_rating(conn, complaint_id, complaint.order_round), binding, ZONE,
            closures=repository.closures_of(conn, complaint_id),
            callbacks=repository.callbacks_of(conn, complaint_id),
            acts=views.Acts(act_repository.time_acceptances_of(conn, complaint_id), GRACE,
                            act_repository.links_of(conn, complaint_id, STEP_RECORD_SIGNATURE)))


@pytest.fixture
def service(clean_database):
    return make_service(clean_database, FakeMedia())


def test_every_steps_page_is_the_page_the_tables_show(service, clean_database):
    def same(shown, complaint_id):
        assert shown == read_per_table(clean_database, complaint_id)
        assert shown == service.get_complaint(STAFF, complaint_id)
        return shown

    visit = same(service.record_complaint(SPECIALIST, form(
        channel="visit", customer_signature_media_id="M-GZ-" + "c" * 32)), "C-GZ-2026-000001")
    assert visit["signature"]["bound_at"] is not None            # the binding's row
    cid = same(service.record_complaint(SPECIALIST, form()), "C-GZ-2026-000002")["id"]
    assert same(service.resend_signing_link(SPECIALIST, cid), cid)["signature"]["links_sent"] == 2
    assert same(service.rate_reception(SPECIALIST, cid, 4, "耐心"), cid)["rating"]["score"] == 4
    same(service.submit_order(SPECIALIST, cid), cid)
    same(service.review_order(DEPUTY, cid, "reject", "请补充"), cid)
    same(service.submit_order(SPECIALIST, cid), cid)
    same(service.review_order(DEPUTY, cid, "approve"), cid)
    same(service.sign_order(GM, cid, "reject", "部门不对"), cid)
    same(service.review_order(DEPUTY, cid, "approve"), cid)
    assert len(same(service.sign_order(GM, cid, "approve"), cid)["order"]["holders"]) >= 5
    service.on_complaint_routed(routed(cid))
    service.on_visit_blocked(blocked(cid))
    service.clock.set(NOW + timedelta(hours=3))
    late = same(service.record_callback(SPECIALIST, cid, {
        "callback_at": (NOW + timedelta(hours=1)).isoformat(), "outcome": "reached"}), cid)
    assert late["callbacks"][0]["time_acceptable"] is True
    service.accept_callback_time(DEPUTY, cid, f"{cid}-CB1", "客户确认时间")
    assert same(service.get_complaint(STAFF, cid), cid)["callbacks"][0]["time_accepted"]
    service.on_closure_applied(applied(cid))
    same(service.verify_closure(SPECIALIST, cid, decision="reject", reason="未修好"), cid)
    service.on_closure_applied(applied(cid, "A2", at=NOW + 150 * timedelta(minutes=1)))
    same(service.verify_closure(SPECIALIST, cid, satisfaction=5, comment="好"), cid)
    same(service.review_closure(DEPUTY, cid, "approve"), cid)
    closed = same(service.approve_closure(GM, cid, "approve"), cid)
    assert closed["state"] == "closed" and len(closed["closures"]) == 2
    assert same(service.reopen(SPECIALIST, cid, "又漏水了"), cid)["order"]["order_round"] == 2
    other = service.record_complaint(SPECIALIST, form())["id"]
    same(service.submit_order(SPECIALIST, other), other)
    same(service.review_order(DEPUTY, other, "approve"), other)
    same(service.sign_order(GM, other, "approve"), other)
    same(service.escalate(GM, other, "major", "多次投诉"), other)
    mistaken = service.record_complaint(SPECIALIST, form())["id"]
    assert same(service.void_complaint(DEPUTY, mistaken, "重复登记"), mistaken)["void"]


def counted(call, *args, **kwargs):
    before = dict(COUNTS)
    result = call(*args, **kwargs)
    return result, COUNTS["statements"] - before["statements"]


def test_the_page_is_one_statement_and_a_step_sends_it_with_its_writes(service):
    cid = service.record_complaint(SPECIALIST, form())["id"]
    with counting():
        assert counted(service.get_complaint, STAFF, cid)[1] == 1
        assert counted(service.check_access, STAFF, cid)[1] == 1
        # the directory's copy (1), the lock and the holders (2), the complaint
        # with its holders and timeline entry (1), the event (1) and the page (1)
        shown, statements = counted(service.submit_order, SPECIALIST, cid)
    assert shown["state"] == "order_submitted"
    assert statements == 6                   # 16 before: a second transaction re-read it


class FailingOutbox(Outbox):
    """The server refuses the step's last write: in a pipeline the error
    comes back at the COMMIT's Sync, not at the write."""

    def add(self, conn, event_type, data, **kwargs):
        super().add(conn, event_type, data, **kwargs)
        conn.execute("SELECT 1 / 0")


def test_a_refused_step_rolls_back_and_its_connection_serves_the_next(clean_database):
    service = make_service(clean_database, FakeMedia())
    cid = service.record_complaint(SPECIALIST, form())["id"]
    with pytest.raises(Conflict):
        service.review_order(DEPUTY, cid, "approve")            # not submitted yet
    failing = make_service(clean_database, FakeMedia(),
                           FailingOutbox("intake", "intake", "GZ", ZONE))
    with pytest.raises(psycopg.errors.DivisionByZero):
        failing.submit_order(SPECIALIST, cid)
    shown = service.get_complaint(STAFF, cid)
    assert shown["state"] == "order_drafted" and len(shown["timeline"]) == 2
    with clean_database.connection() as conn:
        events = conn.execute("SELECT routing_key FROM intake.outbox ORDER BY id").fetchall()
        assert [e["routing_key"] for e in events] == ["complaint.received",
                                                     "complaint.signature_requested"]
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert service.submit_order(SPECIALIST, cid)["state"] == "order_submitted"
    assert clean_database.discarded == 0                # no connection was left mid-transaction


def test_the_complaint_its_holders_and_entries_are_written_in_one_statement(service,
                                                                        clean_database):
    cid = service.record_complaint(SPECIALIST, form())["id"]
    service.submit_order(SPECIALIST, cid)
    service.review_order(DEPUTY, cid, "reject", "请补充")
    service.submit_order(SPECIALIST, cid)
    complaint = service._steps().load(cid)
    assert len(complaint.holders) == 4
    entries = [repository.TimelineEntry(NOW + timedelta(seconds=n), "centre-gm", "centre_gm",
                                        f"note_{n}", None, None, 1, details={"n": n})
               for n in range(3)]
    ended = replace(complaint.holders[-1], held_to=NOW + timedelta(hours=1))
    changed = replace(complaint, holders=complaint.holders[:-1] + (ended,))
    with counting(), clean_database.transaction() as conn:
        before = COUNTS["statements"]
        repository.save_state(conn, changed, entries)
        assert COUNTS["statements"] - before == 1       # 1 + 4 + 3 before
    again = service._steps().load(cid)
    assert again.holders == changed.holders
    with clean_database.connection() as conn:
        rows = conn.execute("SELECT action, details FROM intake.timeline WHERE complaint_id = %s "
                            "ORDER BY id DESC LIMIT 3", (cid,)).fetchall()
    assert [(r["action"], r["details"]) for r in reversed(rows)] == [
        (f"note_{n}", {"n": n}) for n in range(3)]
