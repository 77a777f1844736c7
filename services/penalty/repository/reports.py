"""SQL of the monthly close: issued reports and analyses, the bottom-ten
history, and the locks and inbox look-up the long steps use."""
from psycopg.types.json import Jsonb

from shared.inbox import inbox_key

SCHEMA = "penalty"


def seen(conn, handler, event_id):
    """Whether the inbox already has this event for `handler` (under its key
    `penalty.<handler>`): the monthly close checks before its long steps."""
    return conn.execute("SELECT 1 FROM penalty.inbox WHERE handler = %(h)s AND event_id = %(e)s",
                        {"h": inbox_key(SCHEMA, handler), "e": str(event_id)}
                        ).fetchone() is not None


def lock(conn, name):
    """A lock held to the end of the transaction (one cut, report, case count at a time)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(name)s))", {"name": name})


def ping(conn):
    conn.execute("SELECT 1")


# -- issued reports and analyses ----------------------------------------------------------------

def latest_report(conn, month, revision=None):
    return conn.execute(
        """SELECT * FROM penalty.monthly_reports WHERE month = %(month)s
             AND (%(revision)s::int IS NULL OR revision = %(revision)s)
           ORDER BY revision DESC LIMIT 1""", {"month": month, "revision": revision}).fetchone()


def insert_report(conn, row):
    conn.execute(
        """INSERT INTO penalty.monthly_reports (month, revision, issued_at, issued_by, trigger,
               snapshot, totals, line_count, csv_media_id, xlsx_media_id, csv_sha256,
               xlsx_sha256, changes)
           VALUES (%(month)s, %(revision)s, %(issued_at)s, %(issued_by)s, %(trigger)s,
               %(snapshot)s, %(totals)s, %(line_count)s, %(csv_media_id)s, %(xlsx_media_id)s,
               %(csv_sha256)s, %(xlsx_sha256)s, %(changes)s)""",
        dict(row, snapshot=Jsonb(row["snapshot"]), totals=Jsonb(row["totals"]),
             changes=Jsonb(row["changes"]) if row.get("changes") is not None else None))


def latest_analysis(conn, quarter):
    return conn.execute(
        """SELECT * FROM penalty.analyses WHERE quarter = %(quarter)s
           ORDER BY revision DESC LIMIT 1""", {"quarter": quarter}).fetchone()


def insert_analysis(conn, quarter, revision, issued_at, issued_by, data):
    conn.execute(
        """INSERT INTO penalty.analyses (quarter, revision, issued_at, issued_by, data)
           VALUES (%(quarter)s, %(revision)s, %(at)s, %(by)s, %(data)s)""",
        {"quarter": quarter, "revision": revision, "at": issued_at, "by": issued_by,
         "data": Jsonb(data)})


def replace_bottom_ten(conn, month, entries):
    conn.execute("DELETE FROM penalty.bottom_ten WHERE month = %(month)s", {"month": month})
    for e in entries:
        conn.execute(
            """INSERT INTO penalty.bottom_ten (month, person_id, rank, mean, ratings)
               VALUES (%(month)s, %(person)s, %(rank)s, %(mean)s, %(ratings)s)""",
            {"month": month, "person": e["person_id"], "rank": e["rank"], "mean": e["mean"],
             "ratings": e["ratings"]})


def bottom_ten_months(conn, person_ids, months):
    rows = conn.execute(
        """SELECT person_id, month, rank FROM penalty.bottom_ten
           WHERE person_id = ANY(%(people)s) AND month = ANY(%(months)s)""",
        {"people": list(person_ids), "months": list(months)}).fetchall()
    out = {}
    for r in rows:
        out.setdefault(r["person_id"], {})[r["month"]] = r["rank"]
    return out
