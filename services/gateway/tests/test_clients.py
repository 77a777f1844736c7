"""The gateway's way to the services (clients.Clients) and its one upload
path (uploads.Uploads), without a broker: proxies that answer in process."""
import io

import eventlet
import pytest
from werkzeug.datastructures import FileStorage

from services.gateway.clients import SERVICE_CLIENTS, Clients
from services.gateway.service import DEPLOYED_SERVICES, GatewayService
from services.gateway.uploads import Uploads
from shared.contracts.dispatch import DispatchClient
from shared.contracts.media import MediaClient
from shared.errors import InvalidInput, TooLarge, Unavailable


class Proxy:
    def __init__(self, service_name, answer=None, delay=0):
        self.service_name = service_name
        self.answer = answer
        self.delay = delay
        self.calls = []

    def __getattr__(self, method):
        def call(*args, **kwargs):
            self.calls.append((method, args, kwargs))
            eventlet.sleep(self.delay)
            return self.answer
        return call


class Service(Uploads):
    def __init__(self, config=None, **proxies):
        self.config = config or {}
        for name, proxy in proxies.items():
            setattr(self, name, proxy)


def test_every_deployed_service_has_a_client_and_the_gateway_holds_its_proxy():
    assert set(DEPLOYED_SERVICES) == set(SERVICE_CLIENTS)
    assert issubclass(GatewayService, Clients)
    for name in DEPLOYED_SERVICES:
        assert getattr(GatewayService, name).target_service == name


def test_client_finds_the_proxy_by_service_name_with_the_rpc_timeout():
    dispatch = Proxy("dispatch", {"id": "p1"})
    service = Service({"RPC_TIMEOUT": 4}, dispatch=dispatch)
    client = service.client(DispatchClient)
    assert isinstance(client, DispatchClient) and client.timeout == 4.0
    assert client.get_person("p1") == {"id": "p1"}
    assert dispatch.calls == [("get_person", ("p1",), {})]
    assert service.client(DispatchClient, timeout=0.5).timeout == 0.5
    assert Service().rpc_timeout() == 15.0


def test_a_slow_service_is_unavailable_after_the_bounded_wait():
    service = Service({"RPC_TIMEOUT": 0.05}, media=Proxy("media", {}, delay=1))
    with pytest.raises(Unavailable):
        service.client(MediaClient).get("M-GZ-" + "0" * 32)


def upload(content, filename="a.png"):
    return FileStorage(stream=io.BytesIO(content), filename=filename, name="file")


class Request:
    def __init__(self, files):
        self.files = files


def test_an_upload_goes_to_the_store_not_to_media_with_a_bounded_name(tmp_path):
    key = "GZ/2026/11/M-GZ-" + "0" * 32
    place = {"upload_id": "M-GZ-" + "0" * 32, "target": {"kind": "file", "key": key},
             "expires_at": "2099-01-01T00:00:00+08:00"}

    class Media(Proxy):
        def reserve_uploads(self, count):
            self.calls.append(("reserve_uploads", (count,), {}))
            return [place]

    media = Media("media", {"id": "M"})
    service = Service({"MEDIA": {"max_bytes": 8, "local_dir": str(tmp_path)},
                       "AMQP_URI": f"memory://{tmp_path}"}, media=media)
    assert service.max_upload_bytes() == 8 + 64 * 1024
    assert service.store_upload(upload(b"12345678", "x" * 300), "material",
                                uploaded_by="p1") == {"id": "M"}
    [reserve, (method, args, kwargs)] = media.calls
    assert reserve[0] == "reserve_uploads"
    assert (method, args[0], args[2], len(args[3]), args[4]) == (
        "confirm_upload", place["upload_id"], 8, 200, "material")
    assert args[1] == "ef797c8118f02dfb649607dd5d3f8c7623048c9c063d532cc95c5ed7a898a64f"
    assert kwargs == {"stage": None, "complaint_id": None, "uploaded_by": "p1", "step": None,
                      "signature_kind": None}
    assert (tmp_path / key).read_bytes() == b"12345678"      # the bytes went to the store


def test_a_missing_or_too_large_file_never_reaches_media():
    media = Proxy("media")
    service = Service({"MEDIA": {"max_bytes": 8}}, media=media)
    with pytest.raises(InvalidInput):
        service.uploaded_file(Request({}))
    with pytest.raises(TooLarge) as caught:
        service.store_upload(upload(b"123456789"), "material")
    assert "8 bytes" in caught.value.message
    assert media.calls == []
