"""JSON text for HTTP answers, with orjson (issue 17: the standard encoder
was a few % of the gateway's CPU).

`dumps(value)` writes what `json.dumps(value, ensure_ascii=False,
default=str)` wrote, as UTF-8 bytes, up to whitespace (orjson writes no
spaces after `,` and `:`): a datetime, date or time as its `str()`, a
Decimal, set, dataclass or any other unknown type through `default` (str,
unless given), UUIDs as their canonical text, non-text keys as text. What
orjson refuses (an integer beyond 64 bits) falls back to the standard
encoder, so an answer that serialised before still does. One difference: a
float NaN or infinity is `null` (the standard encoder wrote `NaN`, which is
not JSON).

Not for the RPC messages: kombu's JSON marks datetimes, Decimals and UUIDs
(`{"__type__": ..., "__value__": ...}`) and orjson writes UUIDs natively, so
the wire stays kombu's.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
           | orjson.OPT_NON_STR_KEYS)


def dumps(value: Any, default: Callable[[Any], Any] = str) -> bytes:
    """`value` as JSON text in UTF-8 (see the module's docstring)."""
    try:
        return orjson.dumps(value, default=default, option=OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, default=default).encode("utf-8")
