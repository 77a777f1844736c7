"""Penalty's inbox keys follow shared.inbox's `penalty.<handler>`; migration
003 renames the bare keys an older deployment recorded, so an upgraded one
does not apply those events again. The ledger's unique source keys still
charge a fact once whatever the inbox says."""
import time
import uuid

import pytest

from services.penalty.tests.conftest import lines
from services.penalty.tests.helpers import at, missed
from shared.inbox import first_delivery
from shared.migrate import migration_dir

pytestmark = pytest.mark.integration
CID = "C-GZ-2026-000001"
MIGRATION = migration_dir("penalty") / "003_inbox_keys.sql"


def inbox(conn, event_id=None):
    rows = conn.execute("SELECT handler, event_id FROM penalty.inbox "
                        "WHERE %(e)s::uuid IS NULL OR event_id = %(e)s",
                        {"e": event_id}).fetchall()
    return {(r["handler"], str(r["event_id"])) for r in rows}


def test_the_migration_is_applied_by_shared_migrate(database):
    with database.connection() as conn:
        row = conn.execute("SELECT name FROM penalty.schema_migrations WHERE version = '003'")
        assert row.fetchone() == {"name": "003_inbox_keys.sql"}


def test_bare_keys_are_renamed_and_the_renamed_event_is_not_applied_again(clean_database):
    e1, e2, e3 = (str(uuid.uuid4()) for _ in range(3))
    with clean_database.transaction() as conn:
        for handler, event_id in (("deadline.missed", e1), ("overdue.accrued", e2),
                                  ("deadline.met", e3), ("penalty.deadline.met", e3)):
            conn.execute("INSERT INTO penalty.inbox (handler, event_id) VALUES (%s, %s)",
                         (handler, event_id))
        conn.execute(MIGRATION.read_text(encoding="utf-8"))
        assert inbox(conn) == {("penalty.deadline.missed", e1), ("penalty.overdue.accrued", e2),
                               ("penalty.deadline.met", e3)}
        conn.execute(MIGRATION.read_text(encoding="utf-8"))    # a second run changes nothing
        assert len(inbox(conn)) == 3
        assert not first_delivery(conn, "penalty", "deadline.missed", e1)
        assert first_delivery(conn, "penalty", "deadline.missed", e2)


def test_an_event_applied_before_the_upgrade_is_not_charged_again(running):
    data = missed("order_submit", at("2026-11-03 10:30"), 12 * 60, timer="t-upgrade")
    first = running.publish("sla", "deadline.missed", data, complaint_id=CID)
    running.applied(first)
    with running.database.transaction() as conn:      # as an older deployment recorded it
        conn.execute("UPDATE penalty.inbox SET handler = 'deadline.missed' WHERE event_id = %s",
                     (first.event_id,))
        conn.execute(MIGRATION.read_text(encoding="utf-8"))
    running.republish("sla", first)                   # redelivered after the upgrade
    second = running.publish("sla", "deadline.missed", data, complaint_id=CID)  # the same fact
    running.applied(second)
    time.sleep(0.5)                                   # the redelivery is handled by now
    with running.database.connection() as conn:
        assert inbox(conn, first.event_id) == {("penalty.deadline.missed", str(first.event_id))}
        assert inbox(conn, second.event_id) == {("penalty.deadline.missed", str(second.event_id))}
    assert len(lines(running.database, timer_id="t-upgrade")) == 1
