"""The asynchronous hops timed by the services' own rows, not by page polls.

A page poll places a hop only to within one page GET (the driver's bounds,
benchmarks/load_tables.py). The outbox and inbox rows carry PostgreSQL's
`now()`, the start of the transaction that wrote them, on the one clock of
the benchmark's database server, so each hop and each leg of it can be read
off exactly after the run:

- order signed -> routed: intake's `order.signed` outbox row (written in the
  signature's transaction) to intake's inbox row of dispatch's
  `complaint.routed` for that complaint (the transaction that gives intake the
  handler; dispatch's own routing committed before it published). Legs:
  intake's relay (created -> the relay's batch began), the delivery to
  dispatch (-> dispatch's inbox row, the routing transaction), dispatch's
  relay, the delivery back to intake.
- closure applied -> intake: dispatch's `closure.applied` outbox row to
  intake's inbox row of it. Legs: dispatch's relay, the delivery to intake.

Each figure ends where the effect's transaction began; its commit follows
within a few ms (the transaction is one pipelined round trip, steps.py).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from benchmarks.load_stats import percentile


def _first_event(name: str, schema: str, routing_key: str) -> str:
    """A CTE: each named complaint's first `routing_key` row in `schema`'s outbox."""
    return f"""{name} AS (
    SELECT DISTINCT ON (body::jsonb->>'complaint_id') body::jsonb->>'complaint_id' AS cid,
           event_id, created_at, published_at
    FROM {schema}.outbox
    WHERE routing_key = '{routing_key}' AND body::jsonb->>'complaint_id' = ANY(%(ids)s)
    ORDER BY body::jsonb->>'complaint_id', id)"""


HOPS_SQL = "WITH " + ",\n".join([
    _first_event("signed", "intake", "order.signed"),
    _first_event("routed", "dispatch", "complaint.routed"),
    _first_event("applied", "dispatch", "closure.applied")]) + """
SELECT s.cid,
       s.created_at AS signed_created, s.published_at AS signed_relayed,
       (SELECT min(received_at) FROM dispatch.inbox WHERE event_id = s.event_id)
           AS signed_received,
       r.created_at AS routed_created, r.published_at AS routed_relayed,
       (SELECT min(received_at) FROM intake.inbox WHERE event_id = r.event_id)
           AS routed_received,
       a.created_at AS applied_created, a.published_at AS applied_relayed,
       (SELECT min(received_at) FROM intake.inbox WHERE event_id = a.event_id)
           AS applied_received
FROM signed s
LEFT JOIN routed r ON r.cid = s.cid
LEFT JOIN applied a ON a.cid = s.cid
"""

# (figure, from column, to column): the hop first, then its legs
FIGURES: dict[str, list[tuple[str, str, str]]] = {
    "routed": [
        ("order signed -> routed (intake has the handler)", "signed_created", "routed_received"),
        ("  intake's relay picks order.signed up", "signed_created", "signed_relayed"),
        ("  -> dispatch routes (its inbox row)", "signed_relayed", "signed_received"),
        ("  dispatch's relay picks complaint.routed up", "routed_created", "routed_relayed"),
        ("  -> intake takes complaint.routed (its inbox row)", "routed_relayed",
         "routed_received"),
    ],
    "applied": [
        ("closure applied -> intake's state", "applied_created", "applied_received"),
        ("  dispatch's relay picks closure.applied up", "applied_created", "applied_relayed"),
        ("  -> intake takes closure.applied (its inbox row)", "applied_relayed",
         "applied_received"),
    ],
}


def hop_rows(dsn: str, complaint_ids: Iterable[str]) -> list[dict[str, Any]]:
    """One row per complaint with the timestamps of FIGURES' columns (None
    where that part of the life did not happen)."""
    ids = sorted({cid for cid in complaint_ids if cid})
    if not ids:
        return []
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5,
                         row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute(HOPS_SQL, {"ids": ids}).fetchall()


def hop_figures(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{figure: {"n", "p50", "p99", "max"}} in seconds, over the rows that have
    both ends of the figure."""
    figures: dict[str, dict[str, Any]] = {}
    for legs in FIGURES.values():
        for name, start, end in legs:
            seconds = [(row[end] - row[start]).total_seconds() for row in rows
                       if row.get(start) is not None and row.get(end) is not None]
            if seconds:
                figures[name] = {"n": len(seconds), "p50": percentile(seconds, 50),
                                 "p99": percentile(seconds, 99), "max": max(seconds)}
    return figures


def server_hops(dsn: str, complaint_ids: Iterable[str]) -> dict[str, dict[str, Any]] | None:
    """hop_figures of the complaints, or None if the database does not answer
    (a missed figure, not a failed run)."""
    try:
        return hop_figures(hop_rows(dsn, complaint_ids))
    except psycopg.Error:
        return None
