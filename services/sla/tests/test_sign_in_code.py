"""The sign-in code's SMS (services/sla/sign_in.py, RPC send_sign_in_code):
the provider gets the code, sla's record and events show it masked, and a
failed send is recorded, never queued again."""
import json

import pytest

from services.sla import sign_in
from services.sla.outbox import BatchOutbox
from services.sla.processing import SlaEngine
from services.sla.rules import Settings
from services.sla.sms import RecordingSmsGateway, SendResult, SmsGateway
from services.sla.tests.helpers import at
from shared.errors import InvalidInput


class CapturingGateway(SmsGateway):
    """What the provider receives (a fake of the real interface)."""

    name = "capture"

    def __init__(self, ok=True):
        self.ok = ok
        self.sent = []

    def send(self, message):
        self.sent.append(message)
        return SendResult(True, "cap-1") if self.ok else SendResult(False, error="provider down")


def send(database, gateway, code="493817"):
    engine = SlaEngine(database, BatchOutbox("sla", "sla", "GZ"), Settings())
    request = sign_in.load_request("+86 159 0201 0001", code, "p01-spec-1", "李思琪", 5)
    return engine, sign_in.send_code(database, engine.outbox, gateway, request,
                                     engine.settings.sms_signature, at("10:00"))


def rows(database, sql):
    with database.connection() as conn:
        return conn.execute(sql).fetchall()


def test_the_provider_gets_the_code_and_sla_records_it_masked(clean_database):
    gateway = CapturingGateway()
    _, answer = send(clean_database, gateway)
    assert answer["status"] == "sent" and answer["error"] is None
    [message] = gateway.sent
    assert message.mobile == "15902010001" and message.template == "sign_in_code"
    assert message.params == {"code": "493817", "minutes": 5}
    assert message.text == ("【恒大售后】您的登录验证码为 493817，5 分钟内有效。"
                            "请勿告诉他人；如非本人操作，请忽略本短信。")
    [row] = rows(clean_database, "SELECT * FROM sla.notifications")
    assert row["text"] == message.text.replace("493817", "******")
    assert row["params"] == {"code": "******", "minutes": 5}
    assert (row["status"], row["attempts"], row["provider_id"]) == ("sent", 1, "cap-1")
    assert row["next_attempt_at"] is None and row["source"] == "sign_in"
    assert row["recipient_person_id"] == "p01-spec-1"
    [event] = rows(clean_database, "SELECT routing_key, body FROM sla.outbox")
    assert event["routing_key"] == "notification.sent" and "493817" not in event["body"]
    assert json.loads(event["body"])["data"]["template"] == "sign_in_code"


def test_a_failed_send_is_recorded_and_never_queued_again(clean_database):
    engine, answer = send(clean_database, CapturingGateway(ok=False))
    assert answer == {"notification_id": answer["notification_id"], "status": "failed",
                      "error": "provider down"}
    [row] = rows(clean_database, "SELECT * FROM sla.notifications")
    assert row["status"] == "failed" and row["next_attempt_at"] is None
    assert "******" in row["text"]
    # the delivery loop does not pick it up again
    assert engine.send_notifications(RecordingSmsGateway(), at("11:00")) == (0, 0)
    [event] = rows(clean_database, "SELECT routing_key FROM sla.outbox")
    assert event["routing_key"] == "notification.failed"


def test_the_request_is_checked_field_by_field():
    with pytest.raises(InvalidInput) as refused:
        sign_in.load_request("020-12345678", "12ab", None, None, 0)
    assert set(refused.value.fields) == {"mobile", "code", "valid_minutes"}
    assert sign_in.load_request("15902010001", "123456", None, None, "5").person_id is None
