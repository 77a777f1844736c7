"""Binding a signature to the record it confirms (SPEC §6).

When intake or dispatch stores a record the customer signed (a complaint, a
visit, a closure application), it computes `record_sha256(record)` and calls
media's `bind_signature(media_id, record_type, record_id, sha)`. Later,
`verify_signature(media_id, record_sha256(current_record))` says whether the
record is still what was signed.

The canonical form must be the same for the same content in every service and
every run: JSON with sorted keys and no whitespace; datetimes as ISO 8601 in
UTC; dates as ISO dates; Decimals as strings of their value in plain notation
(Decimal("100"), Decimal("100.00") and Decimal("1E+2") are all "100", so an
amount read back from a numeric(12,2) column hashes as it did when it was
given); UUIDs as their string; sets sorted; tuples as lists. A naive datetime
has no meaning here and is refused rather than guessed.
"""
import hashlib
import json
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any


class NotCanonical(TypeError):
    """The record holds a value with no canonical form."""


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise NotCanonical(f"decimal {value} has no canonical form")
    # By value: trailing zeros dropped, plain notation, no negative zero.
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def _canonical_value(value: object) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise NotCanonical(f"datetime {value!r} has no time zone")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value  # encoded in turn, through this function if need be
    if isinstance(value, (set, frozenset)):
        # Sets have no order: sort the members by their own canonical text.
        return sorted(value, key=lambda member: _dumps(member))
    raise NotCanonical(f"{type(value).__name__} has no canonical form")


def canonical_form(record: object) -> str:
    """The record as canonical JSON text (see the module doc)."""
    if not isinstance(record, dict):
        raise NotCanonical("a signed record is a dict")
    return _dumps(record)


def _dumps(value: object) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False, default=_canonical_value)
    except ValueError as exc:  # inf / nan floats
        raise NotCanonical(str(exc)) from None


def record_sha256(record: object) -> str:
    """Hex SHA-256 of the record's canonical form (UTF-8)."""
    return hashlib.sha256(canonical_form(record).encode("utf-8")).hexdigest()
