"""The inbox on the real database: each form of `consume` applies an event
once, a redelivery changes nothing, a failure leaves no inbox row, and the
statements an event costs (issue 17: the inbox row shares its statement)."""
import threading
import uuid

import eventlet
import psycopg
import pytest

from shared import inbox
from shared.tests.statements import sent_statements

pytestmark = pytest.mark.integration

# A table of the test's own would need a migration; penalty's read model of
# deadlines is a plain upsert target any test may write.
EFFECT = f"""INSERT INTO penalty.deadline_outcomes (timer_id, rule, due_at, outcome, updated_at)
             SELECT %(timer)s, 'test', now(), 'met', now() WHERE {inbox.GUARD}
             ON CONFLICT (timer_id) DO UPDATE SET updated_at = EXCLUDED.updated_at"""


def event():
    return {"event_id": str(uuid.uuid4()), "type": "test.happened"}


def count(database, sql, *params):
    with database.connection() as conn:
        return conn.execute(sql, params).fetchone()["n"]


def outcomes(database, timer):
    return count(database, "SELECT count(*) AS n FROM penalty.deadline_outcomes "
                           "WHERE timer_id = %s", timer)


def test_a_one_statement_effect_is_applied_once_in_one_statement(clean_database):
    envelope, timer = event(), str(uuid.uuid4())
    with sent_statements() as sent:
        assert inbox.consume_statement(clean_database, "penalty", "test.effect", envelope,
                                       EFFECT, {"timer": timer})
    assert len(sent) == 1, sent         # no BEGIN, no COMMIT: one statement is atomic
    assert outcomes(clean_database, timer) == 1
    other = str(uuid.uuid4())
    assert not inbox.consume_statement(clean_database, "penalty", "test.effect", envelope,
                                       EFFECT, {"timer": other})
    assert outcomes(clean_database, other) == 0      # the redelivery wrote nothing
    # another handler's inbox row is its own
    assert inbox.consume_statement(clean_database, "penalty", "test.other", envelope,
                                   EFFECT, {"timer": other})
    assert outcomes(clean_database, other) == 1


def test_an_effect_not_guarded_by_the_inbox_is_refused(clean_database):
    with pytest.raises(ValueError):
        inbox.consume_statement(clean_database, "penalty", "test.effect", event(),
                                EFFECT.replace(inbox.GUARD, "true"), {"timer": "x"})


def test_a_failing_effect_leaves_no_inbox_row(clean_database):
    envelope = event()
    with pytest.raises(psycopg.errors.CheckViolation):
        inbox.consume_statement(clean_database, "penalty", "test.effect", envelope,
                                EFFECT.replace("'met'", "'no such outcome'"), {"timer": "x"})
    assert count(clean_database, "SELECT count(*) AS n FROM penalty.inbox "
                                 "WHERE event_id = %s", envelope["event_id"]) == 0
    assert inbox.consume_statement(clean_database, "penalty", "test.effect", envelope,
                                   EFFECT, {"timer": "x"})


def test_consume_with_reads_its_columns_and_runs_its_effects_once(clean_database):
    envelope, timer = event(), str(uuid.uuid4())
    seen = []

    def apply(conn, row):
        seen.append(row["answer"])
        return "applied"

    with sent_statements() as sent:
        assert inbox.consume_with(clean_database, "penalty", "test.with", envelope,
                                  "%(n)s::int + 1 AS answer", {"n": 41, "timer": timer}, apply,
                                  effects=[EFFECT]) == "applied"
    assert len(sent) == 3, sent         # BEGIN, the inbox row with all of it, COMMIT
    assert seen == [42] and outcomes(clean_database, timer) == 1
    assert inbox.consume_with(clean_database, "penalty", "test.with", envelope,
                              "1 AS answer", {"timer": timer}, apply) is None
    assert seen == [42]


def test_consume_with_rolls_back_the_inbox_row_when_the_effect_fails(clean_database):
    envelope, timer = event(), str(uuid.uuid4())

    def fail(conn, row):
        raise RuntimeError("effect failed")

    with pytest.raises(RuntimeError):
        inbox.consume_with(clean_database, "penalty", "test.with", envelope, "", {"timer": timer},
                           fail, effects=[EFFECT])
    assert outcomes(clean_database, timer) == 0
    assert inbox.consume_with(clean_database, "penalty", "test.with", envelope, "",
                              {"timer": timer}, lambda conn, row: "again",
                              effects=[EFFECT]) == "again"


def test_two_deliveries_at_once_apply_once(clean_database):
    """The second waits on the first's inbox row, then finds it committed."""
    envelope, timer = event(), str(uuid.uuid4())
    inside, release, results = threading.Event(), threading.Event(), []

    def slow(conn, row):
        inside.set()
        release.wait(5)
        return "first"

    first = eventlet.spawn(lambda: results.append(inbox.consume_with(
        clean_database, "penalty", "test.race", envelope, "", {"timer": timer}, slow,
        effects=[EFFECT])))
    assert inside.wait(5)
    second = eventlet.spawn(lambda: results.append(inbox.consume_statement(
        clean_database, "penalty", "test.race", envelope, EFFECT, {"timer": timer})))
    eventlet.sleep(0.3)
    assert results == []                # the second waits for the first's commit
    release.set()
    first.wait()
    second.wait()
    # Either may append first: the second's answer comes with the first's commit.
    assert sorted(results, key=str) == [False, "first"]
    assert outcomes(clean_database, timer) == 1


def test_plain_consume_is_unchanged(clean_database):
    envelope = event()
    with sent_statements() as sent:
        assert inbox.consume(clean_database, "penalty", "test.plain", envelope,
                             lambda conn: "done") == "done"
    assert len(sent) == 3               # BEGIN, inbox row, COMMIT
    assert inbox.consume(clean_database, "penalty", "test.plain", envelope,
                         lambda conn: "again") is None
