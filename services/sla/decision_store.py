"""Writing a decision's complaint, new timers and events in one statement
(issue 17: most of sla's CPU is per statement). Data-modifying CTEs: the
complaint's upsert, the timers' insert (a key that exists already is left as
it is), and the outbox rows, of which a `deadline.armed` whose timer was not
inserted (armed already, by another path) is left out, as before."""
from services.sla.model import COMPLAINT_FIELDS, TIMER_FIELDS
from services.sla.repository import (
    _COMPLAINT_COLUMNS,
    _COMPLAINT_UPDATES,
    _TIMER_COLUMNS,
    _columns,
    _complaint_params,
    _unnest,
)


def write(conn, outbox, complaint, arm, events):
    """`events`: [(type, data, occurred_at, complaint_id, timer_id)], the
    timer id given for a `deadline.armed` of one of `arm`, else None."""
    parts, params = [], {}
    if complaint is not None:
        values = ", ".join(f"%(c_{name})s" for name in COMPLAINT_FIELDS)
        parts.append(f"""complaint AS (
            INSERT INTO sla.complaints ({_COMPLAINT_COLUMNS}) VALUES ({values})
            ON CONFLICT (id) DO UPDATE SET {_COMPLAINT_UPDATES})""")
        params.update({f"c_{k}": v for k, v in _complaint_params(complaint).items()})
    if arm:
        parts.append(f"""armed AS (
            INSERT INTO sla.timers ({_TIMER_COLUMNS})
            SELECT * FROM unnest({_unnest(TIMER_FIELDS).replace("%(", "%(t_")})
            ON CONFLICT (key) DO NOTHING RETURNING id)""")
        params.update({f"t_{k}": v for k, v in _columns(arm, TIMER_FIELDS).items()})
    if events:
        envelopes = outbox.envelopes([event[:4] for event in events])
        source = ("%(ids)s::uuid[], %(exchanges)s::text[], %(keys)s::text[], "
                  "%(bodies)s::text[], %(armed_ids)s::uuid[]")
        where = "WHERE t IS NULL OR t IN (SELECT id FROM armed)" if arm else ""
        parts.append(f"events AS ({outbox.insert_sql(source, 'a, b, c, d, t', where)})")
        params.update(outbox.params(envelopes), armed_ids=[event[4] for event in events])
    if parts:
        conn.execute(f"WITH {', '.join(parts)} SELECT 1", params)
