"""Months and quarters in the group's time zone (pure)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo

from shared.errors import Conflict, InvalidInput

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def month_of(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}"


def parse_month(text: object, field: str = "month") -> tuple[int, int]:
    match = _MONTH.match(str(text or ""))
    if not match:
        raise InvalidInput({field: ["月份格式须为 YYYY-MM (month must be YYYY-MM)"]})
    return int(match.group(1)), int(match.group(2))


def month_start(month: str, zone: tzinfo) -> datetime:
    year, number = parse_month(month)
    return datetime(year, number, 1, tzinfo=zone)


def next_month(month: str) -> str:
    year, number = parse_month(month)
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def previous_month(month: str) -> str:
    year, number = parse_month(month)
    return f"{year - (number == 1):04d}-{(number - 2) % 12 + 1:02d}"


def month_bounds(month: str, zone: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the month as aware instants (DST-safe through zoneinfo)."""
    return month_start(month, zone), month_start(next_month(month), zone)


def require_month_ended(month: str, now: datetime, zone: tzinfo,
                        what: str = "月度扣罚报表") -> None:
    _, end = month_bounds(month, zone)
    if now < end:
        raise Conflict(f"{month} 月尚未结束，{what}须在 {end.isoformat()} 之后出具 "
                       f"(the month has not ended yet; the report can be issued from "
                       f"{end.isoformat()})")


def parse_quarter(text: object, field: str = "quarter") -> tuple[int, int]:
    match = _QUARTER.match(str(text or ""))
    if not match:
        raise InvalidInput({field: ["季度格式须为 YYYY-Qn (quarter must be YYYY-Q1..Q4)"]})
    return int(match.group(1)), int(match.group(2))


def quarter_bounds(quarter: str, zone: tzinfo) -> tuple[datetime, datetime]:
    year, number = parse_quarter(quarter)
    first = f"{year:04d}-{3 * number - 2:02d}"
    last = f"{year:04d}-{3 * number:02d}"
    return month_start(first, zone), month_bounds(last, zone)[1]


def quarter_of_month(month: str) -> str | None:
    """'2026-Q4' when `month` is the last month of its quarter, else None."""
    year, number = parse_month(month)
    return f"{year:04d}-Q{number // 3}" if number % 3 == 0 else None


def require_quarter_ended(quarter: str, now: datetime, zone: tzinfo) -> None:
    _, end = quarter_bounds(quarter, zone)
    if now < end:
        raise Conflict(f"{quarter} 尚未结束，系统性问题分析须在 {end.isoformat()} 之后出具 "
                       f"(the quarter has not ended yet)")


def last_instant(end: datetime) -> datetime:
    """The last microsecond before `end`: a segment cut at a month's end
    belongs to that month."""
    return end - timedelta(microseconds=1)


def local_date(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()

