"""SQL of "every fine reaches HR, once" (issue 13): sla's fired-through mark,
the closes waiting for it, which revision carried each line, the GM's
reviews of heavy months and the frozen rankings."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

# -- sla's mark and the closes waiting for it ----------------------------------------------------

def record_fired_through(conn: Any, mark: datetime, now: datetime) -> datetime:
    """Keep the latest mark sla published; returns it.

    Not the furthest: a simulation clock set back (an admin, the fault test
    starting a run on 2 Nov after sla announced today's date) moves sla's mark
    back, and a mark kept in the future would let a month close before sla had
    fired its timers. A late, older mark only holds a close back a moment."""
    row = conn.execute(
        """INSERT INTO penalty.sla_progress (id, fired_through, received_at)
           VALUES (1, %(mark)s, %(now)s)
           ON CONFLICT (id) DO UPDATE SET
               fired_through = EXCLUDED.fired_through,
               received_at = EXCLUDED.received_at
           RETURNING fired_through""", {"mark": mark, "now": now}).fetchone()
    furthest: datetime = row["fired_through"]
    return furthest


def fired_through(conn: Any) -> datetime | None:
    row = conn.execute("SELECT fired_through FROM penalty.sla_progress WHERE id = 1").fetchone()
    return row["fired_through"] if row else None


def request_close(conn: Any, month: str, due_at: datetime | None, now: datetime,
                  event_id: object) -> None:
    conn.execute(
        """INSERT INTO penalty.month_closes (month, due_at, requested_at, event_id)
           VALUES (%(month)s, %(due)s, %(now)s, %(event)s) ON CONFLICT (month) DO NOTHING""",
        {"month": month, "due": due_at, "now": now, "event": str(event_id)})


def waiting_closes(conn: Any) -> list[str]:
    return [r["month"] for r in conn.execute(
        "SELECT month FROM penalty.month_closes WHERE closed_at IS NULL ORDER BY month")]


def mark_closed(conn: Any, month: str, now: datetime) -> None:
    conn.execute("UPDATE penalty.month_closes SET closed_at = %(now)s "
                 "WHERE month = %(month)s AND closed_at IS NULL", {"month": month, "now": now})


# -- which revision carried each line ------------------------------------------------------------

def unreported_line_ids(conn: Any, month: str) -> list[str]:
    """The month's lines no revision carries yet, in ledger order."""
    return [str(r["id"]) for r in conn.execute(
        """SELECT d.id FROM penalty.deductions d
            WHERE d.month = %(month)s
              AND NOT EXISTS (SELECT 1 FROM penalty.report_lines r WHERE r.deduction_id = d.id)
            ORDER BY d.seq""", {"month": month})]


def carry_lines(conn: Any, month: str, revision: int, line_ids: Iterable[str]) -> None:
    conn.execute(
        """INSERT INTO penalty.report_lines (month, revision, deduction_id)
           SELECT %(month)s, %(revision)s, unnest(%(ids)s::uuid[])""",
        {"month": month, "revision": revision, "ids": list(line_ids)})


def lines_brief(conn: Any, line_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The lines a revision adds, as its `changes` lists them."""
    return conn.execute(
        """SELECT id::text AS deduction_id, person_id, person_name, rule, amount::text AS amount,
                  bonus_percent::text AS bonus_percent, complaint_id, charged_at, reverses::text
                  AS reverses
           FROM penalty.deductions WHERE id = ANY(%(ids)s::uuid[]) ORDER BY seq""",
        {"ids": list(line_ids)}).fetchall()


def months_to_revise(conn: Any) -> list[str]:
    """Months with an issued report and a line none of its revisions carries
    (a line that arrived after the report: a new revision is due)."""
    return [r["month"] for r in conn.execute(
        """SELECT DISTINCT d.month FROM penalty.deductions d
            WHERE d.month IN (SELECT DISTINCT month FROM penalty.monthly_reports)
              AND NOT EXISTS (SELECT 1 FROM penalty.report_lines r WHERE r.deduction_id = d.id)
            ORDER BY d.month""")]


def list_revisions(conn: Any, month: str) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT month, revision, issued_at, issued_by, trigger, totals, line_count, changes
           FROM penalty.monthly_reports WHERE month = %(month)s ORDER BY revision""",
        {"month": month}).fetchall()


# -- the GM's reviews of a person's heavy month ---------------------------------------------------

def insert_review(conn: Any, row: Mapping[str, Any]) -> None:
    conn.execute(
        """INSERT INTO penalty.report_reviews (id, month, person_id, decision, amount, revision,
               case_id, note, decided_by, decided_at)
           VALUES (%(id)s, %(month)s, %(person_id)s, %(decision)s, %(amount)s, %(revision)s,
               %(case_id)s, %(note)s, %(decided_by)s, %(decided_at)s)""", dict(row))


def reviews(conn: Any, month: str) -> dict[str, list[dict[str, Any]]]:
    """Every decision of the month per person, oldest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(
            """SELECT id::text AS id, person_id, decision, amount, revision,
                      case_id::text AS case_id, note, decided_by, decided_at
               FROM penalty.report_reviews WHERE month = %(month)s
               ORDER BY decided_at, id""", {"month": month}):
        out.setdefault(r["person_id"], []).append(r)
    return out


# -- Art. 38: the frozen rankings ---------------------------------------------------------------

def publish_rankings(conn: Any, month: str, now: datetime, data: Mapping[str, Any]) -> bool:
    """Frozen once: False when the month's rankings were already published."""
    row = conn.execute(
        """INSERT INTO penalty.rankings_published (month, published_at, data)
           VALUES (%(month)s, %(now)s, %(data)s) ON CONFLICT (month) DO NOTHING
           RETURNING month""", {"month": month, "now": now, "data": Jsonb(data)}).fetchone()
    return row is not None


def published_rankings(conn: Any, month: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = conn.execute(
        "SELECT month, published_at, data FROM penalty.rankings_published "
        "WHERE month = %(month)s", {"month": month}).fetchone()
    return row
