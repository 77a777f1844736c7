"""SQL of appeals and sanction cases (penalty.appeals, penalty.sanction_cases)."""
from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from services.penalty.appeals import Appeal
from services.penalty.sanctions import Case

# -- appeals -------------------------------------------------------------------------------

def appeal_from_row(row: Any) -> Appeal:
    return Appeal(str(row["id"]), str(row["deduction_id"]), row["person_id"], row["reason"],
                  row["filed_at"], row["status"], row["decided_by"], row["decided_at"],
                  row["decision_reason"],
                  str(row["reversal_id"]) if row["reversal_id"] else None)


def insert_appeal(conn: Any, appeal: Appeal) -> bool:
    row = conn.execute(
        """INSERT INTO penalty.appeals (id, deduction_id, person_id, reason, filed_at, status)
           VALUES (%(id)s, %(deduction)s, %(person)s, %(reason)s, %(at)s, %(status)s)
           ON CONFLICT (deduction_id) DO NOTHING RETURNING id""",
        {"id": appeal.id, "deduction": appeal.deduction_id, "person": appeal.person_id,
         "reason": appeal.reason, "at": appeal.filed_at, "status": appeal.status}).fetchone()
    return row is not None


def get_appeal(conn: Any, appeal_id: str, for_update: bool = False) -> Appeal | None:
    row = conn.execute(f"SELECT * FROM penalty.appeals WHERE id = %(id)s"
                       f"{' FOR UPDATE' if for_update else ''}", {"id": appeal_id}).fetchone()
    return appeal_from_row(row) if row else None


def appeal_for_line(conn: Any, deduction_id: str) -> Appeal | None:
    row = conn.execute("SELECT * FROM penalty.appeals WHERE deduction_id = %(id)s",
                       {"id": deduction_id}).fetchone()
    return appeal_from_row(row) if row else None


def record_appeal_decision(conn: Any, appeal: Appeal) -> None:
    conn.execute(
        """UPDATE penalty.appeals SET status = %(status)s, decided_by = %(by)s,
               decided_at = %(at)s, decision_reason = %(reason)s, reversal_id = %(reversal)s
           WHERE id = %(id)s""",
        {"id": appeal.id, "status": appeal.status, "by": appeal.decided_by,
         "at": appeal.decided_at, "reason": appeal.decision_reason,
         "reversal": appeal.reversal_id})


def list_appeals(conn: Any, status: str | None = None, person_id: str | None = None,
                 limit: int = 200) -> list[Appeal]:
    rows = conn.execute(
        """SELECT * FROM penalty.appeals
           WHERE (%(status)s::text IS NULL OR status = %(status)s)
             AND (%(person)s::text IS NULL OR person_id = %(person)s)
           ORDER BY filed_at, id LIMIT %(limit)s""",
        {"status": status, "person": person_id, "limit": limit}).fetchall()
    return [appeal_from_row(r) for r in rows]


# -- sanction cases ------------------------------------------------------------------------------

def case_from_row(row: Any) -> Case:
    return Case(
        id=str(row["id"]), kind=row["kind"], article=row["article"], person_id=row["person_id"],
        role=row["role"], complaint_id=row["complaint_id"], source_key=row["source_key"],
        evidence=row["evidence"], allowed=row["allowed"], rule_version=row["rule_version"],
        opened_at=row["opened_at"], opened_by=row["opened_by"], month=row["month"],
        status=row["status"], decision=row["decision"], decided_by=row["decided_by"],
        decided_role=row["decided_role"], decided_at=row["decided_at"],
        deduction_id=str(row["deduction_id"]) if row["deduction_id"] else None)


def insert_case(conn: Any, case: Case) -> bool:
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


def get_case(conn: Any, case_id: str, for_update: bool = False) -> Case | None:
    row = conn.execute(f"SELECT * FROM penalty.sanction_cases WHERE id = %(id)s"
                       f"{' FOR UPDATE' if for_update else ''}", {"id": case_id}).fetchone()
    return case_from_row(row) if row else None


def open_cases_for_timer(conn: Any, timer_id: str) -> list[Case]:
    rows = conn.execute(
        """SELECT * FROM penalty.sanction_cases
           WHERE status = 'open' AND evidence->>'timer_id' = %(timer)s FOR UPDATE""",
        {"timer": timer_id}).fetchall()
    return [case_from_row(r) for r in rows]


def save_case(conn: Any, case: Case) -> None:
    conn.execute(
        """UPDATE penalty.sanction_cases SET status = %(status)s, evidence = %(evidence)s,
               decision = %(decision)s, decided_by = %(by)s, decided_role = %(role)s,
               decided_at = %(at)s, deduction_id = %(deduction)s
           WHERE id = %(id)s""",
        {"id": case.id, "status": case.status, "evidence": Jsonb(case.evidence),
         "decision": Jsonb(case.decision) if case.decision is not None else None,
         "by": case.decided_by, "role": case.decided_role, "at": case.decided_at,
         "deduction": case.deduction_id})


def count_cases(conn: Any, person_id: str, kind: str, month: str) -> int:
    return conn.execute(
        """SELECT count(*) AS n FROM penalty.sanction_cases
           WHERE person_id = %(person)s AND kind = %(kind)s AND month = %(month)s""",
        {"person": person_id, "kind": kind, "month": month}).fetchone()["n"]


def list_cases(conn: Any, status: str | None = None, person_id: str | None = None,
               kind: str | None = None, limit: int = 200) -> list[Case]:
    rows = conn.execute(
        """SELECT * FROM penalty.sanction_cases
           WHERE (%(status)s::text IS NULL OR status = %(status)s)
             AND (%(person)s::text IS NULL OR person_id = %(person)s)
             AND (%(kind)s::text IS NULL OR kind = %(kind)s)
           ORDER BY opened_at, complaint_id, role <> 'handler', person_id, id
           LIMIT %(limit)s""",
        {"status": status, "person": person_id, "kind": kind, "limit": limit}).fetchall()
    return [case_from_row(r) for r in rows]
