"""SQL of the monthly close: issued reports and analyses, the bottom-ten
history, and the locks and inbox look-up the long steps use."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from shared.inbox import inbox_key

SCHEMA = "penalty"


def seen(conn: Any, handler: str, event_id: object) -> bool:
    """Whether the inbox already has this event for `handler` (under its key
    `penalty.<handler>`): the monthly close checks before its long steps."""
    return conn.execute("SELECT 1 FROM penalty.inbox WHERE handler = %(h)s AND event_id = %(e)s",
                        {"h": inbox_key(SCHEMA, handler), "e": str(event_id)}
                        ).fetchone() is not None


def lock(conn: Any, name: str) -> None:
    """A lock held to the end of the transaction (one cut, report, case count at a time)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(name)s))", {"name": name})


def ping(conn: Any) -> None:
    conn.execute("SELECT 1")


# -- issued reports and analyses ----------------------------------------------------------------

def latest_report(conn: Any, month: str, revision: int | None = None) -> dict[str, Any] | None:
    return conn.execute(
        """SELECT * FROM penalty.monthly_reports WHERE month = %(month)s
             AND (%(revision)s::int IS NULL OR revision = %(revision)s)
           ORDER BY revision DESC LIMIT 1""", {"month": month, "revision": revision}).fetchone()


def insert_report(conn: Any, row: Mapping[str, Any]) -> None:
    conn.execute(
        """INSERT INTO penalty.monthly_reports (month, revision, issued_at, issued_by, trigger,
               snapshot, totals, line_count, csv_media_id, xlsx_media_id, csv_sha256,
               xlsx_sha256, changes)
           VALUES (%(month)s, %(revision)s, %(issued_at)s, %(issued_by)s, %(trigger)s,
               %(snapshot)s, %(totals)s, %(line_count)s, %(csv_media_id)s, %(xlsx_media_id)s,
               %(csv_sha256)s, %(xlsx_sha256)s, %(changes)s)""",
        dict(row, snapshot=Jsonb(row["snapshot"]), totals=Jsonb(row["totals"]),
             changes=Jsonb(row["changes"]) if row.get("changes") is not None else None))


def latest_analysis(conn: Any, quarter: str) -> dict[str, Any] | None:
    return conn.execute(
        """SELECT * FROM penalty.analyses WHERE quarter = %(quarter)s
           ORDER BY revision DESC LIMIT 1""", {"quarter": quarter}).fetchone()


def insert_analysis(conn: Any, quarter: str, revision: int, issued_at: datetime,
                    issued_by: str | None, data: Mapping[str, Any]) -> None:
    conn.execute(
        """INSERT INTO penalty.analyses (quarter, revision, issued_at, issued_by, data)
           VALUES (%(quarter)s, %(revision)s, %(at)s, %(by)s, %(data)s)""",
        {"quarter": quarter, "revision": revision, "at": issued_at, "by": issued_by,
         "data": Jsonb(data)})


def replace_bottom_ten(conn: Any, month: str, entries: Iterable[Mapping[str, Any]]) -> None:
    conn.execute("DELETE FROM penalty.bottom_ten WHERE month = %(month)s", {"month": month})
    for e in entries:
        conn.execute(
            """INSERT INTO penalty.bottom_ten (month, person_id, rank, mean, ratings)
               VALUES (%(month)s, %(person)s, %(rank)s, %(mean)s, %(ratings)s)""",
            {"month": month, "person": e["person_id"], "rank": e["rank"], "mean": e["mean"],
             "ratings": e["ratings"]})


def bottom_ten_months(conn: Any, person_ids: Iterable[str],
                      months: Iterable[str]) -> dict[str, dict[str, int]]:
    rows = conn.execute(
        """SELECT person_id, month, rank FROM penalty.bottom_ten
           WHERE person_id = ANY(%(people)s) AND month = ANY(%(months)s)""",
        {"people": list(person_ids), "months": list(months)}).fetchall()
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["person_id"], {})[r["month"]] = r["rank"]
    return out


# -- the measures the departments an analysis names file (Art. 42) ------------------------------

def measures(conn: Any, quarter: str) -> dict[str, dict[str, Any]]:
    """{unit_id: the measures it filed} of the quarter."""
    rows = conn.execute("SELECT * FROM penalty.measures WHERE quarter = %(q)s",
                        {"q": quarter}).fetchall()
    return {r["unit_id"]: r for r in rows}


def insert_measures(conn: Any, row: Mapping[str, Any]) -> None:
    conn.execute(
        """INSERT INTO penalty.measures (quarter, unit_id, department, company_id,
               analysis_revision, filed_by, filed_by_name, filed_at, text, media_ids)
           VALUES (%(quarter)s, %(unit_id)s, %(department)s, %(company_id)s,
               %(analysis_revision)s, %(filed_by)s, %(filed_by_name)s, %(filed_at)s, %(text)s,
               %(media_ids)s)""", row)
