"""Writing a decision in two statements (issue 17: most of sla's CPU is per
statement): the complaint's upsert, then one statement of data-modifying
CTEs: the new timers (a key that exists already is left as it is), the
changed timers, the messages to send, and the outbox rows, of which a
`deadline.armed` whose timer was not inserted (armed already, by another
path) is left out, as before.

The complaint's upsert stays a statement of its own: with its 35 parameters
the whole would pass psycopg's 50 (MAX_CACHED_STATEMENT_PARAMS), and a
statement above it is parsed afresh on every call (0.5 ms, measured). The
second one stays under it: 16 + 10 + 10 + 6 + 1 at most."""
import uuid

from services.sla.model import TIMER_FIELDS
from services.sla.repository import (
    _TIMER_COLUMNS,
    _columns,
    _unnest,
    jsonb,
    save_complaint,
)

# Changed timers: what a decision may change of one (its arrays prefixed `u_`).
_UPDATED = ("id", "person_id", "role", "due_at", "state", "fired_at", "done_at", "late_seconds",
            "settled", "details")
_UPDATE = f"""updated AS (
    UPDATE sla.timers t
       SET person_id = v.person_id, role = v.role, due_at = v.due_at, state = v.state,
           fired_at = v.fired_at,
           fired_wall_at = CASE WHEN v.fired_at IS NOT NULL AND t.fired_wall_at IS NULL
                                THEN clock_timestamp() ELSE t.fired_wall_at END,
           done_at = v.done_at, late_seconds = v.late_seconds, settled = v.settled,
           details = v.details
      FROM unnest({_unnest(_UPDATED, "u_")})
           AS v({", ".join(_UPDATED)})
     WHERE t.id = v.id)"""

# Messages to send (a message penalty asked for twice, same key, is queued
# once per person); arrays in binary as repository._unnest says why.
_MESSAGE_TYPES = {"id": "uuid", "recipient_person_id": "text", "recipient_name": "text",
                  "mobile": "text", "template": "text", "params": "jsonb", "text": "text",
                  "complaint_id": "text", "source": "text", "request_key": "text"}
_QUEUE = f"""queued AS (
    INSERT INTO sla.notifications (id, created_at, recipient_person_id, recipient_name, mobile,
                                   template, params, text, complaint_id, source, status,
                                   attempts, next_attempt_at, request_key)
    SELECT m.id, %(m_now)s, m.recipient_person_id, m.recipient_name, m.mobile, m.template,
           m.params, m.text, m.complaint_id, m.source, 'pending', 0, %(m_now)s, m.request_key
      FROM unnest({", ".join(f"%(m_{name})b::{kind}[]" for name, kind in _MESSAGE_TYPES.items())})
           AS m({", ".join(_MESSAGE_TYPES)})
    ON CONFLICT (request_key, recipient_person_id) WHERE request_key IS NOT NULL
    DO NOTHING)"""


def _message_params(messages, now):
    params = {f"m_{name}": [getattr(m, name, None) for m in messages] for name in _MESSAGE_TYPES}
    params["m_id"] = [str(uuid.uuid4()) for _ in messages]
    params["m_params"] = [jsonb(m.params) for m in messages]
    params["m_request_key"] = [m.params.get("request_key") for m in messages]
    params["m_now"] = now
    return params


def write(conn, outbox, complaint, arm, events, update=(), messages=(), now=None):
    """`events`: [(type, data, occurred_at, complaint_id, timer_id)], the
    timer id given for a `deadline.armed` of one of `arm`, else None.
    `update`: timers changed; `messages`: SMS to queue (at `now`)."""
    if complaint is not None:
        save_complaint(conn, complaint)
    parts, params = [], {}
    if arm:
        parts.append(f"""armed AS (
            INSERT INTO sla.timers ({_TIMER_COLUMNS})
            SELECT * FROM unnest({_unnest(TIMER_FIELDS)})
            ON CONFLICT (key) DO NOTHING RETURNING id)""")
        params.update(_columns(arm, TIMER_FIELDS))
    if update:
        parts.append(_UPDATE)
        params.update((f"u_{name}", value) for name, value in _columns(update, _UPDATED).items())
    if messages:
        parts.append(_QUEUE)
        params.update(_message_params(messages, now))
    if events:
        envelopes = outbox.envelopes([event[:4] for event in events])
        source = f"{outbox.SOURCE}, %(armed_ids)b::uuid[]"
        where = "WHERE t IS NULL OR t IN (SELECT id FROM armed)" if arm else ""
        parts.append(f"events AS ({outbox.insert_sql(source, 'a, b, c, d, t', where)})")
        params.update(outbox.params(envelopes), armed_ids=[event[4] for event in events])
    if parts:
        conn.execute(f"WITH {', '.join(parts)} SELECT 1", params)
