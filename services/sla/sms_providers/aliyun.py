"""Alibaba Cloud SMS (dysmsapi, API version 2017-05-25): `SendSms` through the
RPC-style HTTP API, signed with the AccessKey (signing.aliyun_signature).

    POST https://dysmsapi.aliyuncs.com/   (form-encoded)
      AccessKeyId, Action=SendSms, Format=JSON, RegionId, SignatureMethod=HMAC-SHA1,
      SignatureNonce, SignatureVersion=1.0, Timestamp (UTC), Version=2017-05-25,
      PhoneNumbers, SignName, TemplateCode, TemplateParam (JSON), OutId, Signature

Answer: `{"Code": "OK", "BizId": ..., "RequestId": ...}` = accepted (BizId is
the provider's id, the key of its delivery receipts); any other Code is a
refusal, e.g. `isv.BUSINESS_LIMIT_CONTROL` (rate limit: retried),
`isv.MOBILE_NUMBER_ILLEGAL` (not retried).
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from services.sla.sms import SendResult, SmsGateway, SmsMessage, post
from services.sla.sms_providers.signing import aliyun_signature
from services.sla.sms_providers.templates import Template, missing_template

ENDPOINT = "https://dysmsapi.aliyuncs.com/"
API_VERSION = "2017-05-25"
# Codes about the number itself: sending again cannot help.
PERMANENT = {"isv.MOBILE_NUMBER_ILLEGAL", "isv.BLACK_KEY_CONTROL_LIMIT"}


class AliyunSmsGateway(SmsGateway):
    name = "aliyun"

    def __init__(self, access_key_id: str, access_key_secret: str, *, sign_name: str,
                 templates: dict[str, Template], region: str = "cn-hangzhou",
                 endpoint: str = ENDPOINT, timeout: float = 5.0,
                 session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        if not access_key_id or not access_key_secret:
            raise ValueError("SMS provider aliyun needs ALIYUN_SMS_ACCESS_KEY_ID and "
                             "ALIYUN_SMS_ACCESS_KEY_SECRET")
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.sign_name, self.templates, self.region = sign_name, templates, region
        self.endpoint, self.timeout = endpoint, float(timeout)
        self.session = session or requests.Session()
        # The provider checks the request's time against its own: real time,
        # never the simulation clock.
        self.clock = clock

    def params(self, message: SmsMessage, template: Template) -> dict[str, str]:
        """The signed request's parameters (Signature included)."""
        params = {
            "AccessKeyId": self.access_key_id, "Action": "SendSms", "Format": "JSON",
            "RegionId": self.region, "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
            "Timestamp": datetime.fromtimestamp(self.clock(), UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION, "PhoneNumbers": message.mobile.replace(" ", ""),
            "SignName": self.sign_name, "TemplateCode": template.code,
            "TemplateParam": json.dumps(template.values(message.params), ensure_ascii=False,
                                        separators=(",", ":")),
            "OutId": message.notification_id,
        }
        params["Signature"] = aliyun_signature(params, self.access_key_secret, "POST")
        return params

    def send(self, message: SmsMessage) -> SendResult:
        template = self.templates.get(message.template)
        if template is None:
            return SendResult(False, error=missing_template(message.template))
        response, failure = post(self.session, self.endpoint, self.timeout,
                                 data=self.params(message, template))
        if failure:
            return failure
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return SendResult(False, error=f"阿里云短信应答无法识别 (HTTP {response.status_code}: "
                                           f"{response.text[:200]})")
        code = str(body.get("Code") or "")
        if code == "OK" and 200 <= response.status_code < 300:
            return SendResult(True, str(body.get("BizId") or message.notification_id))
        return SendResult(False, error=f"阿里云短信拒绝 ({code or response.status_code}: "
                                       f"{str(body.get('Message') or '')[:200]})",
                          permanent=code in PERMANENT)
