"""The complaint's page in one statement (issue 17): the complaint with its
holders, timeline, rating, signature binding, closure applications,
callbacks, accepted stated times and signing links, each list as a JSON
array beside the complaint's columns, instead of one statement each.

A step sends this statement after its writes and before its COMMIT, in the
same round trip (steps.Steps.step_view): the page shows the state the step
left, as a fresh read would. The rows come back as JSON: times are parsed
back (`datetime.fromisoformat`), arrays back to tuples, by the records'
field types, so the records are the ones the per-table reads made.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from services.intake.model import (
    Binding,
    Callback,
    Closure,
    Complaint,
    Holder,
    Link,
    Rating,
    TimeAcceptance,
    TimelineEntry,
)
from services.intake.repository import _COMPLAINT_COLUMNS, _record
from shared.contracts.intake.vocabulary import STEP_RECORD_SIGNATURE

Conn = Any
Loader = Callable[[Any], Any]


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _tuple(value: list[Any] | None) -> tuple[Any, ...] | None:
    return None if value is None else tuple(value)


def _as_is(value: Any) -> Any:
    return value


def _loaders(cls: type) -> tuple[tuple[str, ...], tuple[Loader, ...]]:
    """(column names, how each comes back from JSON) of a record, in field order."""
    names, loaders = [], []
    for f in fields(cls):
        kind = str(f.type)
        names.append(f.name)
        loaders.append(_time if kind.startswith("datetime") else
                       _tuple if kind.startswith("tuple") else _as_is)
    return tuple(names), tuple(loaders)


def _array(alias: str, names: tuple[str, ...]) -> str:
    return f"json_build_array({', '.join(f'{alias}.{n}' for n in names)})"


_RECORDS: dict[type, tuple[tuple[str, ...], tuple[Loader, ...]]] = {
    cls: _loaders(cls) for cls in (Holder, TimelineEntry, Rating, Binding, Closure, Callback,
                                   TimeAcceptance, Link)}


def _of(cls: type, alias: str) -> str:
    return _array(alias, _RECORDS[cls][0])


PAGE_SQL = f"""
SELECT {', '.join(f'c.{n}' for n in _COMPLAINT_COLUMNS)},
  (SELECT json_agg({_of(Holder, 'h')} ORDER BY h.seq) FROM intake.order_holders h
    WHERE h.complaint_id = c.id AND h.order_round = c.order_round) AS page_holders,
  (SELECT json_agg({_of(TimelineEntry, 't')} ORDER BY t.id) FROM intake.timeline t
    WHERE t.complaint_id = c.id) AS page_timeline,
  (SELECT {_of(Rating, 'r')} FROM intake.reception_ratings r
    WHERE r.complaint_id = c.id AND r.order_round = c.order_round) AS page_rating,
  (SELECT {_of(Binding, 'b')} FROM intake.signature_bindings b
    WHERE b.media_id = c.signature_media_id) AS page_binding,
  (SELECT json_agg({_of(Closure, 'x')} ORDER BY x.received_at, x.application_id)
     FROM intake.closures x WHERE x.complaint_id = c.id) AS page_closures,
  (SELECT json_agg({_of(Callback, 'k')} ORDER BY k.id) FROM intake.callbacks k
    WHERE k.complaint_id = c.id) AS page_callbacks,
  (SELECT json_agg({_of(TimeAcceptance, 'a')}) FROM intake.time_acceptances a
    WHERE a.complaint_id = c.id) AS page_accepted,
  (SELECT json_agg({_of(Link, 'l')} ORDER BY l.created_at, l.token_sha256)
     FROM intake.customer_links l
    WHERE l.complaint_id = c.id AND l.step = '{STEP_RECORD_SIGNATURE}') AS page_links
FROM intake.complaints c WHERE c.id = %(id)s"""


def _one(cls: type, values: list[Any]) -> Any:
    return cls(*(load(v) for load, v in zip(_RECORDS[cls][1], values, strict=True)))


def _many(cls: type, arrays: list[list[Any]] | None) -> list[Any]:
    return [_one(cls, values) for values in arrays or ()]


@dataclass(frozen=True)
class Page:
    """What the complaint's page shows (views.dump_complaint's arguments)."""
    complaint: Complaint
    timeline: list[TimelineEntry]
    rating: Rating | None
    binding: Binding | None
    closures: list[Closure]
    callbacks: list[Callback]
    accepted: dict[str, TimeAcceptance]
    signing_links: list[Link]


def send(conn: Conn, complaint_id: str) -> Any:
    """Send the page's statement (in a pipeline: queued); its cursor for `load`."""
    return conn.execute(PAGE_SQL, {"id": complaint_id})


def load(cursor: Any) -> Page | None:
    """The page from the statement's row, or None if there is no such complaint."""
    row = cursor.fetchone()
    if row is None:
        return None
    return from_row(row)


def from_row(row: Mapping[str, Any]) -> Page:
    complaint = _record(Complaint, {n: row[n] for n in _COMPLAINT_COLUMNS},
                        holders=tuple(_many(Holder, row["page_holders"])))
    rating, binding = row["page_rating"], row["page_binding"]
    accepted = _many(TimeAcceptance, row["page_accepted"])
    return Page(complaint, _many(TimelineEntry, row["page_timeline"]),
                _one(Rating, rating) if rating is not None else None,
                _one(Binding, binding) if binding is not None else None,
                _many(Closure, row["page_closures"]), _many(Callback, row["page_callbacks"]),
                {a.callback_id: a for a in accepted}, _many(Link, row["page_links"]))


def read(conn: Conn, complaint_id: str) -> Page | None:
    """The page in one statement (autocommit: one snapshot, no BEGIN/COMMIT)."""
    return load(send(conn, complaint_id))

