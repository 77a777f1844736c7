"""media's RPC contract (shared.contracts.media) holds both sides together:

- the typed client has the service's methods, with the same parameters;
- what the callers send (the gateway's uploads, the signature binder that
  intake and dispatch run, their `get`s) binds to the service's signature and
  loads with the contract's forms, which are the ones media loads with;
- what media answers, from the real service on the broker, the database and
  the S3 server, validates against the contract's views;
- a planted wrong field fails on either side.
"""
import base64
import hashlib
import inspect
import io
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import urllib3
from nameko.rpc import Rpc
from nameko.standalone.rpc import ServiceRpcProxy
from werkzeug.datastructures import FileStorage

from services.gateway import uploads
from services.gateway.uploads import Uploads
from services.media.service import MediaService
from services.media.tests import samples
from shared import ids
from shared.contracts.media import (
    BindRequest,
    ConfirmRequest,
    FileLinkView,
    HealthView,
    MediaClient,
    MediaView,
    UploadRequest,
    UploadTargetView,
    VerificationView,
    VerifyRequest,
    content_b64,
    is_media_id,
    writing,
)
from shared.contracts.media.writing import write_to_target
from shared.errors import InvalidInput, Unavailable
from shared.signature_binding import BindingStore, SignatureBinder
from shared.signing import record_sha256
from shared.validation import load_input

MEDIA_ID = "M-GZ-" + "0123456789abcdef" * 2
COMPLAINT = ids.complaint_id("GZ", 2026, 123)
SHA = "c" * 64

# Each method's request form: the parameters the form names (the others, the
# content and the media id, media checks itself).
FORMS = {"upload": UploadRequest, "confirm_upload": ConfirmRequest, "bind_signature": BindRequest,
         "verify_signature": VerifyRequest}


# -- the client mirrors the service ------------------------------------------

def rpc_methods(cls):
    return {name for name, member in inspect.getmembers(cls, inspect.isfunction)
            if any(isinstance(e, Rpc) for e in getattr(member, "nameko_entrypoints", ()))}


def client_methods():
    return {name for name, member in inspect.getmembers(MediaClient, inspect.isfunction)
            if not name.startswith("_") and member.__qualname__.startswith("MediaClient.")}


def parameters(function):
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def test_the_client_has_every_rpc_method_of_the_service_and_no_other():
    assert client_methods() == rpc_methods(MediaService)


@pytest.mark.parametrize("method", sorted(rpc_methods(MediaService)))
def test_each_client_method_takes_the_service_methods_parameters(method):
    assert parameters(getattr(MediaClient, method)) == parameters(getattr(MediaService, method))


def test_every_form_field_is_a_parameter_of_its_method():
    for method, form in FORMS.items():
        names = {name for name, _, _ in parameters(getattr(MediaService, method))}
        assert set(form().fields) <= names, method


# -- what the callers send ---------------------------------------------------

class Recording:
    """A proxy that records the calls the typed client makes and answers `answer`."""
    service_name = "media"

    def __init__(self, answer=None):
        self.calls = []
        self.answer = answer

    def __getattr__(self, method):
        def call(*args, **kwargs):
            self.calls.append((method, args, kwargs))
            return self.answer
        return call


def as_service_sees_it(method, args, kwargs):
    """The call bound to the service method's parameters, and its form loaded
    with the contract's form (InvalidInput if it does not load)."""
    bound = inspect.signature(getattr(MediaService, method)).bind(None, *args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop("self")
    form = FORMS.get(method)
    if form is not None:
        load_input(form, {name: arguments[name] for name in form().fields})
    return arguments


class UploadingGateway(Uploads):
    """The gateway's upload path (services/gateway/uploads.py) on a recording
    proxy, writing to a local directory as media's target says (its own pool
    of reserved places: a broker address of its own)."""

    def __init__(self, media, local_dir):
        self.media = media
        self.config = {"MEDIA": {"max_bytes": 64 * 1024, "local_dir": str(local_dir)},
                       "RPC_TIMEOUT": 2, "AMQP_URI": f"memory://{local_dir}"}


def multipart_file(content, filename):
    return FileStorage(stream=io.BytesIO(content), filename=filename, name="file")


@pytest.mark.parametrize("kind, fields", [
    ("photo", {"stage": "before", "complaint_id": COMPLAINT, "uploaded_by": "p01-spec-1",
               "step": "visit"}),
    ("signature", {"complaint_id": COMPLAINT, "step": "record_signature"}),
    ("material", {"uploaded_by": "p01-spec-1"}),
])
def test_the_gateways_uploads_load_with_medias_form(kind, fields, tmp_path):
    key = f"GZ/2026/11/{MEDIA_ID}"
    proxy = Recording(answer=[{"upload_id": MEDIA_ID, "target": {"kind": "file", "key": key},
                               "expires_at": "2099-01-01T00:00:00+08:00"}])
    gateway = UploadingGateway(proxy, tmp_path)
    gateway.store_upload(multipart_file(samples.PNG, "C:\\相册\\现场.png"), kind, **fields)
    (reserve, confirm) = [(method, as_service_sees_it(method, args, kwargs))
                          for method, args, kwargs in proxy.calls]
    assert reserve == ("reserve_uploads", {"count": uploads.RESERVE_BATCH})
    assert confirm[0] == "confirm_upload" and confirm[1]["kind"] == kind
    assert confirm[1]["upload_id"] == MEDIA_ID and confirm[1]["size"] == len(samples.PNG)
    assert confirm[1]["sha256"] == hashlib.sha256(samples.PNG).hexdigest()
    # No bytes over the broker: the file is where the target said.
    assert (tmp_path / key).read_bytes() == samples.PNG


class StoreOnTheWire(urllib3.PoolManager):
    """The S3 server as the gateway's writer meets it: records each PUT and
    answers `status` (400 with BadDigest: the body is not its Content-MD5)."""

    def __init__(self, status=200):
        super().__init__()
        self.status, self.puts = status, []

    def request(self, method, url, body=None, headers=None, **kwargs):
        self.puts.append((method, url, dict(headers or {}), body.read()))
        error = b"<Error><Code>BadDigest</Code></Error>" if self.status != 200 else b""
        return urllib3.HTTPResponse(body=error, status=self.status)


def url_place(n=1):
    return {"upload_id": f"M-GZ-{n:032x}", "expires_at": "2099-01-01T00:00:00+08:00",
            "target": {"kind": "url", "url": f"http://s3.test/ccrm-media/GZ/2026/11/{n}?X=1"}}


def test_the_gateway_puts_to_s3_with_content_md5_and_tells_media_the_md5(tmp_path,
                                                                          monkeypatch):
    wire = StoreOnTheWire()
    monkeypatch.setattr(writing, "_http", wire)
    proxy = Recording(answer=[url_place()])
    UploadingGateway(proxy, tmp_path).store_upload(multipart_file(samples.PNG, "a.png"),
                                                   "material")
    [(method, url, headers, body)] = wire.puts
    assert (method, url, body) == ("PUT", url_place()["target"]["url"], samples.PNG)
    assert headers["Content-MD5"] == base64.b64encode(hashlib.md5(samples.PNG).digest()).decode()
    [(name, args, kwargs)] = [call for call in proxy.calls if call[0] == "confirm_upload"]
    confirm = as_service_sees_it(name, args, kwargs)
    assert confirm["md5"] == hashlib.md5(samples.PNG).hexdigest()
    assert confirm["sha256"] == hashlib.sha256(samples.PNG).hexdigest()


def test_a_put_the_store_refuses_is_unavailable_and_never_confirmed(tmp_path, monkeypatch):
    monkeypatch.setattr(writing, "_http", StoreOnTheWire(status=400))
    proxy = Recording(answer=[url_place(2)])
    with pytest.raises(Unavailable):
        UploadingGateway(proxy, tmp_path).store_upload(multipart_file(samples.PNG, "a.png"),
                                                       "material")
    assert [call[0] for call in proxy.calls] == ["reserve_uploads"]


def test_the_gateway_reserves_places_a_few_at_a_time_and_drops_stale_ones(tmp_path):
    places = [{"upload_id": f"M-GZ-{n:032x}", "target": {"kind": "file",
                                                        "key": f"GZ/2026/11/M-GZ-{n:032x}"},
               "expires_at": "2099-01-01T00:00:00+08:00"} for n in range(1, 9)]
    places[2]["expires_at"] = "2020-01-01T00:00:00+08:00"          # expired while kept

    class Reserving(Recording):
        def reserve_uploads(self, count):
            self.calls.append(("reserve_uploads", (count,), {}))
            return places[:count]

    proxy = Reserving()
    gateway = UploadingGateway(proxy, tmp_path)
    for _ in range(7):
        gateway.store_upload(multipart_file(samples.PNG, "a.png"), "material")
    reserves = [c for c in proxy.calls if c[0] == "reserve_uploads"]
    confirmed = [c[1][0] for c in proxy.calls if c[0] == "confirm_upload"]
    assert len(reserves) == 1 and len(confirmed) == len(set(confirmed)) == 7
    assert places[2]["upload_id"] not in confirmed
    gateway.store_upload(multipart_file(samples.PNG, "a.png"), "material")   # the pool ran dry
    assert len([c for c in proxy.calls if c[0] == "reserve_uploads"]) == 2


def test_the_monthly_reports_upload_loads_with_medias_form():
    # penalty's call (services/penalty: the monthly report file).
    proxy = Recording()
    MediaClient(proxy).upload(content_b64(samples.CSV), "2026-11 考核报表.csv", "report",
                              uploaded_by="admin-1", step="monthly_report")
    as_service_sees_it(*proxy.calls[0])


@dataclass(frozen=True)
class PendingBinding:
    """A pending binding as intake and dispatch keep it (shared.signature_binding.Binding)."""
    media_id: str
    record_type: str
    record_id: str
    complaint_id: str | None
    record_sha256: str
    bound_by: str | None
    attempts: int = 0


class Outcomes(BindingStore):
    def __init__(self):
        self.finished, self.failures = [], []

    def claim_due(self, now, lease_until, limit):
        return []

    def finish(self, binding, refused):
        self.finished.append((binding, refused))

    def failed(self, binding, error, next_attempt_at):
        self.failures.append((binding, error))


SIGNED_RECORDS = [
    # intake: the complaint record the customer signs at the desk
    PendingBinding(MEDIA_ID, "complaint", COMPLAINT, COMPLAINT, SHA, "p01-spec-1"),
    # dispatch: a visit and a closure application (shared.ids record ids)
    PendingBinding(MEDIA_ID, "visit", ids.record_id(COMPLAINT, "visits", 1), COMPLAINT, SHA,
                   "p01-eng-1"),
    PendingBinding(MEDIA_ID, "closure_application",
                   ids.record_id(COMPLAINT, "closure_applications", 2), COMPLAINT, SHA.upper(),
                   None),
]


@pytest.mark.parametrize("binding", SIGNED_RECORDS, ids=lambda b: b.record_type)
def test_the_binders_bind_signature_loads_with_medias_form(binding):
    proxy = Recording(answer={})
    store = Outcomes()
    SignatureBinder(MediaClient(proxy), store).attempt(binding)
    [(method, args, kwargs)] = proxy.calls
    sent = as_service_sees_it(method, args, kwargs)
    assert method == "bind_signature" and is_media_id(sent["media_id"])
    assert (sent["record_id"], sent["complaint_id"]) == (binding.record_id, binding.complaint_id)
    assert store.finished == [(binding, None)]


def test_get_and_verify_send_what_the_service_takes():
    proxy = Recording()
    client = MediaClient(proxy)
    client.get(MEDIA_ID)
    client.verify_signature(MEDIA_ID, SHA)
    client.sweep_orphans(older_than_seconds=0)
    client.health()
    for call in proxy.calls:
        as_service_sees_it(*call)
    assert [c[0] for c in proxy.calls] == ["get", "verify_signature", "sweep_orphans", "health"]


@pytest.mark.parametrize("method, args, kwargs, field", [
    ("upload", ("", "a.png", "video"), {}, "kind"),
    ("upload", ("", "a.png", "photo"), {}, "stage"),
    ("upload", ("", "a.png", "material"), {"step": "visit\x00"}, "step"),
    ("confirm_upload", (MEDIA_ID, SHA, "12", "a.png", "photo"), {"stage": "before"}, "size"),
    ("confirm_upload", (MEDIA_ID, "f" * 63, 5, "a.png", "material"), {}, "sha256"),
    ("bind_signature", (MEDIA_ID, "visit", "V-1", "not-a-sha"), {}, "record_sha256"),
    ("bind_signature", (MEDIA_ID, "visit", "", SHA), {}, "record_id"),
    ("verify_signature", (MEDIA_ID, "f" * 63), {}, "current_record_sha256"),
])
def test_a_planted_wrong_request_field_fails(method, args, kwargs, field):
    with pytest.raises(InvalidInput) as caught:
        as_service_sees_it(method, args, kwargs)
    assert field in caught.value.fields


def test_a_planted_unknown_parameter_fails():
    with pytest.raises(TypeError):
        as_service_sees_it("upload", ("", "a.png", "photo"), {"stage": "before", "tags": "x"})


# -- what media answers (the real service) -----------------------------------

def valid(view, answer):
    errors = view().validate(answer)
    assert errors == {}, errors
    return answer


@pytest.fixture
def media_config(ccrm_config, s3_config):
    return dict(ccrm_config, MINIO=s3_config, MEDIA={"max_bytes": 64 * 1024})


@pytest.fixture
def media(container_factory, media_config, clean_database):
    container_factory(MediaService, media_config).start()
    with ServiceRpcProxy("media", media_config, timeout=20) as proxy:
        yield MediaClient(proxy, timeout=20)


@pytest.mark.integration
def test_medias_answers_validate_against_the_contract_views(media, media_config):
    photo = valid(MediaView, media.upload(content_b64(samples.JPEG), "现场.jpg", "photo",
                                          stage="during", complaint_id=COMPLAINT,
                                          uploaded_by="p01-spec-1", step="visit"))
    got = valid(MediaView, media.get(photo["id"]))
    assert got["url"] and got["url_expires_at"] and got["binding"] is None
    link = valid(FileLinkView, media.open_link(got["url"].removeprefix("/files/")))
    assert link["media_id"] == photo["id"] and link["source"]["kind"] == "url"

    signature = valid(MediaView, media.upload(content_b64(samples.PNG), "sig.png",
                                              "signature"))
    record = {"id": COMPLAINT, "demand": "客厅漏水",
              "at": datetime(2026, 11, 27, 2, 42, tzinfo=UTC)}
    sha = record_sha256(record)
    bound = valid(MediaView, media.bind_signature(signature["id"], "complaint", COMPLAINT, sha,
                                                  bound_by="p01-spec-1",
                                                  complaint_id=COMPLAINT))
    assert bound["binding"]["record_sha256"] == sha
    assert valid(MediaView, media.get(signature["id"]))["binding"] == bound["binding"]
    assert valid(VerificationView, media.verify_signature(signature["id"], sha))["intact"]

    [begun, _] = [valid(UploadTargetView, place) for place in media.reserve_uploads(2)]
    written = write_to_target(begun["target"], io.BytesIO(samples.PNG), len(samples.PNG),
                              media_config)
    direct = valid(MediaView, media.confirm_upload(
        begun["upload_id"], written.sha256, len(samples.PNG), "现场.png", "photo",
        stage="after", complaint_id=COMPLAINT, md5=written.md5))
    assert direct["id"] == begun["upload_id"] and direct["content_type"] == "image/png"
    files = [valid(MediaView, one) for one in media.files_of_complaint(COMPLAINT)]
    assert {one["id"] for one in files} == {photo["id"], signature["id"], direct["id"]}
    assert all(one["url"] and one["url_expires_at"] for one in files)

    report = valid(MediaView, media.upload(content_b64(samples.CSV), "r.csv", "report",
                                           uploaded_by="admin-1", step="monthly_report"))
    assert report["content_type"] == "text/csv"
    valid(HealthView, media.health())
    assert media.sweep_orphans(older_than_seconds=0) == 0


@pytest.mark.integration
def test_a_planted_wrong_answer_field_fails(media):
    answer = media.upload(content_b64(samples.PNG), "a.png", "photo", stage="after")
    valid(MediaView, answer)
    for planted in ({"colour": "red"}, {"size": "68"}, {"created_at": "2026-11-27T10:42:00"},
                    {"kind": "video"}, {"id": answer["id"] + "0"},
                    {"sha256": answer["sha256"] + "\n"}):
        assert MediaView().validate(dict(answer, **planted)), planted
    missing = {k: v for k, v in answer.items() if k != "sha256"}
    assert "sha256" in MediaView().validate(missing)
    verified = {"media_id": answer["id"], "record_type": "complaint", "record_id": COMPLAINT,
                "intact": "yes", "bound_record_sha256": SHA, "current_record_sha256": SHA}
    assert "intact" in VerificationView().validate(verified)
