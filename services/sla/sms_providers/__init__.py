"""SMS providers a group in China contracts with, behind services.sla.sms's
SmsGateway: Alibaba Cloud SMS (`aliyun`) and Tencent Cloud SMS (`tencent`),
each through its documented signed HTTP API (no SDK). Delivery receipts: see
the README's "SMS providers"."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.sla.sms import SmsGateway
from services.sla.sms_providers.aliyun import ENDPOINT as ALIYUN_ENDPOINT
from services.sla.sms_providers.aliyun import AliyunSmsGateway
from services.sla.sms_providers.templates import Template, templates_from_config
from services.sla.sms_providers.tencent import ENDPOINT as TENCENT_ENDPOINT
from services.sla.sms_providers.tencent import TencentSmsGateway


def _text(value: Any, default: str = "") -> str:
    # Env substitution gives None for an empty variable and an int for digits.
    return default if value is None or value == "" else str(value)


def provider_from_config(provider: str, sms: Mapping[str, Any]) -> SmsGateway:
    """The gateway of `SMS.provider` aliyun or tencent, from `SMS.<provider>`."""
    section = dict(sms.get(provider) or {})
    sign_name = _text(sms.get("signature"), "恒大售后")
    templates = templates_from_config(sms.get("templates"))
    timeout = float(sms.get("timeout") or 5)
    if provider == "aliyun":
        return AliyunSmsGateway(
            _text(section.get("access_key_id")), _text(section.get("access_key_secret")),
            sign_name=sign_name, templates=templates, timeout=timeout,
            region=_text(section.get("region"), "cn-hangzhou"),
            endpoint=_text(section.get("endpoint"), ALIYUN_ENDPOINT))
    if provider == "tencent":
        return TencentSmsGateway(
            _text(section.get("secret_id")), _text(section.get("secret_key")),
            sdk_app_id=_text(section.get("sdk_app_id")), sign_name=sign_name,
            templates=templates, timeout=timeout,
            region=_text(section.get("region"), "ap-guangzhou"),
            endpoint=_text(section.get("endpoint"), TENCENT_ENDPOINT))
    raise ValueError(f"unknown SMS provider {provider!r}")


__all__ = ["AliyunSmsGateway", "TencentSmsGateway", "Template", "provider_from_config",
           "templates_from_config"]
