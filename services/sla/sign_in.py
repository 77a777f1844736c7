"""The sign-in code's SMS (issue 14): the gateway makes the code and asks sla
(`send_sign_in_code`) to send it through the same SMS gateway as every other
message.

The provider receives the code; sla's record of the message
(`sla.notifications`, GET /api/notifications, the notification.* events)
shows it masked (`******`). It is sent at once, in the call, and never
queued or retried: the code lives minutes, and the person asks for another.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.sla.repository import jsonb
from services.sla.sms import SmsGateway, SmsMessage
from shared.errors import InvalidInput
from shared.validation import normalise_phone

log = logging.getLogger(__name__)

TEMPLATE = "sign_in_code"
SOURCE = "sign_in"
MASK = "*"
_CODE = re.compile(r"^\d{4,8}$")


@dataclass(frozen=True)
class SignInSms:
    mobile: str
    code: str
    minutes: int
    person_id: str | None
    name: str | None

    def text(self, signature: str, code: str | None = None) -> str:
        shown = self.code if code is None else code
        return (f"【{signature}】您的登录验证码为 {shown}，{self.minutes} 分钟内有效。"
                "请勿告诉他人；如非本人操作，请忽略本短信。")

    def masked(self) -> str:
        return MASK * len(self.code)


def load_request(mobile: Any, code: Any, person_id: Any, name: Any,
                 valid_minutes: Any) -> SignInSms:
    """The call's arguments checked (400 field by field)."""
    errors: dict[str, list[str]] = {}
    number = normalise_phone(mobile) if isinstance(mobile, str) else None
    if number is None or not re.match(r"^1[3-9]\d{9}$", number):
        errors["mobile"] = ["须为手机号，如 13812345678 (a CN mobile number)"]
    if not isinstance(code, str) or not _CODE.match(code):
        errors["code"] = ["须为 4-8 位数字 (4 to 8 digits)"]
    try:
        minutes = int(valid_minutes)
        if not 1 <= minutes <= 60:
            raise ValueError
    except (TypeError, ValueError):
        errors["valid_minutes"] = ["须为 1-60 的整数 (a whole number 1-60)"]
        minutes = 0
    if errors:
        raise InvalidInput(errors)
    return SignInSms(str(number), code, minutes, str(person_id) if person_id else None,
                     str(name) if name else None)


def send_code(db: Any, outbox: Any, gateway: SmsGateway, request: SignInSms, signature: str,
              now: datetime) -> dict[str, Any]:
    """Send the code's SMS now; record it masked with its notification.sent or
    .failed event. `{"notification_id", "status": sent | failed, "error"}`."""
    notification_id = str(uuid.uuid4())
    result = gateway.send(SmsMessage(notification_id, request.mobile, TEMPLATE,
                                     {"code": request.code, "minutes": request.minutes},
                                     request.text(signature)))
    status = "sent" if result.ok else "failed"
    with db.transaction() as conn:
        conn.execute(
            """INSERT INTO sla.notifications (id, created_at, recipient_person_id,
                   recipient_name, mobile, template, params, text, complaint_id, source,
                   status, attempts, next_attempt_at, last_attempt_at, sent_at, provider,
                   provider_id, error)
               VALUES (%(id)s, %(now)s, %(person)s, %(name)s, %(mobile)s, %(template)s,
                   %(params)s, %(text)s, NULL, %(source)s, %(status)s, 1, NULL, %(now)s,
                   %(sent_at)s, %(provider)s, %(provider_id)s, %(error)s)""",
            {"id": notification_id, "now": now, "person": request.person_id,
             "name": request.name, "mobile": request.mobile, "template": TEMPLATE,
             "params": jsonb({"code": request.masked(), "minutes": request.minutes}),
             "text": request.text(signature, request.masked()), "source": SOURCE,
             "status": status, "sent_at": now if result.ok else None,
             "provider": gateway.name, "provider_id": result.provider_id,
             "error": None if result.ok else (result.error or "")[:1000]})
        common = {"notification_id": notification_id,
                  "recipient_person_id": request.person_id, "template": TEMPLATE,
                  "complaint_id": None, "provider": gateway.name, "attempts": 1}
        if result.ok:
            outbox.add(conn, "notification.sent", dict(
                common, provider_id=result.provider_id, sent_at=now), occurred_at=now)
        else:
            outbox.add(conn, "notification.failed", dict(
                common, error=result.error or "", next_attempt_at=None), occurred_at=now)
    if not result.ok:
        log.warning("sign-in code SMS %s failed: %s", notification_id, result.error)
    return {"notification_id": notification_id, "status": status,
            "error": None if result.ok else result.error}
