"""SQL of the ledger, open misses, appeals, sanction cases and issued
reports (penalty schema). Named %(x)s parameters; rows mapped by from_row."""
import json
from datetime import datetime

from psycopg.types.json import Jsonb

from services.penalty.appeals import Appeal
from services.penalty.ledger import Line, OpenMiss
from services.penalty.sanctions import Case

LINE_COLUMNS = ("id, seq, person_id, person_name, unit_id, unit_name, amount, bonus_percent, "
                "bonus, rule, article, complaint_id, month, charged_at, evidence, rule_version, "
                "source_key, timer_id, reverses, flags, source_event_id, created_at")
_LINE_SELECT = f"""SELECT {', '.join('d.' + c.strip() for c in LINE_COLUMNS.split(','))},
                          r.id AS reversed_by
                   FROM penalty.deductions d
                   LEFT JOIN penalty.deductions r ON r.reverses = d.id"""


def line_from_row(row):
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


def insert_line(conn, line):
    """Insert unless its source_key (or the line it reverses) is already
    charged; True when inserted."""
    return conn.execute(_INSERT_LINE, _line_params(line)).fetchone() is not None


def insert_lines(conn, lines):
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


def _line_params(line):
    return {"id": line.id, "person_id": line.person_id, "person_name": line.person_name,
            "unit_id": line.unit_id, "unit_name": line.unit_name, "amount": line.amount,
            "bonus_percent": line.bonus_percent, "bonus": line.bonus, "rule": line.rule,
            "article": line.article, "complaint_id": line.complaint_id, "month": line.month,
            "charged_at": line.charged_at, "evidence": Jsonb(line.evidence),
            "rule_version": line.rule_version, "source_key": line.source_key,
            "timer_id": line.timer_id, "reverses": line.reverses, "flags": list(line.flags),
            "source_event_id": line.source_event_id, "created_at": line.created_at}


def insert_lines_copy(conn, lines):
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


def _copy_value(value):
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def get_line(conn, line_id):
    row = conn.execute(f"{_LINE_SELECT} WHERE d.id = %(id)s", {"id": line_id}).fetchone()
    return line_from_row(row) if row else None


def lines_for_timer(conn, timer_id):
    rows = conn.execute(f"{_LINE_SELECT} WHERE d.timer_id = %(timer)s ORDER BY d.seq",
                        {"timer": timer_id}).fetchall()
    return [line_from_row(r) for r in rows]


def blocks_charged(conn, timer_id, rule):
    """Blocks already charged per person for a block-counted timer (original
    lines only: an upheld appeal must not make the final charge them again)."""
    rows = conn.execute(
        """SELECT person_id, COALESCE(sum((evidence->>'blocks')::int), 0) AS blocks
           FROM penalty.deductions
           WHERE timer_id = %(timer)s AND rule = %(rule)s AND reverses IS NULL
           GROUP BY person_id""", {"timer": timer_id, "rule": rule}).fetchall()
    return {r["person_id"]: r["blocks"] for r in rows}


def list_lines(conn, month=None, person_id=None, rule=None, limit=200, offset=0):
    rows = conn.execute(
        f"""{_LINE_SELECT}
            WHERE (%(month)s::text IS NULL OR d.month = %(month)s)
              AND (%(person)s::text IS NULL OR d.person_id = %(person)s)
              AND (%(rule)s::text IS NULL OR d.rule = %(rule)s)
            ORDER BY d.seq LIMIT %(limit)s OFFSET %(offset)s""",
        {"month": month, "person": person_id, "rule": rule, "limit": limit,
         "offset": offset}).fetchall()
    return [line_from_row(r) for r in rows]


def count_lines(conn, month=None, person_id=None, rule=None):
    return conn.execute(
        """SELECT count(*) AS n FROM penalty.deductions
           WHERE (%(month)s::text IS NULL OR month = %(month)s)
             AND (%(person)s::text IS NULL OR person_id = %(person)s)
             AND (%(rule)s::text IS NULL OR rule = %(rule)s)""",
        {"month": month, "person": person_id, "rule": rule}).fetchone()["n"]


def report_rows(conn, month):
    """The month's lines per person and rule (one pass over the month)."""
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
           FROM penalty.deductions WHERE month = %(month)s
           GROUP BY person_id, rule""", {"month": month}).fetchall()


# -- open misses (block-counted steps not done yet) ------------------------------------------

def open_miss(conn, data, complaint_id, now):
    conn.execute(
        """INSERT INTO penalty.open_misses (timer_id, rule, article, complaint_id, person_id,
               role, due_at, opened_at)
           VALUES (%(timer)s, %(rule)s, %(article)s, %(complaint)s, %(person)s, %(role)s,
               %(due)s, %(now)s)
           ON CONFLICT (timer_id) DO NOTHING""",
        {"timer": data["timer_id"], "rule": data["rule"], "article": data["article"],
         "complaint": complaint_id, "person": data.get("person_id"), "role": data.get("role"),
         "due": data["due_at"], "now": now})


def end_miss(conn, data, complaint_id, at, by):
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


def open_misses_before(conn, end):
    rows = conn.execute(
        """SELECT m.*, c.holders FROM penalty.open_misses m
           LEFT JOIN penalty.complaints c ON c.id = m.complaint_id
           WHERE m.ended_at IS NULL AND m.due_at < %(end)s
           ORDER BY m.due_at, m.timer_id FOR UPDATE OF m""", {"end": end}).fetchall()
    return [OpenMiss(r["timer_id"], r["rule"], r["article"], r["complaint_id"], r["person_id"],
                     r["role"], r["due_at"], _holders(r["holders"])) for r in rows]


def _holders(raw):
    out = []
    for h in raw or ():
        out.append({"person_id": h.get("person_id"), "role": h.get("role"),
                    "from": datetime.fromisoformat(h["from"]),
                    "to": datetime.fromisoformat(h["to"]) if h.get("to") else None})
    return tuple(out)


# -- appeals -------------------------------------------------------------------------------

def appeal_from_row(row):
    return Appeal(str(row["id"]), str(row["deduction_id"]), row["person_id"], row["reason"],
                  row["filed_at"], row["status"], row["decided_by"], row["decided_at"],
                  row["decision_reason"],
                  str(row["reversal_id"]) if row["reversal_id"] else None)


def insert_appeal(conn, appeal):
    row = conn.execute(
        """INSERT INTO penalty.appeals (id, deduction_id, person_id, reason, filed_at, status)
           VALUES (%(id)s, %(deduction)s, %(person)s, %(reason)s, %(at)s, %(status)s)
           ON CONFLICT (deduction_id) DO NOTHING RETURNING id""",
        {"id": appeal.id, "deduction": appeal.deduction_id, "person": appeal.person_id,
         "reason": appeal.reason, "at": appeal.filed_at, "status": appeal.status}).fetchone()
    return row is not None


def get_appeal(conn, appeal_id, for_update=False):
    row = conn.execute(f"SELECT * FROM penalty.appeals WHERE id = %(id)s"
                       f"{' FOR UPDATE' if for_update else ''}", {"id": appeal_id}).fetchone()
    return appeal_from_row(row) if row else None


def appeal_for_line(conn, deduction_id):
    row = conn.execute("SELECT * FROM penalty.appeals WHERE deduction_id = %(id)s",
                       {"id": deduction_id}).fetchone()
    return appeal_from_row(row) if row else None


def record_appeal_decision(conn, appeal):
    conn.execute(
        """UPDATE penalty.appeals SET status = %(status)s, decided_by = %(by)s,
               decided_at = %(at)s, decision_reason = %(reason)s, reversal_id = %(reversal)s
           WHERE id = %(id)s""",
        {"id": appeal.id, "status": appeal.status, "by": appeal.decided_by,
         "at": appeal.decided_at, "reason": appeal.decision_reason,
         "reversal": appeal.reversal_id})


def list_appeals(conn, status=None, person_id=None, limit=200):
    rows = conn.execute(
        """SELECT * FROM penalty.appeals
           WHERE (%(status)s::text IS NULL OR status = %(status)s)
             AND (%(person)s::text IS NULL OR person_id = %(person)s)
           ORDER BY filed_at, id LIMIT %(limit)s""",
        {"status": status, "person": person_id, "limit": limit}).fetchall()
    return [appeal_from_row(r) for r in rows]


# -- sanction cases ------------------------------------------------------------------------------

def case_from_row(row):
    return Case(
        id=str(row["id"]), kind=row["kind"], article=row["article"], person_id=row["person_id"],
        role=row["role"], complaint_id=row["complaint_id"], source_key=row["source_key"],
        evidence=row["evidence"], allowed=row["allowed"], rule_version=row["rule_version"],
        opened_at=row["opened_at"], opened_by=row["opened_by"], month=row["month"],
        status=row["status"], decision=row["decision"], decided_by=row["decided_by"],
        decided_role=row["decided_role"], decided_at=row["decided_at"],
        deduction_id=str(row["deduction_id"]) if row["deduction_id"] else None)


def insert_case(conn, case):
    row = conn.execute(
        """INSERT INTO penalty.sanction_cases (id, kind, article, person_id, role, complaint_id,
               source_key, evidence, allowed, rule_version, month, opened_at, opened_by, status)
           VALUES (%(id)s, %(kind)s, %(article)s, %(person)s, %(role)s, %(complaint)s,
               %(key)s, %(evidence)s, %(allowed)s, %(version)s, %(month)s, %(at)s, %(by)s,
               %(status)s)
           ON CONFLICT (source_key) DO NOTHING RETURNING id""",
        {"id": case.id, "kind": case.kind, "article": case.article, "person": case.person_id,
         "role": case.role, "complaint": case.complaint_id, "key": case.source_key,
         "evidence": Jsonb(case.evidence), "allowed": Jsonb(case.allowed),
         "version": case.rule_version, "month": case.month, "at": case.opened_at,
         "by": case.opened_by, "status": case.status}).fetchone()
    return row is not None


def get_case(conn, case_id, for_update=False):
    row = conn.execute(f"SELECT * FROM penalty.sanction_cases WHERE id = %(id)s"
                       f"{' FOR UPDATE' if for_update else ''}", {"id": case_id}).fetchone()
    return case_from_row(row) if row else None


def open_cases_for_timer(conn, timer_id):
    rows = conn.execute(
        """SELECT * FROM penalty.sanction_cases
           WHERE status = 'open' AND evidence->>'timer_id' = %(timer)s FOR UPDATE""",
        {"timer": timer_id}).fetchall()
    return [case_from_row(r) for r in rows]


def save_case(conn, case):
    conn.execute(
        """UPDATE penalty.sanction_cases SET status = %(status)s, evidence = %(evidence)s,
               decision = %(decision)s, decided_by = %(by)s, decided_role = %(role)s,
               decided_at = %(at)s, deduction_id = %(deduction)s
           WHERE id = %(id)s""",
        {"id": case.id, "status": case.status, "evidence": Jsonb(case.evidence),
         "decision": Jsonb(case.decision) if case.decision is not None else None,
         "by": case.decided_by, "role": case.decided_role, "at": case.decided_at,
         "deduction": case.deduction_id})


def count_cases(conn, person_id, kind, month):
    return conn.execute(
        """SELECT count(*) AS n FROM penalty.sanction_cases
           WHERE person_id = %(person)s AND kind = %(kind)s AND month = %(month)s""",
        {"person": person_id, "kind": kind, "month": month}).fetchone()["n"]


def list_cases(conn, status=None, person_id=None, kind=None, limit=200):
    rows = conn.execute(
        """SELECT * FROM penalty.sanction_cases
           WHERE (%(status)s::text IS NULL OR status = %(status)s)
             AND (%(person)s::text IS NULL OR person_id = %(person)s)
             AND (%(kind)s::text IS NULL OR kind = %(kind)s)
           ORDER BY opened_at, complaint_id, role <> 'handler', person_id, id
           LIMIT %(limit)s""",
        {"status": status, "person": person_id, "kind": kind, "limit": limit}).fetchall()
    return [case_from_row(r) for r in rows]


# -- issued reports and analyses ----------------------------------------------------------------

def seen(conn, handler, event_id):
    """Whether the inbox already has this event (a long handler checks first)."""
    return conn.execute("SELECT 1 FROM penalty.inbox WHERE handler = %(h)s AND event_id = %(e)s",
                        {"h": handler, "e": str(event_id)}).fetchone() is not None


def lock(conn, name):
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(name)s))", {"name": name})


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


def ping(conn):
    conn.execute("SELECT 1")
