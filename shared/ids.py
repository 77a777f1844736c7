"""Readable complaint ids: `C-<REGION>-<YYYY>-<NNNNNN>` (ARCHITECTURE, Data).

The region makes ids unique across deployments (SPEC §7); the number is the
region's count of complaints in that year, from a counter row incremented in
the recording's own transaction (repository.next_number). The departments'
records (visits, claims, ...) are numbered within their complaint.
"""
from __future__ import annotations

import re

_REGION = re.compile(r"^[A-Z0-9]{1,12}$")
_COMPLAINT_ID = re.compile(r"^C-(?P<region>[A-Z0-9]{1,12})-(?P<year>\d{4})-(?P<number>\d{6,})$")


def checked_region(region: object) -> str:
    region = str(region).upper()
    if not _REGION.match(region):
        raise ValueError(f"REGION_CODE must be 1-12 letters or digits, not {region!r}")
    return region


def complaint_id(region: str, year: int, number: int) -> str:
    """`C-GZ-2026-000123`; numbers past 999999 simply grow a digit."""
    if number < 1:
        raise ValueError("complaint numbers start at 1")
    return f"C-{checked_region(region)}-{year:04d}-{number:06d}"


def parse_complaint_id(value: object) -> tuple[str, int, int] | None:
    """(region, year, number), or None for anything that is not an id."""
    if not isinstance(value, str):
        return None
    match = _COMPLAINT_ID.match(value)
    if not match:
        return None
    return match["region"], int(match["year"]), int(match["number"])


def is_complaint_id(value: object) -> bool:
    return parse_complaint_id(value) is not None


# -- the departments' records of a complaint (dispatch) -----------------------------------
# `C-GZ-2026-000123-V1`: the complaint's id, the kind's prefix and the record's
# number within the complaint. Callers (the gateway's access checks, links in
# events) read a record's complaint from its id with parse_record_id().

RECORD_PREFIXES = {"visits": "V", "progress": "P", "closure_applications": "A", "claims": "CL",
                   "meetings": "M", "callbacks": "CB", "routings": "R"}
_KIND_BY_PREFIX = {prefix: kind for kind, prefix in RECORD_PREFIXES.items()}
_RECORD_ID = re.compile(r"^(?P<complaint>C-[A-Z0-9]{1,12}-\d{4}-\d{6,})-(?P<prefix>[A-Z]{1,2})"
                        r"(?P<number>\d+)$")


def record_id(complaint: str, kind: str, number: int) -> str:
    """`C-GZ-2026-000123-V1`: the `number`th record of `kind` (a RECORD_PREFIXES key)."""
    return f"{complaint}-{RECORD_PREFIXES[kind]}{number}"


def parse_record_id(value: object) -> tuple[str, str, int] | None:
    """(complaint id, kind, number) of a department's record id, or None."""
    if not isinstance(value, str):
        return None
    match = _RECORD_ID.match(value)
    if not match or match["prefix"] not in _KIND_BY_PREFIX:
        return None
    return match["complaint"], _KIND_BY_PREFIX[match["prefix"]], int(match["number"])
