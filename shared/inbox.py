"""Inbox: each consumer applies an event once (ARCHITECTURE).

Call `first_delivery()` inside the transaction of the event's effect: it
records the event id for that handler and says whether this is the first
time. A redelivered event finds its row and is skipped; two deliveries at once
queue on the primary key, and the second sees the first's commit.
"""
from shared import worker_context


def first_delivery(conn, schema, handler, event_id, event_type=None):
    row = conn.execute(
        f"""INSERT INTO {schema}.inbox (handler, event_id, event_type)
            VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1""",
        (handler, str(event_id), event_type)).fetchone()
    if row is None:
        worker_context.note_duplicate()     # ccrm_events_consumed{outcome="duplicate"}
    return row is not None
