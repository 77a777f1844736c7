"""The ledger in PostgreSQL: append-only enforced by the database itself."""
import uuid
from dataclasses import replace
from decimal import Decimal

import psycopg
import pytest

from services.penalty import ledger, repository
from services.penalty.appeals import Appeal
from services.penalty.ledger import Person
from services.penalty.tests.helpers import BOOK, ZONE, at, missed

pytestmark = pytest.mark.integration
NOW = at("2026-11-20 12:00")


def a_line(source_timer="t-1", person="p01-spec-1"):
    charge = ledger.missed_charges(missed("order_submit", at("2026-11-03 10:30"), 720,
                                          person=person, timer=source_timer), "C-1", BOOK, ZONE)[0]
    return ledger.to_line(charge, Person(person, "李思琪", "desk", "一期售后"),
                          line_id=str(uuid.uuid4()), now=NOW, zone=ZONE)


def test_update_and_delete_are_refused_by_postgresql(clean_database):
    line = a_line()
    with clean_database.transaction() as conn:
        assert repository.insert_line(conn, line)
    for statement in ("UPDATE penalty.deductions SET amount = 0 WHERE id = %s",
                      "DELETE FROM penalty.deductions WHERE id = %s"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            with clean_database.transaction() as conn:
                conn.execute(statement, (line.id,))
    with clean_database.connection() as conn:
        stored = repository.get_line(conn, line.id)
    assert stored.amount == Decimal("300.00") and stored.evidence["blocks"] == 3


def test_a_source_key_is_charged_once(clean_database):
    first, again = a_line(), a_line()
    assert first.id != again.id and first.source_key == again.source_key
    with clean_database.transaction() as conn:
        assert repository.insert_line(conn, first)
        assert not repository.insert_line(conn, again)
    with clean_database.connection() as conn:
        assert repository.count_lines(conn) == 1


def test_a_line_is_reversed_at_most_once(clean_database):
    line = a_line()
    back = ledger.to_line(ledger.reversal(line, "appeal_upheld", NOW), None,
                          line_id=str(uuid.uuid4()), now=NOW, zone=ZONE)
    twice = ledger.to_line(ledger.reversal(line, "deadline_withdrawn", NOW), None,
                           line_id=str(uuid.uuid4()), now=NOW, zone=ZONE)
    twice = replace(twice, source_key="reverse:other")
    with clean_database.transaction() as conn:
        repository.insert_line(conn, line)
        assert repository.insert_line(conn, back)
        assert not repository.insert_line(conn, twice)
        stored = repository.get_line(conn, line.id)
    assert stored.reversed_by == back.id


def test_an_appeal_decision_is_frozen_once_recorded(clean_database):
    line = a_line()
    appeal = Appeal(str(uuid.uuid4()), line.id, line.person_id, "理由", NOW)
    with clean_database.transaction() as conn:
        repository.insert_line(conn, line)
        assert repository.insert_appeal(conn, appeal)
        assert not repository.insert_appeal(conn, Appeal(str(uuid.uuid4()), line.id,
                                                         line.person_id, "再次", NOW))
        repository.record_appeal_decision(conn, replace(
            appeal, status="rejected", decided_by="centre-gm", decided_at=NOW))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="already recorded"):
        with clean_database.transaction() as conn:
            conn.execute("UPDATE penalty.appeals SET status = 'upheld' WHERE id = %s",
                         (appeal.id,))


def test_the_month_report_rows_aggregate_per_person_and_rule(clean_database):
    lines = [a_line("t-1"), a_line("t-2"), a_line("t-3", person="p01-spec-2")]
    with clean_database.transaction() as conn:
        for line in lines:
            repository.insert_line(conn, line)
        rows = sorted(repository.report_rows(conn, "2026-11"), key=lambda r: r["person_id"])
    assert [(r["person_id"], r["rule"], r["lines"], r["amount"]) for r in rows] == [
        ("p01-spec-1", "order_submit", 2, Decimal("600.00")),
        ("p01-spec-2", "order_submit", 1, Decimal("300.00"))]
