"""Readable complaint ids: `C-<REGION>-<YYYY>-<NNNNNN>` (ARCHITECTURE, Data).

The region makes ids unique across deployments (SPEC §7); the number is the
region's count of complaints in that year, from a counter row incremented in
the recording's own transaction (repository.next_number).
"""
import re

_REGION = re.compile(r"^[A-Z0-9]{1,12}$")
_COMPLAINT_ID = re.compile(r"^C-(?P<region>[A-Z0-9]{1,12})-(?P<year>\d{4})-(?P<number>\d{6,})$")


def checked_region(region):
    region = str(region).upper()
    if not _REGION.match(region):
        raise ValueError(f"REGION_CODE must be 1-12 letters or digits, not {region!r}")
    return region


def complaint_id(region, year, number):
    """`C-GZ-2026-000123`; numbers past 999999 simply grow a digit."""
    if number < 1:
        raise ValueError("complaint numbers start at 1")
    return f"C-{checked_region(region)}-{year:04d}-{number:06d}"


def parse_complaint_id(value):
    """(region, year, number), or None for anything that is not an id."""
    if not isinstance(value, str):
        return None
    match = _COMPLAINT_ID.match(value)
    if not match:
        return None
    return match["region"], int(match["year"]), int(match["number"])


def is_complaint_id(value):
    return parse_complaint_id(value) is not None
