"""Writing a decision's new timers and its events in one statement (issue
17: most of sla's CPU is per statement): data-modifying CTEs, the timers'
insert (a key that exists already is left as it is) and the outbox rows, of
which a `deadline.armed` whose timer was not inserted (armed already, by
another path) is left out, as before.

The complaint's upsert stays a statement of its own: with its 35 parameters
the whole would pass psycopg's 50 (MAX_CACHED_STATEMENT_PARAMS), and a
statement above it is parsed afresh on every call (0.5 ms, measured)."""
from services.sla.model import TIMER_FIELDS
from services.sla.repository import _TIMER_COLUMNS, _columns, _unnest, save_complaint


def write(conn, outbox, complaint, arm, events):
    """`events`: [(type, data, occurred_at, complaint_id, timer_id)], the
    timer id given for a `deadline.armed` of one of `arm`, else None."""
    if complaint is not None:
        save_complaint(conn, complaint)
    parts, params = [], {}
    if arm:
        parts.append(f"""armed AS (
            INSERT INTO sla.timers ({_TIMER_COLUMNS})
            SELECT * FROM unnest({_unnest(TIMER_FIELDS)})
            ON CONFLICT (key) DO NOTHING RETURNING id)""")
        params.update(_columns(arm, TIMER_FIELDS))
    if events:
        envelopes = outbox.envelopes([event[:4] for event in events])
        source = ("%(ids)s::uuid[], %(exchanges)s::text[], %(keys)s::text[], "
                  "%(bodies)s::text[], %(armed_ids)s::uuid[]")
        where = "WHERE t IS NULL OR t IN (SELECT id FROM armed)" if arm else ""
        parts.append(f"events AS ({outbox.insert_sql(source, 'a, b, c, d, t', where)})")
        params.update(outbox.params(envelopes), armed_ids=[event[4] for event in events])
    if parts:
        conn.execute(f"WITH {', '.join(parts)} SELECT 1", params)
