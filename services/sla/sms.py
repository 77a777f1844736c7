"""Sending SMS: an interface and its gateways, chosen by the config's `SMS`
section (`provider: record | http | aliyun | tencent`).

`RecordingSmsGateway` (default) keeps each message as sent: the text is in
`sla.notifications`, visible at GET /api/notifications. `HttpSmsGateway`
posts JSON to a provider's URL. `AliyunSmsGateway` and `TencentSmsGateway`
(services/sla/sms_providers/) call Alibaba Cloud SMS and Tencent Cloud SMS
through their signed HTTP APIs, with template codes mapped from our template
names. A refused answer, a timeout or a refused connection is a failed attempt
that the loop retries with backoff; a provider's answer that the number itself
is wrong (`permanent`) is not retried.
"""
import logging
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass

import requests
from nameko.extensions import DependencyProvider

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    notification_id: str
    mobile: str
    template: str
    params: dict
    text: str


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_id: str | None = None
    error: str | None = None
    # True when sending it again cannot succeed (an invalid or barred number).
    permanent: bool = False


class SmsGateway(ABC):
    """Interface: `send(message) -> SendResult`; never raises for a failed send."""

    name = "abstract"

    @abstractmethod
    def send(self, message):
        """Send one message; a failure is a SendResult with ok=False."""


class RecordingSmsGateway(SmsGateway):
    """Stores the message as sent (a demo / test deployment has no SMS provider)."""

    name = "record"

    def send(self, message):
        return SendResult(True, f"record-{uuid.uuid4().hex[:16]}")


class HttpSmsGateway(SmsGateway):
    """A JSON-over-HTTP SMS provider:

        POST <url>  {"mobile", "sign_name", "template_id", "template_params", "content",
                     "out_id"}   (Authorization: Bearer <api_key> when configured)

    2xx = accepted (the provider's id read from `id_field` of the JSON answer,
    else `out_id`); anything else, or no answer within `timeout`, = failed."""

    name = "http"

    def __init__(self, url, *, signature="恒大售后", templates=None, api_key=None, timeout=5.0,
                 id_field="message_id", session=None):
        if not url:
            raise ValueError("SMS.url is required for provider http")
        self.url = url
        self.signature = signature
        self.templates = dict(templates or {})
        self.api_key = api_key
        self.timeout = float(timeout)
        self.id_field = id_field
        self.session = session or requests.Session()

    def payload(self, message):
        return {"mobile": message.mobile, "sign_name": self.signature,
                "template_id": self.templates.get(message.template, message.template),
                "template_params": message.params, "content": message.text,
                "out_id": message.notification_id}

    def send(self, message):
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        response, failure = post(self.session, self.url, self.timeout, json=self.payload(message),
                                 headers=headers)
        if failure:
            return failure
        if not 200 <= response.status_code < 300:
            return SendResult(False, error=f"短信网关拒绝 (HTTP {response.status_code}: "
                                           f"{response.text[:200]})")
        provider_id = None
        try:
            body = response.json()
            if isinstance(body, dict):
                provider_id = body.get(self.id_field)
        except ValueError:
            pass
        return SendResult(True, str(provider_id) if provider_id else message.notification_id)


def post(session, url, timeout, **kwargs):
    """POST; returns (response, None), or (None, a failed SendResult) when the
    provider did not answer in `timeout` seconds or could not be reached."""
    try:
        return session.post(url, timeout=timeout, **kwargs), None
    except requests.Timeout:
        return None, SendResult(False, error=f"短信网关超时 (no answer in {timeout:g}s)")
    except requests.RequestException as exc:
        return None, SendResult(False, error=f"短信网关无法连接 (connection failed: "
                                             f"{type(exc).__name__})")


def gateway_from_config(config):
    """`SMS: {provider: record|http|aliyun|tencent, signature, timeout, templates,
    url, api_key, id_field (http), aliyun: {...}, tencent: {...}}`."""
    sms = dict((config or {}).get("SMS") or {})
    provider = str(sms.get("provider") or "record").strip().lower()
    if provider == "record":
        return RecordingSmsGateway()
    if provider == "http":
        return HttpSmsGateway(sms.get("url"), signature=sms.get("signature") or "恒大售后",
                              templates=sms.get("templates"), api_key=sms.get("api_key") or None,
                              timeout=float(sms.get("timeout") or 5),
                              id_field=sms.get("id_field") or "message_id")
    if provider in ("aliyun", "tencent"):
        from services.sla.sms_providers import provider_from_config
        return provider_from_config(provider, sms)
    raise ValueError(f"SMS.provider must be record, http, aliyun or tencent, not {provider!r}")


class SmsProvider(DependencyProvider):
    """Gives workers the configured gateway."""

    def setup(self):
        self.gateway = gateway_from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.gateway
