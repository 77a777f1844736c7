"""Alibaba Cloud SMS and Tencent Cloud SMS behind the SmsGateway interface.

The signing functions reproduce the examples of the providers' own
documentation; each gateway then talks to a real local HTTP server playing
the provider, which recomputes the request's signature from what it received,
checks every field, and answers as the provider does (accepted, refused, a bad
signature). The delivery loop on the real database: accepted, retried, and a
wrong number not retried."""
import hashlib
import json
import threading
import time
from datetime import UTC, datetime

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.sla.model import Message, Outcome
from services.sla.outbox import BatchOutbox
from services.sla.processing import SlaEngine
from services.sla.rules import Settings
from services.sla.sms import SmsMessage, gateway_from_config
from services.sla.sms_providers import (
    AliyunSmsGateway,
    Template,
    TencentSmsGateway,
    templates_from_config,
)
from services.sla.sms_providers.signing import (
    aliyun_signature,
    percent_encode,
    tc3_authorization,
    tc3_signature,
    tc3_string_to_sign,
)
from services.sla.sms_providers.tencent import e164
from services.sla.tests.helpers import at

MESSAGE = SmsMessage("n-1", "13800000011", "order_dispatched",
                     {"complaint_id": "GZ-20251127-0001", "project": "恒大御景半岛", "minutes": 60},
                     "【恒大售后】您有一张客户投诉督办令已签发")
TEMPLATES = {"order_dispatched": Template("SMS_463790012", ("complaint_id", "project"))}


# -- the providers' documented examples --------------------------------------

def test_aliyun_signature_reproduces_the_sms_documentation_example():
    params = {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
              "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou",
              "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
              "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
              "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z",
              "Version": "2017-05-25"}
    assert aliyun_signature(params, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert aliyun_signature(dict(params, Signature="x"), "testSecret", "GET") == \
        "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_aliyun_signature_reproduces_the_rpc_documentation_example():
    params = {"Format": "XML", "AccessKeyId": "testid", "Action": "DescribeRegions",
              "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
              "SignatureVersion": "1.0", "Version": "2014-05-26",
              "Timestamp": "2016-02-23T12:46:24Z"}
    assert aliyun_signature(params, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    assert percent_encode("a b*~/") == "a%20b%2A~%2F"


def test_tc3_reproduces_the_tencent_documentation_example():
    body = (b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], '
            b'"Name": "instance-name"}]}')
    assert hashlib.sha256(body).hexdigest() == \
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    to_sign = tc3_string_to_sign(body, "application/json; charset=utf-8",
                                 "cvm.tencentcloudapi.com", "cvm", 1551113065)
    assert to_sign.endswith("\n2019-02-25/cvm/tc3_request\n"
                            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031")
    assert tc3_authorization(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", body=body,
        content_type="application/json; charset=utf-8", host="cvm.tencentcloudapi.com",
        service="cvm", timestamp=1551113065) == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/"
        "tc3_request, SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168")


# -- local servers playing the providers ---------------------------------------

class FakeProvider:
    """A real HTTP server; `check(request)` answers (status, body)."""

    def __init__(self):
        self.requests = []
        self.reply = None                  # (status, body) forced by a test
        self.server = make_server("127.0.0.1", 0, self.app)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/"

    @Request.application
    def app(self, request):
        status, body = self.check(request)
        return Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype="application/json")

    def close(self):
        self.server.shutdown()


class FakeAliyun(FakeProvider):
    key_id, secret = "LTAI5tTestKeyId", "TestSecret0123456789abcdefghij"

    def check(self, request):
        form = request.form.to_dict()
        self.requests.append(form)
        problems = []
        if request.method != "POST" or request.path != "/":
            problems.append("method/path")
        expected = aliyun_signature(form, self.secret, "POST")
        if form.get("AccessKeyId") != self.key_id or form.get("Signature") != expected:
            return 400, {"Code": "SignatureDoesNotMatch", "RequestId": "r-sig",
                         "Message": "Specified signature is not matched with our calculation."}
        fixed = {"Action": "SendSms", "Version": "2017-05-25", "Format": "JSON",
                 "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
                 "RegionId": "cn-hangzhou"}
        problems += [k for k, v in fixed.items() if form.get(k) != v]
        sent_at = datetime.strptime(form["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs((datetime.now(UTC) - sent_at).total_seconds()) > 900:
            problems.append("Timestamp")
        if [f["SignatureNonce"] for f in self.requests].count(form["SignatureNonce"]) > 1:
            problems.append("SignatureNonce reused")
        for name in ("PhoneNumbers", "SignName", "TemplateCode", "TemplateParam", "OutId"):
            if not form.get(name):
                problems.append(name)
        json.loads(form["TemplateParam"])
        if problems:
            return 400, {"Code": "InvalidParameter", "Message": ",".join(problems),
                         "RequestId": "r-bad"}
        if self.reply:
            return self.reply
        return 200, {"Code": "OK", "Message": "OK", "BizId": f"9006{len(self.requests):02d}^0",
                     "RequestId": "r-ok"}


class FakeTencent(FakeProvider):
    secret_id, secret_key = "AKIDTestSecretId0123456789", "TestSecretKey0123456789abcdef"

    def check(self, request):
        body = request.get_data()
        self.requests.append({"headers": dict(request.headers), "json": json.loads(body)})
        h = request.headers
        timestamp = int(h.get("X-TC-Timestamp", "0"))
        scope = f"{datetime.fromtimestamp(timestamp, UTC):%Y-%m-%d}/sms/tc3_request"
        to_sign = tc3_string_to_sign(body, h["Content-Type"], h["Host"], "sms", timestamp)
        expected = (f"TC3-HMAC-SHA256 Credential={self.secret_id}/{scope}, "
                    f"SignedHeaders=content-type;host, "
                    f"Signature={tc3_signature(self.secret_key, 'sms', timestamp, to_sign)}")
        if h.get("Authorization") != expected:
            return 200, {"Response": {"Error": {
                "Code": "AuthFailure.SignatureFailure",
                "Message": "The provided credentials could not be validated."},
                "RequestId": "r-sig"}}
        problems = [k for k, v in {"X-TC-Action": "SendSms", "X-TC-Version": "2021-01-11",
                                   "X-TC-Region": "ap-guangzhou"}.items() if h.get(k) != v]
        if abs(time.time() - timestamp) > 300:
            problems.append("X-TC-Timestamp")
        payload = json.loads(body)
        if payload.get("SmsSdkAppId") != "1400006666":
            problems.append("SmsSdkAppId")
        for name in ("SignName", "TemplateId", "PhoneNumberSet", "TemplateParamSet"):
            if name not in payload:
                problems.append(name)
        if problems:
            return 200, {"Response": {"Error": {"Code": "InvalidParameter",
                                                "Message": ",".join(problems)},
                                      "RequestId": "r-bad"}}
        if self.reply:
            return self.reply
        return 200, {"Response": {"SendStatusSet": [{
            "SerialNo": f"5000:10457106691570536578{len(self.requests):02d}",
            "PhoneNumber": payload["PhoneNumberSet"][0], "Fee": 1,
            "SessionContext": payload.get("SessionContext"), "Code": "Ok",
            "Message": "send success", "IsoCode": "CN"}], "RequestId": "r-ok"}}


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


def aliyun_gateway(server, secret=FakeAliyun.secret, **kwargs):
    return AliyunSmsGateway(FakeAliyun.key_id, secret, sign_name="恒大售后", templates=TEMPLATES,
                            endpoint=server.url, timeout=2, **kwargs)


def tencent_gateway(server, secret=FakeTencent.secret_key, **kwargs):
    return TencentSmsGateway(FakeTencent.secret_id, secret, sdk_app_id="1400006666",
                             sign_name="恒大售后", templates=TEMPLATES, endpoint=server.url,
                             timeout=2, **kwargs)


# -- Alibaba Cloud --------------------------------------------------------------

def test_aliyun_sends_a_signed_request_and_reads_the_biz_id(aliyun):
    result = aliyun_gateway(aliyun).send(MESSAGE)
    assert result.ok and result.provider_id == "900601^0", result
    sent = aliyun.requests[0]
    assert sent["PhoneNumbers"] == "13800000011" and sent["SignName"] == "恒大售后"
    assert sent["TemplateCode"] == "SMS_463790012" and sent["OutId"] == "n-1"
    assert json.loads(sent["TemplateParam"]) == {"complaint_id": "GZ-20251127-0001",
                                                 "project": "恒大御景半岛"}
    assert aliyun_gateway(aliyun).send(MESSAGE).ok      # a fresh nonce each time


def test_aliyun_refusals_are_failures_and_a_wrong_number_is_permanent(aliyun):
    wrong_key = aliyun_gateway(aliyun, secret="not-the-secret").send(MESSAGE)
    assert not wrong_key.ok and "SignatureDoesNotMatch" in wrong_key.error
    assert not wrong_key.permanent
    aliyun.reply = (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控",
                          "RequestId": "r-1"})
    limited = aliyun_gateway(aliyun).send(MESSAGE)
    assert not limited.ok and not limited.permanent
    assert limited.error == "阿里云短信拒绝 (isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控)"
    aliyun.reply = (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号",
                          "RequestId": "r-2"})
    assert aliyun_gateway(aliyun).send(MESSAGE).permanent
    aliyun.reply = (502, "bad gateway")
    assert "HTTP 502" in aliyun_gateway(aliyun).send(MESSAGE).error


def test_a_template_without_a_code_is_not_sent(aliyun):
    result = aliyun_gateway(aliyun).send(SmsMessage("n-2", "13800000011", "escalation", {}, "x"))
    assert not result.ok and "escalation" in result.error and aliyun.requests == []


def test_a_provider_that_does_not_answer_is_a_failure():
    gateway = AliyunSmsGateway("id", "secret", sign_name="s", templates=TEMPLATES,
                               endpoint="http://127.0.0.1:9/", timeout=1)
    assert "无法连接" in gateway.send(MESSAGE).error


# -- Tencent Cloud ---------------------------------------------------------------

def test_tencent_sends_a_signed_request_and_reads_the_serial_number(tencent):
    result = tencent_gateway(tencent).send(MESSAGE)
    assert result.ok and result.provider_id.startswith("5000:"), result
    sent = tencent.requests[0]
    assert sent["json"] == {"SmsSdkAppId": "1400006666", "SignName": "恒大售后",
                            "TemplateId": "SMS_463790012",
                            "TemplateParamSet": ["GZ-20251127-0001", "恒大御景半岛"],
                            "PhoneNumberSet": ["+8613800000011"], "SessionContext": "n-1"}
    assert sent["headers"]["Host"] == tencent.url.split("/")[2]


def test_tencent_refusals_are_failures_and_a_wrong_number_is_permanent(tencent):
    wrong_key = tencent_gateway(tencent, secret="not-the-key").send(MESSAGE)
    assert not wrong_key.ok and "AuthFailure.SignatureFailure" in wrong_key.error
    tencent.reply = (200, {"Response": {"SendStatusSet": [{
        "SerialNo": "", "PhoneNumber": "+8613800000011", "Fee": 0, "SessionContext": "n-1",
        "Code": "LimitExceeded.PhoneNumberDailyLimit",
        "Message": "单个手机号日下发条数超过设定的上限",
        "IsoCode": "CN"}], "RequestId": "r-1"}})
    limited = tencent_gateway(tencent).send(MESSAGE)
    assert not limited.ok and not limited.permanent
    assert "LimitExceeded.PhoneNumberDailyLimit" in limited.error
    tencent.reply = (200, {"Response": {"Error": {
        "Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "手机号格式错误"},
        "RequestId": "r-2"}})
    assert tencent_gateway(tencent).send(MESSAGE).permanent


def test_mainland_numbers_become_e164():
    assert e164("13800000011") == "+8613800000011"
    assert e164("+85291234567") == "+85291234567"
    assert e164("008613800000011") == e164("8613800000011") == "+8613800000011"


# -- the config ---------------------------------------------------------------------

def test_config_chooses_aliyun_or_tencent_with_keys_from_the_config():
    templates = {"order_dispatched": "SMS_1", "escalation": {"code": 1843155,
                                                             "params": ["complaint_id"]}}
    aliyun = gateway_from_config({"SMS": {
        "provider": "aliyun", "signature": "恒大售后", "templates": templates,
        "aliyun": {"access_key_id": "id", "access_key_secret": "secret", "region": None}}})
    assert isinstance(aliyun, AliyunSmsGateway) and aliyun.region == "cn-hangzhou"
    assert aliyun.templates == {"order_dispatched": Template("SMS_1"),
                                "escalation": Template("1843155", ("complaint_id",))}
    tencent = gateway_from_config({"SMS": {"provider": "tencent", "tencent": {
        "secret_id": "AKID", "secret_key": "key", "sdk_app_id": 1400006666}}})
    assert isinstance(tencent, TencentSmsGateway) and tencent.sdk_app_id == "1400006666"
    assert tencent.host == "sms.tencentcloudapi.com"
    with pytest.raises(ValueError, match="ALIYUN_SMS_ACCESS_KEY_ID"):
        gateway_from_config({"SMS": {"provider": "aliyun", "aliyun": {"access_key_id": ""}}})
    with pytest.raises(ValueError, match="TENCENT_SMS_SDK_APP_ID"):
        gateway_from_config({"SMS": {"provider": "tencent"}})
    with pytest.raises(ValueError):
        templates_from_config({"escalation": {"params": ["x"]}})


# -- the delivery loop ------------------------------------------------------------------

def queue(engine, database, now, mobile):
    message = Message("pcgz-head", "一把手", mobile, "order_dispatched", dict(MESSAGE.params),
                      MESSAGE.text, "C-1", "order")
    with database.transaction() as conn:
        engine.store(conn, Outcome(messages=[message]), now)


def rows(database):
    with database.connection() as conn:
        return conn.execute("SELECT status, provider, provider_id, error, next_attempt_at "
                            "FROM sla.notifications ORDER BY created_at").fetchall()


def test_the_loop_sends_through_aliyun_and_does_not_retry_a_wrong_number(clean_database,
                                                                          aliyun):
    engine = SlaEngine(clean_database, BatchOutbox("sla", "sla", "GZ"), Settings())
    now = at("10:00")
    queue(engine, clean_database, now, "13800000011")
    assert engine.send_notifications(aliyun_gateway(aliyun), now) == (1, 0)
    [row] = rows(clean_database)
    assert (row["status"], row["provider"], row["provider_id"]) == ("sent", "aliyun", "900601^0")

    aliyun.reply = (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"})
    queue(engine, clean_database, now, "1380000")
    assert engine.send_notifications(aliyun_gateway(aliyun), now) == (0, 1)
    wrong = rows(clean_database)[1]
    assert wrong["status"] == "failed" and wrong["next_attempt_at"] is None
    assert "isv.MOBILE_NUMBER_ILLEGAL" in wrong["error"]

    aliyun.reply = (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "流控"})
    queue(engine, clean_database, now, "13800000012")
    assert engine.send_notifications(aliyun_gateway(aliyun), now) == (0, 1)
    limited = rows(clean_database)[2]
    assert limited["status"] == "failed" and limited["next_attempt_at"] > now
    aliyun.reply = None
    later = limited["next_attempt_at"]
    assert engine.send_notifications(aliyun_gateway(aliyun), later) == (1, 0)
    assert [r["status"] for r in rows(clean_database)] == ["sent", "failed", "sent"]
