"""The base of penalty's answer views: every field is in every answer."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from marshmallow.fields import Field


class View(Schema):
    """An answer's shape: each field is present in every answer."""

    def on_bind_field(self, field_name: str, field_obj: Field) -> None:
        field_obj.required = True


def decimal(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(as_string=True, **kwargs)


def text() -> fields.String:
    return fields.String(allow_none=True)
