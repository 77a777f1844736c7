"""The service's own logic on the real test database, with the other
services' RPC proxies replaced by small fakes (nameko's worker_factory, no
broker): what a failing media or a failing commit leaves behind."""
import json
from zoneinfo import ZoneInfo

import eventlet
import pytest
from nameko.exceptions import RemoteError
from nameko.testing.services import worker_factory

from services.intake.service import IntakeService
from services.intake.tests.helpers import NOW, PROJECT, PROJECT_RECORD, SPECIALIST, form
from shared.clock import FixedClock
from shared.errors import Conflict, NotFound, Unavailable
from shared.outbox import Outbox

CONFIG = {"REGION_CODE": "GZ", "RPC_TIMEOUT": 0.2}
SIGNATURE = "M-GZ-" + "c" * 32


def remote(error):
    return RemoteError(type(error).__name__, str(error))


class FakeDispatch:
    """Answers the two directory calls intake makes."""
    service_name = "dispatch"

    def get_project(self, project_id):
        if project_id != PROJECT:
            raise remote(NotFound("unknown project"))
        return PROJECT_RECORD

    def list_people(self, role=None, project_id=None, include_inactive=False):
        return [{"id": f"the-{role}", "active": True}]


class FakeMedia:
    """A media service that can be down (never answers) or refuse binds."""
    service_name = "media"

    def __init__(self):
        self.down = False
        self.refuse = None
        self.bound = {}

    def get(self, media_id):
        return {"id": media_id, "kind": "signature", "complaint_id": None,
                "binding": self.bound.get(media_id)}

    def bind_signature(self, media_id, record_type, record_id, record_sha256, bound_by=None,
                       complaint_id=None):
        if self.down:
            eventlet.sleep(5)
        if self.refuse:
            raise remote(self.refuse)
        self.bound[media_id] = {"record_type": record_type, "record_id": record_id,
                                "record_sha256": record_sha256}
        return {"id": media_id}

    def verify_signature(self, media_id, current_record_sha256):
        bound = self.bound[media_id]["record_sha256"]
        return {"intact": bound == current_record_sha256, "bound_record_sha256": bound}


class BrokenOutbox(Outbox):
    """The transaction fails at its last write (the event)."""

    def add(self, conn, event_type, data, **kwargs):
        super().add(conn, event_type, data, **kwargs)
        raise RuntimeError("connection lost before commit")


def make_service(database, media, outbox=None):
    return worker_factory(
        IntakeService, db=database, clock=FixedClock(NOW), config=CONFIG, media=media,
        dispatch=FakeDispatch(),
        outbox=outbox or Outbox("intake", "intake", "GZ", ZoneInfo("Asia/Shanghai")))


def one(database, sql):
    with database.connection() as conn:
        return conn.execute(sql).fetchone()


def visit():
    return form(channel="visit", customer_signature_media_id=SIGNATURE)


def test_media_down_after_the_commit_leaves_a_pending_bind_that_the_timer_completes(
        clean_database):
    media = FakeMedia()
    media.down = True
    service = make_service(clean_database, media)
    complaint = service.record_complaint(SPECIALIST, visit())
    assert complaint["signature_status"] == "binding"
    binding = one(clean_database, "SELECT * FROM intake.signature_bindings")
    assert binding["state"] == "pending" and binding["attempts"] == 1
    assert "did not answer" in binding["last_error"]
    assert one(clean_database, "SELECT count(*) AS n FROM intake.outbox")["n"] == 1

    service.retry_signature_bindings()        # not due yet: nothing is tried
    assert media.bound == {}
    media.down = False
    with clean_database.transaction() as conn:   # the back-off has passed
        conn.execute("UPDATE intake.signature_bindings SET next_attempt_at = now() - interval '1s'")
    service.retry_signature_bindings()
    assert media.bound[SIGNATURE]["record_id"] == complaint["id"]
    after = service.get_complaint(SPECIALIST, complaint["id"])
    assert after["signature_status"] == "signed" and after["signature"]["bound_at"]
    assert after["timeline"][-1]["action"] == "signature_bound"
    assert service.health()["pending_signature_bindings"] == 0


def test_a_bind_media_refuses_marks_the_signature_refused(clean_database):
    media = FakeMedia()
    media.refuse = Conflict("signature already bound to visit V-1")
    service = make_service(clean_database, media)
    complaint = service.record_complaint(SPECIALIST, visit())
    assert complaint["signature_status"] == "refused"
    assert complaint["timeline"][-1]["action"] == "signature_refused"
    assert one(clean_database, "SELECT state FROM intake.signature_bindings")["state"] == "refused"


def test_a_failed_commit_stores_nothing_binds_nothing_and_leaves_a_gap(clean_database):
    media = FakeMedia()
    with pytest.raises(RuntimeError):
        service = make_service(clean_database, media, BrokenOutbox("intake", "intake", "GZ"))
        service.record_complaint(SPECIALIST, visit())
    assert media.bound == {}
    for table in ("complaints", "timeline", "signature_bindings", "outbox", "order_holders"):
        assert one(clean_database, f"SELECT count(*) AS n FROM intake.{table}")["n"] == 0, table
    # The number was taken outside the failed transaction (issue 17): a gap, never a reuse.
    made = make_service(clean_database, media).record_complaint(SPECIALIST, visit())
    assert made["id"] == "C-GZ-2026-000002"


class HeldOutbox(Outbox):
    """Holds the recording's transaction open at its last write until released."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reached, self.release = eventlet.event.Event(), eventlet.event.Event()

    def add(self, conn, event_type, data, **kwargs):
        envelope = super().add(conn, event_type, data, **kwargs)
        if not self.reached.ready():
            self.reached.send(True)
            with eventlet.Timeout(5, False):
                self.release.wait()
        return envelope


def test_a_recording_in_progress_does_not_hold_up_the_next_number(clean_database):
    """The counter row is not locked for a recording's whole transaction: a
    second recording gets its number and commits while the first is open."""
    held = HeldOutbox("intake", "intake", "GZ", ZoneInfo("Asia/Shanghai"))
    first = eventlet.spawn(make_service(clean_database, FakeMedia(), held).record_complaint,
                           SPECIALIST, form())
    held.reached.wait()
    started = eventlet.hubs.get_hub().clock()
    second = make_service(clean_database, FakeMedia()).record_complaint(SPECIALIST, form())
    waited = eventlet.hubs.get_hub().clock() - started
    held.release.send(True)
    assert first.wait()["id"] == "C-GZ-2026-000001"
    assert second["id"] == "C-GZ-2026-000002"
    assert waited < 2.5, f"the second recording waited {waited:.1f} s for the first"


def test_a_directory_that_does_not_answer_refuses_the_step(clean_database):
    class SlowDispatch(FakeDispatch):
        def list_people(self, role=None, project_id=None, include_inactive=False):
            eventlet.sleep(5)

    media = FakeMedia()
    service = make_service(clean_database, media)
    cid = service.record_complaint(SPECIALIST, form())["id"]
    service.dispatch = SlowDispatch()
    with pytest.raises(Unavailable):
        service.submit_order(SPECIALIST, cid)
    assert service.get_complaint(SPECIALIST, cid)["state"] == "order_drafted"


def test_a_token_is_kept_only_as_its_hash(clean_database):
    service = make_service(clean_database, FakeMedia())
    service.record_complaint(SPECIALIST, form(channel="phone"))
    event = json.loads(one(clean_database, """SELECT body FROM intake.outbox
        WHERE routing_key = 'complaint.signature_requested'""")["body"])
    token = event["data"]["link_path"].rsplit("/", 1)[1]
    stored = one(clean_database, "SELECT token_sha256 FROM intake.customer_links")["token_sha256"]
    assert token not in stored and len(stored) == 64
    assert service.open_signing_link(token)["step"] == "record_signature"
