"""The load benchmark's hops timed by the services' outbox and inbox rows
(benchmarks/load_hops.py), on the real migrated schemas."""
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.load_hops import FIGURES, hop_figures, hop_rows, server_hops
from benchmarks.load_tables import server_hops_table

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def _event(conn, schema, event_type, complaint_id, created_ms, relayed_ms):
    event_id = str(uuid.uuid4())
    body = json.dumps({"event_id": event_id, "type": event_type, "complaint_id": complaint_id})
    conn.execute(
        f"""INSERT INTO {schema}.outbox (event_id, exchange, routing_key, body, created_at,
                                         published_at)
            VALUES (%s, %s, %s, %s, %s, %s)""",
        (event_id, f"{schema}.events", event_type, body, T0 + timedelta(milliseconds=created_ms),
         T0 + timedelta(milliseconds=relayed_ms)))
    return event_id


def _received(conn, schema, handler, event_id, ms):
    conn.execute(f"INSERT INTO {schema}.inbox (handler, event_id, event_type, received_at) "
                 "VALUES (%s, %s, 'x', %s)", (handler, event_id, T0 + timedelta(milliseconds=ms)))


def _life(conn, cid, base, applied=True):
    signed = _event(conn, "intake", "order.signed", cid, base, base + 5)
    _received(conn, "dispatch", "route", signed, base + 20)
    # a second handler of the same event later: the hop ends at the first
    _received(conn, "dispatch", "other", signed, base + 900)
    routed = _event(conn, "dispatch", "complaint.routed", cid, base + 20, base + 30)
    _received(conn, "intake", "routed", routed, base + 45)
    if applied:
        closure = _event(conn, "dispatch", "closure.applied", cid, base + 1000, base + 1010)
        _received(conn, "intake", "applied", closure, base + 1060)


def test_each_hop_and_leg_is_read_off_the_rows_of_the_named_complaints(clean_database, test_dsn):
    with clean_database.transaction() as conn:
        _life(conn, "GZ-2026-000001", 0)
        _life(conn, "GZ-2026-000002", 5000, applied=False)
        _life(conn, "GZ-2026-000099", 9000)          # another run's complaint: not counted

    figures = server_hops(test_dsn, ["GZ-2026-000001", "GZ-2026-000002", None])

    routed = figures["order signed -> routed (intake has the handler)"]
    assert routed["n"] == 2 and routed["p50"] == routed["max"] == pytest.approx(0.045)
    assert figures["  intake's relay picks order.signed up"]["p99"] == pytest.approx(0.005)
    assert figures["  -> dispatch routes (its inbox row)"]["p99"] == pytest.approx(0.015)
    assert figures["  dispatch's relay picks complaint.routed up"]["p99"] == pytest.approx(0.010)
    assert figures["  -> intake takes complaint.routed (its inbox row)"]["p99"] == \
        pytest.approx(0.015)
    applied = figures["closure applied -> intake's state"]
    assert applied["n"] == 1 and applied["p99"] == pytest.approx(0.060)
    assert figures["  -> intake takes closure.applied (its inbox row)"]["p99"] == \
        pytest.approx(0.050)


def test_no_complaints_no_query_and_the_table_lists_every_figure(test_dsn):
    assert hop_rows(test_dsn, [None]) == []
    rows = [{"signed_created": T0, "signed_relayed": T0 + timedelta(milliseconds=3),
             "signed_received": None, "routed_created": None, "routed_relayed": None,
             "routed_received": T0 + timedelta(milliseconds=70),
             "applied_created": None, "applied_relayed": None, "applied_received": None}]
    figures = hop_figures(rows)
    assert set(figures) == {"order signed -> routed (intake has the handler)",
                            "  intake's relay picks order.signed up"}
    report = {"knee_steps": [{"rate": 1, "server_hops": figures}]}
    table = "\n".join(server_hops_table(report))
    assert "70 / 70 (max 70, n 1)" in table
    names = [name for legs in FIGURES.values() for name, _, _ in legs]
    assert len(set(names)) == len(names) and all(name in table for name in names)
