"""SMS delivery: the HTTP gateway against a real HTTP server, the recording
gateway, the config that chooses them, and the engine's retry with backoff
on the real database (a failed send is never lost)."""
import json
import threading
import time
from datetime import timedelta

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.sla.model import Message, Outcome
from services.sla.outbox import BatchOutbox
from services.sla.processing import SlaEngine
from services.sla.rules import Settings
from services.sla.sending import notify_backoff
from services.sla.sms import (
    HttpSmsGateway,
    RecordingSmsGateway,
    SendResult,
    SmsGateway,
    SmsMessage,
    gateway_from_config,
)
from services.sla.tests.helpers import at

MESSAGE = SmsMessage("n-1", "13800000011", "order_dispatched", {"complaint_id": "C-1"},
                     "【恒大售后】您有一张客户投诉督办令 C-1 已签发，请于1小时内上门回访。")


class FakeProvider:
    """A real HTTP server playing an SMS provider: answers as `behaviour` says."""

    def __init__(self):
        self.requests = []
        self.behaviour = {"status": 200, "delay": 0.0}
        self.server = make_server("127.0.0.1", 0, self.app)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"

    @Request.application
    def app(self, request):
        self.requests.append({"json": request.get_json(), "headers": dict(request.headers)})
        time.sleep(self.behaviour["delay"])
        status = self.behaviour["status"]
        body = {"message_id": f"prov-{len(self.requests)}"} if status < 300 else {"error": "x"}
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def close(self):
        self.server.shutdown()


@pytest.fixture
def provider():
    made = FakeProvider()
    yield made
    made.close()


def test_http_gateway_posts_json_and_reads_the_provider_id(provider):
    gateway = HttpSmsGateway(provider.url, signature="恒大售后", api_key="k-1",
                             templates={"order_dispatched": "SMS_000123"})
    result = gateway.send(MESSAGE)
    assert result == SendResult(True, "prov-1")
    sent = provider.requests[0]
    assert sent["json"] == {"mobile": "13800000011", "sign_name": "恒大售后",
                            "template_id": "SMS_000123",
                            "template_params": {"complaint_id": "C-1"},
                            "content": MESSAGE.text, "out_id": "n-1"}
    assert sent["headers"]["Authorization"] == "Bearer k-1"


def test_http_gateway_non_2xx_and_timeout_and_refused_are_failures(provider):
    gateway = HttpSmsGateway(provider.url, timeout=0.3)
    provider.behaviour["status"] = 503
    refused = gateway.send(MESSAGE)
    assert not refused.ok and "HTTP 503" in refused.error
    provider.behaviour.update(status=200, delay=1.0)
    slow = gateway.send(MESSAGE)
    assert not slow.ok and "超时" in slow.error
    closed = HttpSmsGateway("http://127.0.0.1:9/sms", timeout=1).send(MESSAGE)
    assert not closed.ok and "无法连接" in closed.error


def test_config_chooses_the_gateway():
    assert isinstance(gateway_from_config({}), RecordingSmsGateway)
    http = gateway_from_config({"SMS": {"provider": "http", "url": "http://sms.example/send",
                                        "timeout": "2", "templates": {"escalation": "T-9"}}})
    assert isinstance(http, HttpSmsGateway) and http.timeout == 2.0
    assert http.templates == {"escalation": "T-9"}
    with pytest.raises(ValueError):
        gateway_from_config({"SMS": {"provider": "carrier-pigeon"}})
    with pytest.raises(ValueError):
        gateway_from_config({"SMS": {"provider": "http"}})


class FlakyGateway(SmsGateway):
    """Fails the first `failures` sends, then accepts."""
    name = "flaky"

    def __init__(self, failures):
        self.failures = failures
        self.sent = []

    def send(self, message):
        self.sent.append(message)
        if len(self.sent) <= self.failures:
            return SendResult(False, error="provider down")
        return SendResult(True, "ok-1")


def queue_message(engine, database, now, mobile="13800000011"):
    with database.transaction() as conn:
        engine.store(conn, _outcome_with(Message("pcgz-head", "一把手", mobile, "escalation",
                                                 {}, "【恒大售后】测试", "C-1", "visit")), now)


def _outcome_with(message):
    return Outcome(messages=[message])


def notification(database):
    with database.connection() as conn:
        return conn.execute("SELECT * FROM sla.notifications").fetchone()


def test_a_failed_send_is_retried_with_backoff_and_never_lost(clean_database):
    engine = SlaEngine(clean_database, BatchOutbox("sla", "sla", "GZ"), Settings())
    now = at("10:00")
    queue_message(engine, clean_database, now)
    gateway = FlakyGateway(failures=2)
    assert engine.send_notifications(gateway, now) == (0, 1)
    row = notification(clean_database)
    assert row["status"] == "failed" and row["attempts"] == 1
    assert row["next_attempt_at"] == now + timedelta(seconds=30)
    assert engine.send_notifications(gateway, now + timedelta(seconds=29)) == (0, 0)
    assert engine.send_notifications(gateway, now + timedelta(seconds=30)) == (0, 1)
    assert notification(clean_database)["next_attempt_at"] == now + timedelta(seconds=90)
    assert engine.send_notifications(gateway, now + timedelta(seconds=90)) == (1, 0)
    row = notification(clean_database)
    assert (row["status"], row["attempts"], row["provider_id"]) == ("sent", 3, "ok-1")
    with clean_database.connection() as conn:
        kinds = [r["routing_key"] for r in conn.execute(
            "SELECT routing_key FROM sla.outbox ORDER BY id")]
    assert kinds == ["notification.failed", "notification.failed", "notification.sent"]


def test_no_mobile_is_failed_at_once_and_kept_visible(clean_database):
    engine = SlaEngine(clean_database, BatchOutbox("sla", "sla", "GZ"), Settings())
    queue_message(engine, clean_database, at("10:00"), mobile=None)
    assert engine.send_notifications(RecordingSmsGateway(), at("10:00")) == (0, 1)
    row = notification(clean_database)
    assert row["status"] == "failed" and row["next_attempt_at"] is None
    assert "无手机号" in row["error"]


def test_backoff_doubles_up_to_an_hour():
    assert [notify_backoff(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [
        30, 60, 120, 3600, 3600]
