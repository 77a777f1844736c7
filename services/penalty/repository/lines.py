"""SQL of the ledger and of the open misses (penalty.deductions,
penalty.open_misses). Named %(x)s parameters; rows mapped by line_from_row."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from services.penalty.ledger import Line, OpenMiss

LINE_COLUMNS = ("id, seq, person_id, person_name, unit_id, unit_name, amount, bonus_percent, "
                "bonus, rule, article, complaint_id, month, charged_at, evidence, rule_version, "
                "source_key, timer_id, reverses, flags, source_event_id, created_at")
_LINE_SELECT = f"""SELECT {', '.join('d.' + c.strip() for c in LINE_COLUMNS.split(','))},
                          r.id AS reversed_by
                   FROM penalty.deductions d
                   LEFT JOIN penalty.deductions r ON r.reverses = d.id"""


def line_from_row(row: Any) -> Line:
    return Line(
        id=str(row["id"]), person_id=row["person_id"], person_name=row["person_name"],
        unit_id=row["unit_id"], unit_name=row["unit_name"], amount=row["amount"],
        bonus_percent=row["bonus_percent"], bonus=row["bonus"], rule=row["rule"],
        article=row["article"], complaint_id=row["complaint_id"], month=row["month"],
        charged_at=row["charged_at"], evidence=row["evidence"], rule_version=row["rule_version"],
        source_key=row["source_key"], timer_id=row["timer_id"],
        reverses=str(row["reverses"]) if row["reverses"] else None, flags=tuple(row["flags"]),
        source_event_id=str(row["source_event_id"]) if row["source_event_id"] else None,
        created_at=row["created_at"], seq=row["seq"],
        reversed_by=str(row["reversed_by"]) if row.get("reversed_by") else None)


# -- the ledger ---------------------------------------------------------------------------

_INSERT_LINE = """
    INSERT INTO penalty.deductions (id, person_id, person_name, unit_id, unit_name, amount,
        bonus_percent, bonus, rule, article, complaint_id, month, charged_at, evidence,
        rule_version, source_key, timer_id, reverses, flags, source_event_id, created_at)
    VALUES (%(id)s, %(person_id)s, %(person_name)s, %(unit_id)s, %(unit_name)s, %(amount)s,
        %(bonus_percent)s, %(bonus)s, %(rule)s, %(article)s, %(complaint_id)s, %(month)s,
        %(charged_at)s, %(evidence)s, %(rule_version)s, %(source_key)s, %(timer_id)s,
        %(reverses)s, %(flags)s, %(source_event_id)s, %(created_at)s)
    ON CONFLICT DO NOTHING RETURNING id"""


def insert_line(conn: Any, line: Line) -> bool:
    """Insert unless its source_key (or the line it reverses) is already
    charged; True when inserted."""
    return conn.execute(_INSERT_LINE, _line_params(line)).fetchone() is not None


def insert_lines(conn: Any, lines: Sequence[Line]) -> list[Line]:
    """Several lines in one round trip (psycopg's pipelined executemany);
    returns those inserted (the others were charged already)."""
    if len(lines) < 2:
        return [line for line in lines if insert_line(conn, line)]
    inserted = set()
    with conn.cursor() as cur:
        cur.executemany(_INSERT_LINE, [_line_params(line) for line in lines], returning=True)
        while True:
            row = cur.fetchone()
            if row is not None:
                inserted.add(str(row["id"]))
            if not cur.nextset():
                break
    return [line for line in lines if line.id in inserted]


def _line_params(line: Line) -> dict[str, Any]:
    return {"id": line.id, "person_id": line.person_id, "person_name": line.person_name,
            "unit_id": line.unit_id, "unit_name": line.unit_name, "amount": line.amount,
            "bonus_percent": line.bonus_percent, "bonus": line.bonus, "rule": line.rule,
            "article": line.article, "complaint_id": line.complaint_id, "month": line.month,
            "charged_at": line.charged_at, "evidence": Jsonb(line.evidence),
            "rule_version": line.rule_version, "source_key": line.source_key,
            "timer_id": line.timer_id, "reverses": line.reverses, "flags": list(line.flags),
            "source_event_id": line.source_event_id, "created_at": line.created_at}


def insert_lines_copy(conn: Any, lines: Iterable[Line]) -> None:
    """Bulk load (benchmarks, migrations of history): COPY, no conflict check."""
    columns = ("id", "person_id", "person_name", "unit_id", "unit_name", "amount",
               "bonus_percent", "bonus", "rule", "article", "complaint_id", "month",
               "charged_at", "evidence", "rule_version", "source_key", "timer_id", "reverses",
               "flags", "source_event_id", "created_at")
    with conn.cursor().copy(
            f"COPY penalty.deductions ({', '.join(columns)}) FROM STDIN") as copy:
        for line in lines:
            params = _line_params(line)
            params["evidence"] = params["evidence"].obj
            copy.write_row([_copy_value(params[c]) for c in columns])


def _copy_value(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def get_line(conn: Any, line_id: str) -> Line | None:
    row = conn.execute(f"{_LINE_SELECT} WHERE d.id = %(id)s", {"id": line_id}).fetchone()
    return line_from_row(row) if row else None


def lines_for_timer(conn: Any, timer_id: str) -> list[Line]:
    rows = conn.execute(f"{_LINE_SELECT} WHERE d.timer_id = %(timer)s ORDER BY d.seq",
                        {"timer": timer_id}).fetchall()
    return [line_from_row(r) for r in rows]


def blocks_charged(conn: Any, timer_id: str, rule: str) -> dict[str | None, int]:
    """Blocks already charged per person for a block-counted timer (original
    lines only: an upheld appeal must not make the final charge them again)."""
    rows = conn.execute(
        """SELECT person_id, COALESCE(sum((evidence->>'blocks')::int), 0) AS blocks
           FROM penalty.deductions
           WHERE timer_id = %(timer)s AND rule = %(rule)s AND reverses IS NULL
           GROUP BY person_id""", {"timer": timer_id, "rule": rule}).fetchall()
    return {r["person_id"]: r["blocks"] for r in rows}


def list_lines(conn: Any, month: str | None = None, person_id: str | None = None,
               rule: str | None = None, limit: int = 200, offset: int = 0) -> list[Line]:
    rows = conn.execute(
        f"""{_LINE_SELECT}
            WHERE (%(month)s::text IS NULL OR d.month = %(month)s)
              AND (%(person)s::text IS NULL OR d.person_id = %(person)s)
              AND (%(rule)s::text IS NULL OR d.rule = %(rule)s)
            ORDER BY d.seq LIMIT %(limit)s OFFSET %(offset)s""",
        {"month": month, "person": person_id, "rule": rule, "limit": limit,
         "offset": offset}).fetchall()
    return [line_from_row(r) for r in rows]


def count_lines(conn: Any, month: str | None = None, person_id: str | None = None,
                rule: str | None = None) -> int:
    return conn.execute(
        """SELECT count(*) AS n FROM penalty.deductions
           WHERE (%(month)s::text IS NULL OR month = %(month)s)
             AND (%(person)s::text IS NULL OR person_id = %(person)s)
             AND (%(rule)s::text IS NULL OR rule = %(rule)s)""",
        {"month": month, "person": person_id, "rule": rule}).fetchone()["n"]


def report_rows(conn: Any, month: str,
                new_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """The month's lines per person and rule (one pass over the month). With
    `new_ids`: only the lines already in a revision of the month and these."""
    chosen = "" if new_ids is None else """
             AND (id = ANY(%(new)s::uuid[]) OR EXISTS (
                  SELECT 1 FROM penalty.report_lines r
                   WHERE r.deduction_id = penalty.deductions.id AND r.month = %(month)s))"""
    return conn.execute(
        """SELECT person_id, max(person_name) AS person_name, max(unit_name) AS unit_name,
                  rule, max(article) AS article, count(*) AS lines,
                  COALESCE(sum(amount), 0) AS amount,
                  COALESCE(sum(bonus_percent) FILTER (WHERE amount IS NULL), 0)
                      AS bonus_percent_pending,
                  array_remove(ARRAY[
                      CASE WHEN bool_or('person_not_in_directory' = ANY(flags))
                           THEN 'person_not_in_directory' END,
                      CASE WHEN bool_or('person_inactive' = ANY(flags)) THEN 'person_inactive' END,
                      CASE WHEN bool_or('no_person' = ANY(flags)) THEN 'no_person' END,
                      CASE WHEN bool_or('bonus_unknown' = ANY(flags)) THEN 'bonus_unknown' END,
                      CASE WHEN bool_or('adjustment' = ANY(flags)) THEN 'adjustment' END
                  ], NULL) AS flags
           FROM penalty.deductions WHERE month = %(month)s""" + chosen + """
           GROUP BY person_id, rule""", {"month": month, "new": new_ids or []}).fetchall()


# -- open misses (block-counted steps not done yet) ------------------------------------------

def open_miss(conn: Any, data: Mapping[str, Any], complaint_id: str | None,
              now: datetime) -> None:
    conn.execute(
        """INSERT INTO penalty.open_misses (timer_id, rule, article, complaint_id, person_id,
               role, due_at, opened_at)
           VALUES (%(timer)s, %(rule)s, %(article)s, %(complaint)s, %(person)s, %(role)s,
               %(due)s, %(now)s)
           ON CONFLICT (timer_id) DO NOTHING""",
        {"timer": data["timer_id"], "rule": data["rule"], "article": data["article"],
         "complaint": complaint_id, "person": data.get("person_id"), "role": data.get("role"),
         "due": data["due_at"], "now": now})


def end_miss(conn: Any, data: Mapping[str, Any], complaint_id: str | None, at: datetime,
             by: str) -> None:
    """No more cuts for this timer: its final miss, met or withdrawal arrived.
    Inserted ended if unseen, so a non-final miss arriving late cannot
    reopen it."""
    conn.execute(
        """INSERT INTO penalty.open_misses (timer_id, rule, article, complaint_id, person_id,
               role, due_at, opened_at, ended_at, ended_by)
           VALUES (%(timer)s, %(rule)s, %(article)s, %(complaint)s, %(person)s, %(role)s,
               %(due)s, %(at)s, %(at)s, %(by)s)
           ON CONFLICT (timer_id) DO UPDATE SET
               ended_at = COALESCE(penalty.open_misses.ended_at, EXCLUDED.ended_at),
               ended_by = COALESCE(penalty.open_misses.ended_by, EXCLUDED.ended_by)""",
        {"timer": data["timer_id"], "rule": data["rule"], "article": data.get("article") or "",
         "complaint": complaint_id, "person": data.get("person_id"), "role": data.get("role"),
         "due": data["due_at"], "at": at, "by": by})


def open_misses_before(conn: Any, end: datetime) -> list[OpenMiss]:
    rows = conn.execute(
        """SELECT m.*, c.holders FROM penalty.open_misses m
           LEFT JOIN penalty.complaints c ON c.id = m.complaint_id
           WHERE m.ended_at IS NULL AND m.due_at < %(end)s
           ORDER BY m.due_at, m.timer_id FOR UPDATE OF m""", {"end": end}).fetchall()
    return [OpenMiss(r["timer_id"], r["rule"], r["article"], r["complaint_id"], r["person_id"],
                     r["role"], r["due_at"], _holders(r["holders"])) for r in rows]


def _holders(raw: Any) -> tuple[dict[str, Any], ...]:
    out = []
    for h in raw or ():
        out.append({"person_id": h.get("person_id"), "role": h.get("role"),
                    "from": datetime.fromisoformat(h["from"]),
                    "to": datetime.fromisoformat(h["to"]) if h.get("to") else None})
    return tuple(out)
