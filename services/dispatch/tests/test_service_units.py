"""The dispatch service's entrypoints with nameko's worker_factory, on the real
test database, with a fake media service (nothing else is faked)."""
from datetime import timedelta

import pytest
from nameko.exceptions import RemoteError
from nameko.testing.services import worker_factory

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.dispatch.tests.casework import NOW, TABLE, envelope_body, facts_data
from services.dispatch.tests.conftest import DEMO_FILE
from shared.clock import FixedClock
from shared.errors import Conflict, InvalidInput, NotFound, Unavailable
from shared.outbox import Outbox

CID = "C-GZ-2026-000001"
HEAD = {"person_id": "rcgz-mkt-head", "roles": ["head"], "kind": "person"}


class FakeMediaProxy:
    """Answers the media RPCs dispatch makes; `down` fails them like a dead
    service, `without_get_many` like a media deployed before get_many. `calls`
    names each RPC made."""
    service_name = "media"

    def __init__(self):
        self.objects = {}
        self.down = False
        self.without_get_many = False
        self.binds = []
        self.calls = []

    def add(self, media_id, kind):
        self.objects[media_id] = {"id": media_id, "kind": kind, "complaint_id": None,
                                  "binding": None}
        return media_id

    def get(self, media_id):
        self.calls.append("get")
        if self.down:
            raise Unavailable("media is down")
        if media_id not in self.objects:
            raise NotFound(f"no media {media_id}")
        return self.objects[media_id]

    def get_many(self, media_ids):
        self.calls.append("get_many")
        if self.without_get_many:
            raise RemoteError("MethodNotFound", "get_many")
        if self.down:
            raise Unavailable("media is down")
        return [self.objects.get(media_id) for media_id in media_ids]

    def bind_signature(self, media_id, record_type, record_id, record_sha256, bound_by=None,
                       complaint_id=None):
        self.calls.append("bind_signature")
        if self.down:
            raise Unavailable("media is down")
        media = self.objects[media_id]
        if media["binding"] and media["binding"]["record_id"] != record_id:
            raise Conflict("already bound")
        media["binding"] = {"record_type": record_type, "record_id": record_id,
                            "record_sha256": record_sha256}
        self.binds.append(record_id)
        return media


@pytest.fixture
def service(clean_database):
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    media = FakeMediaProxy()
    worker = worker_factory(DispatchService, db=clean_database, clock=FixedClock(NOW),
                            outbox=Outbox("dispatch", "dispatch", "GZ"), routing_table=TABLE,
                            media=media, config={"RPC_TIMEOUT": 2})
    return worker, media


def outbox_types(database):
    with database.connection() as conn:
        return [row["routing_key"] for row in conn.execute(
            "SELECT routing_key FROM dispatch.outbox ORDER BY id")]


def test_an_order_signed_event_applies_once(service, clean_database):
    worker, _ = service
    body = envelope_body("order.signed", dict(facts_data(), department_overridden=False), CID)
    worker.on_order_signed(body)
    worker.on_order_signed(body)  # redelivered
    assert outbox_types(clean_database) == ["directory.loaded", "complaint.routed"]
    assert worker.get_complaint_view(CID)["state"] == "routed"


def test_a_bind_that_fails_after_the_commit_is_retried(service, clean_database):
    worker, media = service
    worker.on_order_signed(envelope_body("order.signed", dict(
        facts_data(), department_overridden=False), CID))
    signature = media.add("M-GZ-" + "a" * 32, "signature")

    real_get = media.get
    media.get = lambda media_id: dict(real_get(media_id))  # answers the check, then dies
    original_bind = media.bind_signature

    def dead_bind(*args, **kwargs):
        raise Unavailable("media went down")
    media.bind_signature = dead_bind
    visit = worker.record_visit(HEAD, CID, {
        "outcome": "done", "visited_at": NOW.isoformat(), "plan": "维修",
        "agreed_completion_at": (NOW + timedelta(days=1)).isoformat(),
        "customer_signature_media_id": signature})
    assert visit["signature_status"] == "pending"  # the visit stands; the bind waits
    assert "visit.recorded" in outbox_types(clean_database)

    media.bind_signature = original_bind
    with clean_database.transaction() as conn:  # due now (retries wait on real time)
        conn.execute("UPDATE dispatch.signature_bindings SET next_attempt_at = now()")
    worker.retry_signature_bindings()
    assert media.binds == [visit["id"]]
    page = worker.get_complaint_view(CID)
    assert page["visits"][0]["signature_status"] == "bound"


def test_media_down_refuses_the_step_and_stores_nothing(service, clean_database):
    worker, media = service
    worker.on_order_signed(envelope_body("order.signed", dict(
        facts_data(), department_overridden=False), CID))
    media.down = True
    with pytest.raises(Unavailable):
        worker.apply_closure(HEAD, CID, [], "M-GZ-" + "b" * 32)
    assert worker.get_complaint_view(CID)["history"][-1]["action"] == "routed"


def test_health_reports_the_worklists(service):
    worker, _ = service
    health = worker.health()
    assert health["status"] == "ok" and health["routing_errors_open"] == 0
    assert health["routing_table"]["categories"] == 13


def _visit_with_photos(worker, media, photos):
    signature = media.add("M-GZ-" + "a" * 32, "signature")
    photo_ids = [media.add("M-GZ-" + f"{n:x}" * 32, "photo") for n in range(1, photos + 1)]
    media.calls.clear()
    return worker.record_visit(HEAD, CID, {
        "outcome": "done", "visited_at": NOW.isoformat(), "plan": "维修",
        "agreed_completion_at": (NOW + timedelta(days=1)).isoformat(),
        "customer_signature_media_id": signature, "photo_media_ids": photo_ids})


@pytest.mark.parametrize("photos", [0, 1, 3])
def test_a_visit_asks_media_once_for_its_files_then_binds(service, photos):
    worker, media = service
    worker.on_order_signed(envelope_body("order.signed", dict(
        facts_data(), department_overridden=False), CID))
    visit = _visit_with_photos(worker, media, photos)
    assert visit["signature_status"] == "bound"
    assert media.calls == ["get_many", "bind_signature"]


def test_a_media_without_get_many_is_asked_once_per_file(service):
    worker, media = service
    worker.on_order_signed(envelope_body("order.signed", dict(
        facts_data(), department_overridden=False), CID))
    media.without_get_many = True
    visit = _visit_with_photos(worker, media, 2)
    assert visit["signature_status"] == "bound"
    assert media.calls == ["get_many", "get", "get", "get", "bind_signature"]


def test_an_unknown_file_among_several_is_named_in_the_refusal(service):
    worker, media = service
    worker.on_order_signed(envelope_body("order.signed", dict(
        facts_data(), department_overridden=False), CID))
    signature = media.add("M-GZ-" + "a" * 32, "signature")
    with pytest.raises(InvalidInput) as refused:
        worker.record_visit(HEAD, CID, {
            "outcome": "done", "visited_at": NOW.isoformat(), "plan": "维修",
            "agreed_completion_at": (NOW + timedelta(days=1)).isoformat(),
            "customer_signature_media_id": signature,
            "photo_media_ids": ["M-GZ-" + "c" * 32]})
    assert "photo_media_ids" in str(refused.value.fields)
    assert worker.get_complaint_view(CID)["history"][-1]["action"] == "routed"
