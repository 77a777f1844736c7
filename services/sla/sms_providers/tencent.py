"""Tencent Cloud SMS (API 3.0, version 2021-01-11): `SendSms`, a JSON POST
signed with TC3-HMAC-SHA256 (signing.tc3_authorization).

    POST https://sms.tencentcloudapi.com/
      X-TC-Action: SendSms, X-TC-Version: 2021-01-11, X-TC-Timestamp, X-TC-Region,
      Authorization: TC3-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...
      {"SmsSdkAppId", "SignName", "TemplateId", "TemplateParamSet": [...],
       "PhoneNumberSet": ["+86..."], "SessionContext": <notification id>}

Answer: `{"Response": {"SendStatusSet": [{"Code": "Ok", "SerialNo": ...}]}}` =
accepted (SerialNo is the key of its delivery receipts); `{"Response":
{"Error": {"Code", "Message"}}}` (signature, parameters, ...) or a status
other than "Ok" (e.g. `LimitExceeded.PhoneNumberDailyLimit`) is a refusal.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from services.sla.sms import SendResult, SmsGateway, SmsMessage, post
from services.sla.sms_providers.signing import tc3_authorization
from services.sla.sms_providers.templates import Template, missing_template

ENDPOINT = "https://sms.tencentcloudapi.com/"
API_VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
PERMANENT = {"InvalidParameterValue.IncorrectPhoneNumber",
             "FailedOperation.PhoneNumberInBlacklist"}


def e164(mobile: str) -> str:
    """Tencent Cloud takes E.164: a mainland number gets +86."""
    number = mobile.replace(" ", "").replace("-", "")
    if number.startswith("+"):
        return number
    if number.startswith("0086"):
        return "+" + number[2:]
    if len(number) == 13 and number.startswith("86"):
        return "+" + number
    return "+86" + number


class TencentSmsGateway(SmsGateway):
    name = "tencent"

    def __init__(self, secret_id: str, secret_key: str, *, sdk_app_id: str, sign_name: str,
                 templates: dict[str, Template], region: str = "ap-guangzhou",
                 endpoint: str = ENDPOINT, timeout: float = 5.0,
                 session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        if not secret_id or not secret_key or not sdk_app_id:
            raise ValueError("SMS provider tencent needs TENCENT_SMS_SECRET_ID, "
                             "TENCENT_SMS_SECRET_KEY and TENCENT_SMS_SDK_APP_ID")
        self.secret_id, self.secret_key, self.sdk_app_id = secret_id, secret_key, sdk_app_id
        self.sign_name, self.templates, self.region = sign_name, templates, region
        self.endpoint, self.timeout = endpoint, float(timeout)
        self.host = urlsplit(endpoint).netloc
        self.session = session or requests.Session()
        self.clock = clock                 # real time: the provider checks it (5 minutes)

    def payload(self, message: SmsMessage, template: Template) -> dict[str, Any]:
        return {"SmsSdkAppId": self.sdk_app_id, "SignName": self.sign_name,
                "TemplateId": template.code,
                "TemplateParamSet": list(template.values(message.params).values()),
                "PhoneNumberSet": [e164(message.mobile)],
                "SessionContext": message.notification_id}

    def request(self, message: SmsMessage, template: Template) -> tuple[bytes, dict[str, str]]:
        """The exact body and the signed headers."""
        body = json.dumps(self.payload(message, template), separators=(",", ":")).encode()
        timestamp = int(self.clock())
        headers = {
            "Content-Type": CONTENT_TYPE, "Host": self.host, "X-TC-Action": "SendSms",
            "X-TC-Version": API_VERSION, "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region, "X-TC-Language": "zh-CN",
            "Authorization": tc3_authorization(
                self.secret_id, self.secret_key, body=body, content_type=CONTENT_TYPE,
                host=self.host, service="sms", timestamp=timestamp)}
        return body, headers

    def send(self, message: SmsMessage) -> SendResult:
        template = self.templates.get(message.template)
        if template is None:
            return SendResult(False, error=missing_template(message.template))
        body, headers = self.request(message, template)
        response, failure = post(self.session, self.endpoint, self.timeout, data=body,
                                 headers=headers)
        if failure:
            return failure
        try:
            answer: Any = response.json().get("Response")
        except (ValueError, AttributeError):
            answer = None
        if not isinstance(answer, dict) or not 200 <= response.status_code < 300:
            return SendResult(False, error=f"腾讯云短信应答无法识别 (HTTP {response.status_code}: "
                                           f"{response.text[:200]})")
        error = answer.get("Error")
        if error:
            code = str(error.get("Code") or "")
            return SendResult(False, error=f"腾讯云短信拒绝 ({code}: "
                                           f"{str(error.get('Message') or '')[:200]})",
                              permanent=code in PERMANENT)
        statuses = answer.get("SendStatusSet") or [{}]
        status = statuses[0]
        code = str(status.get("Code") or "")
        if code == "Ok":
            return SendResult(True, str(status.get("SerialNo") or message.notification_id))
        return SendResult(False, error=f"腾讯云短信拒绝 ({code or 'no status'}: "
                                       f"{str(status.get('Message') or '')[:200]})",
                          permanent=code in PERMANENT)
