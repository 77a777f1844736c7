"""SMS delivery receipts (issue 14). The pure part: each provider's format
read and its proof checked (services/sla/sms_receipts.py). Then the whole
way: sla sends a queued message through the Alibaba Cloud, Tencent Cloud or
relay gateway to the local server playing that provider (the provider
servers of test_sms_providers.py, sms_inbox.py), the provider's receipt is
pushed to the gateway's public route, and the message shows its delivery
status at GET /api/notifications (gateway, dispatch and sla on the real
broker and database)."""
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway import service as gateway_service
from services.gateway.service import GatewayService
from services.gateway.tests.sms_inbox import SmsInbox
from services.gateway.tokens import issue_tokens
from services.sla import sms_receipts
from services.sla.model import Message, Outcome
from services.sla.outbox import BatchOutbox
from services.sla.processing import SlaEngine
from services.sla.rules import Settings
from services.sla.service import SlaService
from services.sla.sms_receipts import ReceiptSecrets
from services.sla.tests.test_sms_providers import FakeAliyun, FakeTencent
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from shared.outbox import Outbox
from shared.testing.polling import eventually

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
SECRETS = ReceiptSecrets("ali-token-0123456789", "tc-token-0123456789", "relay-secret-0123")
TEMPLATES = {"order_dispatched": {"code": "SMS_463790012", "params": ["complaint_id"]}}


def aliyun_report(biz_id, success=True, out_id=None):
    return {"phone_number": "13800000011", "send_time": "2026-11-10 10:00:01",
            "report_time": "2026-11-10 10:00:09", "success": success,
            "err_code": "DELIVERED" if success else "MK:0001",
            "err_msg": "用户接收成功" if success else "空号", "sms_size": "1",
            "biz_id": biz_id, "out_id": out_id or "n-1"}


def tencent_report(sid, ok=True):
    return {"user_receive_time": "2026-11-10 10:00:07", "nationcode": "86",
            "mobile": "13800000011", "report_status": "SUCCESS" if ok else "FAIL",
            "errmsg": "DELIVRD" if ok else "MK:0005", "description": "用户短信送达成功"
            if ok else "用户手机关机", "sid": sid}


def signed(body, secret=SECRETS.http_secret):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- the formats and their proofs -------------------------------------------------------------

def test_each_providers_receipts_are_read_in_its_own_format():
    [ali] = sms_receipts.parse("aliyun", json.dumps([aliyun_report("900601^0", False)]).encode())
    assert (ali.provider_id, ali.status, ali.error, ali.out_id) == (
        "900601^0", "undelivered", "MK:0001 空号", "n-1")
    assert ali.reported_at == datetime(2026, 11, 10, 2, 0, 9, tzinfo=UTC)   # Beijing time
    [tc] = sms_receipts.parse("tencent", json.dumps([tencent_report("5000:1")]).encode())
    assert (tc.provider_id, tc.status, tc.error) == ("5000:1", "delivered", None)
    [relay] = sms_receipts.parse("http", json.dumps({
        "message_id": "inbox-1", "status": "delivered",
        "delivered_at": "2026-11-10T10:00:05+08:00"}).encode())
    assert relay.reported_at == datetime(2026, 11, 10, 2, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize("provider, body, field", [
    ("aliyun", b"not json", "body"),
    ("aliyun", b"{}", "body"),                                    # an object, not an array
    ("aliyun", b"[]", "body"),
    ("aliyun", json.dumps([{"biz_id": "1"}]).encode(), "0"),      # no success
    ("tencent", json.dumps([{"sid": "1", "report_status": "MAYBE"}]).encode(), "0"),
    ("tencent", json.dumps([tencent_report("1"), {"report_status": "SUCCESS"}]).encode(), "1"),
    ("http", json.dumps({"message_id": "1", "status": "delivered",
                         "delivered_at": "2026-11-10 10:00"}).encode(), "0"),
])
def test_a_malformed_push_is_refused_field_by_field(provider, body, field):
    with pytest.raises(InvalidInput) as caught:
        sms_receipts.parse(provider, body)
    assert field in caught.value.fields


def test_each_push_must_prove_it_is_the_providers():
    body = b"[]"
    sms_receipts.verify("aliyun", SECRETS, body, SECRETS.aliyun_token, None)
    sms_receipts.verify("http", SECRETS, body, None, signed(body))
    with pytest.raises(Unauthenticated):
        sms_receipts.verify("aliyun", SECRETS, body, "guess", None)
    with pytest.raises(Unauthenticated):
        sms_receipts.verify("tencent", SECRETS, body, None, None)
    with pytest.raises(Unauthenticated):
        sms_receipts.verify("http", SECRETS, body, None, signed(b"[ ]"))
    with pytest.raises(Forbidden):
        sms_receipts.verify("tencent", ReceiptSecrets(), body, "", None)
    with pytest.raises(NotFound):
        sms_receipts.verify("twilio", SECRETS, body, None, None)


# -- the whole way ------------------------------------------------------------------------------

@pytest.fixture
def start_suite(runner_factory, ccrm_config, web_config, clean_database):
    def start(sms):
        gateway_service._people.clear()
        SimulationClock(clean_database, cache_seconds=0).set(NOW)
        load_organisation(clean_database, DEMO_FILE, now=NOW,
                          outbox=Outbox("dispatch", "dispatch", "GZ"))
        address = web_config[WEB_SERVER_CONFIG_KEY]
        sms = dict(sms, templates=TEMPLATES, receipts={
            "aliyun_token": SECRETS.aliyun_token, "tencent_token": SECRETS.tencent_token,
            "http_secret": SECRETS.http_secret})
        runner_factory(dict(ccrm_config, RPC_TIMEOUT=10, SMS=sms, DB_POOL_SIZE=3,
                            **{WEB_SERVER_CONFIG_KEY: address}),
                       GatewayService, DispatchService, SlaService).start()
        admin = issue_tokens(clean_database, [{"id": "admin-1", "name": "马骏"}], NOW)[0]["token"]
        return Push(f"http://{address}", admin, clean_database)
    yield start
    gateway_service._people.clear()


class Push:
    def __init__(self, base, admin, database):
        self.base, self.admin, self.database = base, admin, database

    def queue_and_send(self, mobile="13800000011"):
        """A message queued as a rule would; sla's SMS loop sends it. Its row."""
        engine = SlaEngine(self.database, BatchOutbox("sla", "sla", "GZ"), Settings())
        message = Message("pcgz-head", "温嘉欣", mobile, "order_dispatched",
                          {"complaint_id": "C-GZ-2026-000001"}, "【恒大售后】督办令已签发",
                          "C-GZ-2026-000001", "order")
        with self.database.transaction() as conn:
            engine.store(conn, Outcome(messages=[message]), NOW)
        return eventually(lambda: self.row("sent"))

    def row(self, status=None):
        with self.database.connection() as conn:
            rows = conn.execute("SELECT * FROM sla.notifications ORDER BY created_at").fetchall()
        rows = [r for r in rows if status is None or r["status"] == status]
        return rows[-1] if rows else None

    def post(self, provider, body, token=None, signature=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return requests.post(f"{self.base}/api/sms/receipts/{provider}", data=raw, timeout=20,
                             params={"token": token} if token else None,
                             headers={"Content-Type": "application/json",
                                      **({"X-Signature": signature} if signature else {})})

    def listed(self):
        answer = requests.get(f"{self.base}/api/notifications", timeout=20,
                              params={"template": "order_dispatched"},
                              headers={"Authorization": f"Bearer {self.admin}"})
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]


@pytest.fixture
def aliyun():
    made = FakeAliyun()
    yield made
    made.close()


@pytest.fixture
def tencent():
    made = FakeTencent()
    yield made
    made.close()


@pytest.mark.integration
def test_an_alibaba_cloud_receipt_marks_the_message_delivered_once(start_suite, aliyun):
    push = start_suite({"provider": "aliyun", "aliyun": {
        "access_key_id": FakeAliyun.key_id, "access_key_secret": FakeAliyun.secret,
        "endpoint": aliyun.url}})
    sent = push.queue_and_send()
    assert sent["provider"] == "aliyun" and sent["delivery_status"] is None
    biz_id = sent["provider_id"]
    [before] = push.listed()
    assert before["delivery_status"] is None

    report = [aliyun_report(biz_id, out_id=str(sent["id"]))]
    first = push.post("aliyun", report, token=SECRETS.aliyun_token)
    assert first.status_code == 200, first.text
    assert first.json() == {"code": 0, "msg": "成功", "provider": "aliyun", "received": 1,
                            "recorded": 1, "duplicates": 0, "unmatched": []}
    again = push.post("aliyun", report, token=SECRETS.aliyun_token)      # a provider's retry
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    [shown] = push.listed()
    assert shown["delivery_status"] == "delivered" and shown["delivery_error"] is None
    assert shown["delivered_at"] == "2026-11-10T10:00:09+08:00"
    assert shown["delivery_reported_at"].startswith("2026-11-10T10:00")

    # a batch with an id that is not ours: the known one counts, the other is listed
    mixed = push.post("aliyun", [aliyun_report(biz_id), aliyun_report("nobody^0")],
                      token=SECRETS.aliyun_token)
    assert mixed.status_code == 200 and mixed.json()["unmatched"] == ["nobody^0"]
    unknown = push.post("aliyun", [aliyun_report("nobody^0")], token=SECRETS.aliyun_token)
    assert unknown.status_code == 404 and "nobody^0" in unknown.json()["error"]["message"]
    forged = push.post("aliyun", [aliyun_report(biz_id, success=False)], token="guess")
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "unauthenticated"
    assert push.listed()[0]["delivery_status"] == "delivered"          # nothing changed
    bad = push.post("aliyun", b"[{", token=SECRETS.aliyun_token)
    assert bad.status_code == 400 and "body" in bad.json()["error"]["fields"]
    assert push.post("twilio", [], token="x").status_code == 404


@pytest.mark.integration
def test_a_tencent_cloud_receipt_of_a_failure_and_a_relays_signed_receipt(start_suite,
                                                                          tencent):
    push = start_suite({"provider": "tencent", "tencent": {
        "secret_id": FakeTencent.secret_id, "secret_key": FakeTencent.secret_key,
        "sdk_app_id": "1400006666", "endpoint": tencent.url}})
    sent = push.queue_and_send()
    answer = push.post("tencent", [tencent_report(sent["provider_id"], ok=False)],
                       token=SECRETS.tencent_token)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["result"], answer.json()["errmsg"], answer.json()["recorded"]) == (
        0, "OK", 1)
    [shown] = push.listed()
    assert (shown["delivery_status"], shown["delivery_error"]) == ("undelivered",
                                                                  "MK:0005 用户手机关机")
    assert push.post("tencent", [tencent_report(sent["provider_id"])]).status_code == 401


@pytest.mark.integration
def test_the_relays_receipt_is_signed(start_suite):
    inbox = SmsInbox()
    try:
        push = start_suite(inbox.config())
        sent = push.queue_and_send()
        assert sent["provider_id"] == "inbox-1"
        body = json.dumps([{"message_id": "inbox-1", "status": "delivered",
                            "delivered_at": "2026-11-10T10:00:05+08:00"}]).encode()
        assert push.post("http", body, signature=signed(body, "wrong")).status_code == 401
        answer = push.post("http", body, signature=signed(body))
        assert answer.status_code == 200 and answer.json()["recorded"] == 1, answer.text
        assert push.listed()[0]["delivery_status"] == "delivered"
    finally:
        inbox.close()


@pytest.mark.integration
def test_receipts_of_a_provider_without_a_secret_are_refused(runner_factory, ccrm_config,
                                                             web_config, clean_database):
    address = web_config[WEB_SERVER_CONFIG_KEY]
    runner_factory(dict(ccrm_config, RPC_TIMEOUT=10, SMS={"provider": "record"},
                        **{WEB_SERVER_CONFIG_KEY: address}), GatewayService, SlaService).start()
    refused = requests.post(f"http://{address}/api/sms/receipts/aliyun?token=x", timeout=20,
                            data=json.dumps([aliyun_report("1")]))
    assert refused.status_code == 403 and "SMS.receipts.aliyun_token" in \
        refused.json()["error"]["message"]


def test_the_receipts_time_is_beijing_time_whatever_the_groups_zone():
    assert sms_receipts.PROVIDER_ZONE.utcoffset(datetime(2026, 7, 1)) == timedelta(hours=8)
