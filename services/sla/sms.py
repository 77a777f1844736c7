"""Sending SMS: an interface and two gateways, chosen by the config's `SMS`
section (`provider: record | http`).

`RecordingSmsGateway` (default) keeps each message as sent: the text is in
`sla.notifications`, visible at GET /api/notifications. `HttpSmsGateway`
posts JSON to a provider's URL; a non-2xx answer, a timeout or a refused
connection is a failed attempt that the loop retries with backoff.
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
        try:
            response = self.session.post(self.url, json=self.payload(message), headers=headers,
                                         timeout=self.timeout)
        except requests.Timeout:
            return SendResult(False, error=f"短信网关超时 (no answer in {self.timeout:g}s)")
        except requests.RequestException as exc:
            return SendResult(False, error=f"短信网关无法连接 (connection failed: "
                                           f"{type(exc).__name__})")
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


def gateway_from_config(config):
    """`SMS: {provider: record|http, url, signature, api_key, timeout, templates, id_field}`."""
    sms = dict((config or {}).get("SMS") or {})
    provider = str(sms.get("provider") or "record").strip().lower()
    if provider == "record":
        return RecordingSmsGateway()
    if provider == "http":
        return HttpSmsGateway(sms.get("url"), signature=sms.get("signature") or "恒大售后",
                              templates=sms.get("templates"), api_key=sms.get("api_key") or None,
                              timeout=float(sms.get("timeout") or 5),
                              id_field=sms.get("id_field") or "message_id")
    raise ValueError(f"SMS.provider must be record or http, not {provider!r}")


class SmsProvider(DependencyProvider):
    """Gives workers the configured gateway."""

    def setup(self):
        self.gateway = gateway_from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.gateway
