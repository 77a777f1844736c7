"""SMS delivery receipts (issue 14): a provider tells us, after it accepted a
message, whether the phone received it. The gateway's public route
`POST /api/sms/receipts/<provider>` hands the raw request to sla
(`record_sms_receipts`); this module checks that the request is the
provider's and reads its receipts; notification_repository records them on
the message by the provider's id kept when it was sent (`provider_id`).

- `aliyun`: Alibaba Cloud's HTTP batch push of `SmsReport`, a JSON array of
  `{phone_number, send_time, report_time, success, err_code, err_msg,
  sms_size, biz_id, out_id}`; answered `{"code": 0, "msg": "成功"}`.
- `tencent`: Tencent Cloud's status callback, a JSON array of
  `{user_receive_time, nationcode, mobile, report_status (SUCCESS | FAIL),
  errmsg, description, sid}`; answered `{"result": 0, "errmsg": "OK"}`.
- `http`: the in-house relay, one object or an array of `{message_id,
  status (delivered | undelivered), error, delivered_at (ISO 8601)}`.

Neither cloud signs its pushes: the callback URL entered in its console
carries a secret, `?token=<SMS.receipts.<provider>_token>`, compared in
constant time (use https, and the provider's published source addresses at
the proxy). The relay signs the body: `X-Signature: sha256=<hex HMAC-SHA256
of the raw body with SMS.receipts.http_secret>`. A provider without a
configured secret has its receipts refused (403).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.sla import notification_repository
from shared.errors import Forbidden, InvalidInput, NotFound, Unauthenticated

PROVIDERS = ("aliyun", "tencent", "http")
DELIVERED, UNDELIVERED = "delivered", "undelivered"
# Both clouds write their times as Beijing wall-clock time without a zone.
PROVIDER_ZONE = ZoneInfo("Asia/Shanghai")
MAX_RECEIPTS = 1000          # one push; Alibaba Cloud batches up to a few hundred
ACKS: dict[str, dict[str, Any]] = {"aliyun": {"code": 0, "msg": "成功"},
                                   "tencent": {"result": 0, "errmsg": "OK"}, "http": {}}


@dataclass(frozen=True)
class Receipt:
    provider_id: str
    status: str                       # DELIVERED or UNDELIVERED
    reported_at: datetime | None      # when the phone received it (or the failure was known)
    error: str | None
    out_id: str | None = None         # our notification id, when the provider echoes it


@dataclass(frozen=True)
class ReceiptSecrets:
    """The config's `SMS.receipts` section: a secret per provider ('' = refused)."""

    aliyun_token: str = ""
    tencent_token: str = ""
    http_secret: str = ""

    @classmethod
    def from_config(cls, sms: Mapping[str, Any] | None) -> ReceiptSecrets:
        section = (sms or {}).get("receipts") or {}

        def text(name: str) -> str:
            value = section.get(name)
            return "" if value is None else str(value)

        return cls(text("aliyun_token"), text("tencent_token"), text("http_secret"))


def verify(provider: str, secrets: ReceiptSecrets, body: bytes, token: str | None,
           signature: str | None) -> None:
    """The request is the provider's, or 404 (no such provider), 403 (its
    receipts are not configured), 401 (wrong token or signature)."""
    if provider not in PROVIDERS:
        raise NotFound(f"没有这个短信服务商 (no SMS provider {provider!r}: "
                       f"{', '.join(PROVIDERS)})")
    if provider == "http":
        if not secrets.http_secret:
            raise Forbidden(_not_configured(provider, "http_secret"))
        expected = "sha256=" + hmac.new(secrets.http_secret.encode(), body,
                                        hashlib.sha256).hexdigest()
        if not signature or not hmac.compare_digest(expected.encode(), signature.encode()):
            raise Unauthenticated("回执签名不正确 (the X-Signature of the receipt is wrong)")
        return
    secret = secrets.aliyun_token if provider == "aliyun" else secrets.tencent_token
    if not secret:
        raise Forbidden(_not_configured(provider, f"{provider}_token"))
    if not token or not hmac.compare_digest(secret.encode(), token.encode()):
        raise Unauthenticated("回执令牌不正确 (the receipt URL's token is wrong)")


def _not_configured(provider: str, key: str) -> str:
    return (f"未配置 {provider} 的短信回执 (receipts from {provider} are not taken: "
            f"set SMS.receipts.{key})")


def parse(provider: str, body: bytes) -> list[Receipt]:
    """The receipts of a verified request; 400 naming what is wrong."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput({"body": ["须为 JSON (must be JSON)"]}) from None
    items = data if isinstance(data, list) else [data] if provider == "http" else None
    if items is None or not items:
        raise InvalidInput({"body": ["须为回执数组 (must be a non-empty array of receipts)"]})
    if len(items) > MAX_RECEIPTS:
        raise InvalidInput({"body": [f"一次最多 {MAX_RECEIPTS} 条 (at most {MAX_RECEIPTS})"]})
    read = {"aliyun": _aliyun, "tencent": _tencent, "http": _http}[provider]
    receipts, errors = [], {}
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise ValueError("须为对象 (must be an object)")
            receipts.append(read(item))
        except ValueError as exc:
            errors[f"{index}"] = [str(exc)]
    if errors:
        raise InvalidInput(errors, "短信回执格式不正确 (malformed receipts)")
    return receipts


def _text(item: Mapping[str, Any], name: str, required: bool = False) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        if required:
            raise ValueError(f"缺少 {name} (missing {name})")
        return None
    if not isinstance(value, str | int):
        raise ValueError(f"{name} 须为文本 (must be text)")
    return str(value)[:500]


def _wall_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=PROVIDER_ZONE)
    except ValueError:
        raise ValueError(f"{name} 须为 YYYY-MM-DD hh:mm:ss") from None


def _aliyun(item: Mapping[str, Any]) -> Receipt:
    success = item.get("success")
    if not isinstance(success, bool):
        raise ValueError("success 须为 true 或 false")
    error = None if success else " ".join(
        t for t in (_text(item, "err_code"), _text(item, "err_msg")) if t) or "undelivered"
    return Receipt(str(_text(item, "biz_id", True)), DELIVERED if success else UNDELIVERED,
                   _wall_time(_text(item, "report_time"), "report_time"), error,
                   _text(item, "out_id"))


def _tencent(item: Mapping[str, Any]) -> Receipt:
    status = _text(item, "report_status", True)
    if status not in ("SUCCESS", "FAIL"):
        raise ValueError("report_status 须为 SUCCESS 或 FAIL")
    error = None if status == "SUCCESS" else " ".join(
        t for t in (_text(item, "errmsg"), _text(item, "description")) if t) or "FAIL"
    return Receipt(str(_text(item, "sid", True)),
                   DELIVERED if status == "SUCCESS" else UNDELIVERED,
                   _wall_time(_text(item, "user_receive_time"), "user_receive_time"), error)


def _http(item: Mapping[str, Any]) -> Receipt:
    status = _text(item, "status", True)
    if status not in (DELIVERED, UNDELIVERED):
        raise ValueError("status 须为 delivered 或 undelivered")
    at = _text(item, "delivered_at")
    reported = None
    if at is not None:
        try:
            reported = datetime.fromisoformat(at)
        except ValueError:
            raise ValueError("delivered_at 须为 ISO 8601 时间") from None
        if reported.tzinfo is None:
            raise ValueError("delivered_at 须带时区 (with its offset)")
    return Receipt(str(_text(item, "message_id", True)), status, reported,
                   _text(item, "error") if status == UNDELIVERED else None)


def record_receipts(db: Any, secrets: ReceiptSecrets, provider: str, body: str,
                    token: str | None, signature: str | None, now: datetime) -> dict[str, Any]:
    """Verify, read and record one push, in one transaction. The answer counts
    what was recorded, what changed nothing (duplicates) and which ids are
    not ours, with the acknowledgement the provider expects; 404 when no
    receipt matched a message of ours."""
    raw = body.encode("utf-8")
    verify(provider, secrets, raw, token, signature)
    receipts = parse(provider, raw)
    outcomes: dict[str, list[str]] = {"recorded": [], "duplicate": [], "unknown": []}
    with db.transaction() as conn:
        for receipt in receipts:
            outcome = notification_repository.record_receipt(conn, provider, receipt, now)
            outcomes[outcome].append(receipt.provider_id)
    if not outcomes["recorded"] and not outcomes["duplicate"]:
        shown = ", ".join(outcomes["unknown"][:10])
        raise NotFound(f"没有与回执对应的短信 (no message of ours has the provider id {shown})",
                       {"message_id": outcomes["unknown"][:100]})
    return dict(ACKS[provider], provider=provider, received=len(receipts),
                recorded=len(outcomes["recorded"]), duplicates=len(outcomes["duplicate"]),
                unmatched=outcomes["unknown"][:100])
