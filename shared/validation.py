"""Untrusted input: the one set of fields every schema uses, and the one place
that turns marshmallow's messages into SPEC §10's field-by-field 400.

Messages are zh-CN first with the English in brackets, as people read them at
the desk; the same rule gives the same message in every service. Each message
is also a `Coded` string: a stable code (and the values it names) that the
error body carries beside the text (`field_errors`, shared.errors), so a
console words it in its own language.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from shared.errors import Coded, InvalidInput, validation_fields

# typed as str: callers put them in lists beside plain messages (still Coded at run time)
REQUIRED: str = Coded("必填 (required)", "required")
NOT_NULL: str = Coded("不能为空 (may not be null)", "null")
NOT_TEXT: str = Coded("须为文本 (must be text)", "not_text")
BLANK: str = Coded("不能为空白 (may not be blank)", "blank")
CONTROL: str = Coded("含有不允许的控制字符 (control characters are not allowed)", "control_chars")
NOT_OBJECT = Coded("须为 JSON 对象 (must be a JSON object)", "not_object")
AMOUNT = Coded("须为金额 (must be an amount in CNY)", "amount")

# Multi-line text keeps tabs and line breaks; one-line text refuses them too.
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")

# A CN mobile (1[3-9] and nine digits) or a landline with its area code.
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")

MAX_MEDIA = 20
MONEY_LIMIT = Decimal("1e10")        # numeric(12,2): ten digits before the point
CENT = Decimal("0.01")


def messages(**extra: str) -> dict[str, Any]:
    """The error messages every field shares, with the field's own."""
    return {"required": REQUIRED, "null": NOT_NULL, **extra}


def load_input(schema: Schema | type[Schema], data: Any) -> dict[str, Any]:
    """`data` loaded by `schema` (an instance or a class), or InvalidInput."""
    if isinstance(schema, type):
        schema = schema()
    if not isinstance(data, Mapping):
        raise InvalidInput({"_body": [NOT_OBJECT]})
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidInput(validation_fields(exc.messages)) from None


class Form(Schema):
    """Base of every request form: a field we do not know is refused (a typo
    would otherwise be silently dropped)."""
    error_messages = {"unknown": Coded("不允许的字段 (unknown field)", "unknown_field"),
                      "type": NOT_OBJECT}


class Text(fields.String):
    """Bounded text that may not be blank and holds no control characters.
    One-line text is trimmed; multi-line text is kept as typed."""

    def __init__(self, max_length: int = 4000, multiline: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", messages(invalid=NOT_TEXT))
        super().__init__(**kwargs)
        self.max_length = max_length
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self.multiline:
            text = text.strip()
        if not text.strip():
            raise ValidationError(BLANK)
        if len(text) > self.max_length:
            raise ValidationError(Coded(
                f"最多 {self.max_length} 个字符 (at most {self.max_length} characters)",
                "too_long", max=self.max_length))
        if (_CONTROL_MULTILINE if self.multiline else _CONTROL_ONE_LINE).search(text):
            raise ValidationError(CONTROL)
        return text


def optional_text(max_length: int = 4000, multiline: bool = False) -> Text:
    return Text(max_length, multiline, allow_none=True, load_default=None)


class Time(fields.AwareDateTime):
    """An ISO 8601 time with its offset (SPEC §10)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", messages(
            invalid=Coded("须为 ISO 8601 时间，例如 2026-11-27T10:42:00+08:00 (ISO 8601 time)",
                          "time_format"),
            invalid_awareness=Coded("时间须带时区，例如 +08:00 (time needs an offset)",
                                    "time_offset"),
            format=Coded("时间格式不正确 (bad time)", "time_format")))
        super().__init__(**kwargs)


def optional_time() -> Time:
    return Time(allow_none=True, load_default=None)


class Money(fields.Decimal):
    """CNY as an exact decimal: finite, at most two decimals and ten digits,
    at least `minimum` (exclusive when `positive`). Anything else is a 400."""

    def __init__(self, positive: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", messages(
            invalid=AMOUNT, special=AMOUNT))
        super().__init__(validate=self._check, **kwargs)
        self.positive = positive

    def _check(self, value: Decimal) -> None:
        if not value.is_finite():
            raise ValidationError(AMOUNT)
        if self.positive and value <= 0:
            raise ValidationError(Coded("须大于 0 (must be more than 0)", "amount_positive"))
        if not self.positive and value < 0:
            raise ValidationError(Coded("不能为负数 (may not be negative)", "amount_negative"))
        if value != value.quantize(CENT) or abs(value) >= MONEY_LIMIT:
            raise ValidationError(Coded(
                "最多两位小数、十位整数 (at most 10 digits and 2 decimals)", "amount_digits"))


def normalise_phone(value: object) -> str | None:
    """A CN mobile (`13812345678`, `+86 138 1234 5678`) or landline
    (`020-12345678`, `02012345678-123`) in its plain form, or None."""
    if not isinstance(value, str):
        return None
    compact = re.sub(r"[\s()]", "", value)
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix):
            rest = compact[len(prefix):].lstrip("-")
            return rest if _MOBILE.match(rest) else None
    if _MOBILE.match(compact) or _LANDLINE.match(compact):
        return compact
    return None


PHONE = Coded("电话号码格式不正确：手机号如 13812345678，座机如 020-12345678 "
              "(a CN mobile 1[3-9]xxxxxxxxx or a landline 0xx-xxxxxxxx)", "phone")


class Phone(fields.String):
    """A CN mobile 1[3-9]xxxxxxxxx or a landline 0xx-xxxxxxxx, normalised."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", messages(invalid=NOT_TEXT))
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        phone = normalise_phone(text[:40])
        if phone is None:
            raise ValidationError(PHONE)
        return phone


class MediaId(Text):
    """The id of a media object (media's uuid)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(100, **kwargs)


class MediaIds(fields.List):
    """Distinct media ids, at most MAX_MEDIA."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid": Coded("须为列表 (must be a list)",
                                                              "not_list"),
                                             "null": NOT_NULL, "required": REQUIRED})
        kwargs.setdefault("load_default", list)
        super().__init__(MediaId(), validate=self._check, **kwargs)

    @staticmethod
    def _check(values: list[str]) -> None:
        if len(values) > MAX_MEDIA:
            raise ValidationError(Coded(f"最多 {MAX_MEDIA} 个文件 (at most {MAX_MEDIA} files)",
                                        "too_many_files", max=MAX_MEDIA))
        if len(set(values)) != len(values):
            raise ValidationError(Coded("有重复的文件 (repeated media id)", "repeated_media"))


def one_of(choices: Any, label: str = "") -> Callable[[Any], Any]:
    """A OneOf validator whose message lists the choices."""
    listed = ", ".join(str(c) for c in choices)
    # braces doubled: OneOf formats its message
    text = f"{label}须为 {listed} 之一 (one of {listed})".replace("{", "{{").replace("}", "}}")
    return validate.OneOf(tuple(choices), error=Coded(text, "choice",
                                                      choices=[str(c) for c in choices]))


def choice(choices: Any, label: str = "", **kwargs: Any) -> fields.String:
    """A text field that must be one of `choices`."""
    return fields.String(validate=one_of(choices, label),
                         error_messages=messages(invalid=NOT_TEXT), **kwargs)
