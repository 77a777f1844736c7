"""Errors every service raises, and their HTTP form (SPEC §10).

Domain code raises these; the gateway turns them into
`{"error": {"code", "message", "fields", "field_errors"}}` with the matching
status. `fields` is SPEC §10's `{"name": ["message", ...]}`; `field_errors`
says the same with a stable code per message and the values it names,
`{"name": [{"code", "params", "message"}]}` (a message that is no `Coded`
string has the code `invalid`), so a console can word each in its language. Over
nameko RPC they travel as `RemoteError(exc_type, message)`, so each class has a
stable name and `from_remote()` rebuilds it on the gateway side.
"""
from __future__ import annotations

import json
from typing import Any


class Coded(str):
    """A message with a stable code and the values it names (`max=40`):
    still the plain text wherever a string goes (marshmallow's `format` of
    its error messages keeps the code)."""
    code: str
    params: dict[str, Any]

    def __new__(cls, text: str, code: str, **params: Any) -> Coded:
        made = super().__new__(cls, text)
        made.code = code
        made.params = params
        return made

    def format(self, *args: Any, **kwargs: Any) -> Coded:
        return Coded(str.format(self, *args, **kwargs), self.code, **self.params)


def field_error(message: Any) -> dict[str, Any]:
    """One field message as `{"code", "params", "message"}`."""
    return {"code": getattr(message, "code", "invalid"),
            "params": dict(getattr(message, "params", {})), "message": str(message)}


def coded_fields(fields: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {name: [field_error(m) for m in (messages if isinstance(messages, list)
                                            else [messages])]
            for name, messages in fields.items()}


class CCRMError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self._field_errors: dict[str, Any] | None = None

    @property
    def field_errors(self) -> dict[str, Any]:
        """`fields` with their codes (as received over RPC, or from `fields` now)."""
        return self._field_errors if self._field_errors is not None \
            else coded_fields(self.fields)

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
            error["field_errors"] = self.field_errors
        return {"error": error}

    def __str__(self) -> str:
        # The RPC layer carries str(exc): keep fields (and their codes) with the message.
        return json.dumps({"message": self.message, "fields": self.fields,
                           "field_errors": self.field_errors,
                           "code": self.code, "status": self.status}, ensure_ascii=False)


class InvalidInput(CCRMError):
    status = 400
    code = "invalid_input"

    def __init__(self, fields: dict[str, Any],
                 message: str = "输入有误，请按字段提示修改 (invalid input)") -> None:
        super().__init__(message, fields)


class Unauthenticated(CCRMError):
    status = 401
    code = "unauthenticated"


class Forbidden(CCRMError):
    status = 403
    code = "forbidden"


class NotFound(CCRMError):
    status = 404
    code = "not_found"


class Conflict(CCRMError):
    """The step is not allowed in the record's current state."""
    status = 409
    code = "wrong_state"


class TooLarge(CCRMError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(CCRMError):
    status = 415
    code = "unsupported_media_type"


class Unavailable(CCRMError):
    status = 503
    code = "unavailable"


_BY_NAME = {cls.__name__: cls for cls in (
    CCRMError, InvalidInput, Unauthenticated, Forbidden, NotFound, Conflict,
    TooLarge, UnsupportedMediaType, Unavailable)}


def from_remote(exc_type: str, value: Any) -> CCRMError | None:
    """Rebuild a CCRMError from nameko's RemoteError parts, or None.

    A service's own subclass (say `DirectoryIncomplete`) is unknown here; its
    code and status travel in the payload, so it keeps both."""
    try:
        payload = json.loads(value)
        message, fields = payload["message"], payload.get("fields") or {}
    except (TypeError, ValueError, KeyError):
        payload, message, fields = {}, str(value), {}
    cls = _BY_NAME.get(exc_type)
    if cls is None:
        if not isinstance(payload.get("status"), int) or "code" not in payload:
            return None
        cls = CCRMError
    error = cls.__new__(cls)
    CCRMError.__init__(error, message, fields)
    if isinstance(payload.get("field_errors"), dict):
        error._field_errors = payload["field_errors"]
    if cls is CCRMError:
        error.status, error.code = payload["status"], payload["code"]
    return error


def validation_fields(marshmallow_messages: Any) -> dict[str, list[str]]:
    """Flatten marshmallow's nested messages into {"a.b": ["..."]}."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "_schema", []).extend(value)
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    walk("", marshmallow_messages)
    return flat
