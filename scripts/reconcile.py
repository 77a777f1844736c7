"""What the fault test sent, against what the database and a subscriber saw.

Every count in `FAILURES` must be zero; the rest are reported figures.
`reconcile()` reads the suite's database (as its owner) and takes the
subscriber's events, the driver's outcomes and the broker's bindings as
arguments, so it can be tested on its own.
"""
from collections import Counter

FAILURES = (
    "complaints_lost", "complaints_duplicated", "complaints_not_closed", "lives_failed",
    "events_unpublished", "events_lost", "events_phantom", "events_not_applied",
    "effects_duplicated", "deductions_charged_twice", "deductions_not_reported",
    "deductions_reported_twice", "dead_lettered", "messages_left", "hub_blocked",
    "services_exited", "media_objects_missing", "sessions_stuck", "fault_answers_wrong",
)


def outbox_rows(conn):
    """Every service's outbox: [(schema, event_id, type, published)]."""
    schemas = [r["table_schema"] for r in conn.execute(
        """SELECT table_schema FROM information_schema.tables
           WHERE table_name = 'outbox' ORDER BY table_schema""").fetchall()]
    rows = []
    for schema in schemas:
        rows += [(schema, str(r["event_id"]), r["routing_key"], r["published_at"] is not None)
                 for r in conn.execute(f"SELECT event_id, routing_key, published_at "
                                       f"FROM {schema}.outbox").fetchall()]
    return rows


def inbox_ids(conn, schema):
    return {str(r["event_id"]) for r in conn.execute(f"SELECT event_id FROM {schema}.inbox")}


def consumer_bindings(bindings):
    """[(source schema, event type, consumer schema, queue)] of nameko event
    handler queues (`evt-<source>-<type>--<service>.<method>`)."""
    found = []
    for b in bindings:
        queue, source = b.get("destination", ""), b.get("source", "")
        if not queue.startswith("evt-") or not source.endswith(".events"):
            continue
        consumer = queue.rsplit("--", 1)[-1].split(".", 1)[0]
        found.append((source[:-len(".events")], b["routing_key"], consumer, queue))
    return found


DUPLICATED_EFFECTS = {
    # A complaint is routed once per order round for the same reason.
    "routings": """SELECT complaint_id, order_round, reason, count(*) AS n FROM dispatch.routings
                   GROUP BY 1, 2, 3 HAVING count(*) > 1""",
    # The driver records exactly one visit, one progress note, one application.
    "visits": """SELECT complaint_id, count(*) AS n FROM dispatch.visits
                 GROUP BY 1 HAVING count(*) > 1""",
    "progress": """SELECT complaint_id, count(*) AS n FROM dispatch.progress
                   GROUP BY 1 HAVING count(*) > 1""",
    "closure_applications": """SELECT complaint_id, count(*) AS n
                               FROM dispatch.closure_applications
                               GROUP BY 1 HAVING count(*) > 1""",
    # Events that reach intake's timeline once each.
    "timeline": """SELECT complaint_id, action, count(*) AS n FROM intake.timeline
                   WHERE action IN ('routed', 'closure_applied')
                   GROUP BY 1, 2 HAVING count(*) > 1""",
    # One miss announced per timer.
    "timers_fired": """SELECT key, count(*) AS n FROM sla.timers
                       GROUP BY 1 HAVING count(*) > 1""",
}

# The same charge twice under two source keys: one person, one rule, one
# timer (or complaint), one moment, one amount.
CHARGED_TWICE = """
    SELECT person_id, rule, timer_id, complaint_id, charged_at, amount, count(*) AS n
    FROM penalty.deductions WHERE reverses IS NULL
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING count(*) > 1"""


# Every fine reaches HR, once (issue 13): each ledger line of a month that is
# reported (a revision issued) or due (sla's fired-through mark, as penalty
# recorded it, has passed the month's end) is carried by exactly one revision
# of its own month, so the month's latest revision has it.
NOT_REPORTED = """
    SELECT d.id::text AS deduction_id, d.month, d.person_id, d.rule, d.amount::text AS amount
    FROM penalty.deductions d
    WHERE NOT EXISTS (SELECT 1 FROM penalty.report_lines r
                      WHERE r.deduction_id = d.id AND r.month = d.month)
      AND (d.month IN (SELECT month FROM penalty.monthly_reports)
           OR (SELECT fired_through FROM penalty.sla_progress WHERE id = 1)
              >= ((d.month || '-01')::date + interval '1 month')::timestamp
                 AT TIME ZONE %(zone)s)
    ORDER BY d.seq"""
REPORTED_TWICE = """
    SELECT r.deduction_id::text AS deduction_id, min(d.month) AS month,
           array_agg(r.month || ' r' || r.revision ORDER BY r.month, r.revision) AS revisions
    FROM penalty.report_lines r JOIN penalty.deductions d ON d.id = r.deduction_id
    GROUP BY r.deduction_id HAVING count(*) > 1 OR bool_or(r.month <> d.month)"""


# Sessions left inside a transaction (a client whose network stalled or was
# cut mid-transaction): they hold locks (the outbox relay's, rows) until the
# server ends them.
STUCK_SESSIONS = """
    SELECT pid, usename, state, (now() - state_change)::text AS for, left(query, 120) AS query
    FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND state LIKE 'idle in transaction%%' AND now() - state_change > %(after)s * interval '1 s'
"""


def missing_objects(conn, object_keys):
    """Media rows whose object is not in the store (`object_keys`: every key it holds)."""
    return [(r["id"], r["key"]) for r in conn.execute("SELECT id, key FROM media.objects")
            if r["key"] not in object_keys]


def reconcile(conn, *, accepted, completed, failed, events, bindings, queue_depths,
              dead_letters, hub_blocked, before_drive=frozenset(), exited=(),
              zone="Asia/Shanghai", object_keys=None, wrong_answers=(), stuck_after=60):
    """Counts (and examples) of everything that went wrong.

    accepted:  {room: complaint id} the gateway acknowledged
    completed: complaint ids whose whole life the driver finished
    failed:    [(tag, reason)] lives the driver could not finish
    events:    {event_id: envelope} the subscriber received
    bindings:  the vhost's bindings (management API)
    queue_depths: {queue: messages} at the end
    exited: processes that exited on their own (not killed by the test)
    zone: the group's time zone (a month ends at its local midnight)
    object_keys: every key the object store holds (None: not checked)
    wrong_answers: what the gateway answered a user during a fault that it
        should not have (a hang, a 500, a 503 without a message)
    stuck_after: seconds a session may sit idle inside a transaction
    before_drive: event ids of the set-up, published before any consumer's
        queue existed (their consumers catch up otherwise)
    """
    report, examples = Counter(), {}

    def fail(name, items):
        items = list(items)
        report[name] += len(items)
        if items:
            examples.setdefault(name, items[:5])

    rooms = Counter()
    stored = {}
    for r in conn.execute("SELECT id, room, state FROM intake.complaints WHERE room LIKE 'F-%'"):
        rooms[r["room"]] += 1
        stored[r["id"]] = r["state"]
    fail("complaints_lost", [cid for cid in accepted.values() if cid not in stored])
    fail("complaints_duplicated", [room for room, n in rooms.items() if n > 1])
    dispatch_state = {r["id"]: r["state"] for r in conn.execute(
        "SELECT id, state FROM dispatch.complaints")}
    fail("complaints_not_closed", [
        (cid, stored.get(cid), dispatch_state.get(cid)) for cid in completed
        if stored.get(cid) != "closed" or dispatch_state.get(cid) != "closed"])
    fail("lives_failed", failed)

    rows = outbox_rows(conn)
    fail("events_unpublished", [(s, e) for s, e, _, published in rows if not published])
    sent = {e: (s, t) for s, e, t, published in rows if published}
    fail("events_lost", [(s, t, e) for e, (s, t) in sent.items() if e not in events])
    stored_ids = {e for _, e, _, _ in rows}
    fail("events_phantom", [e for e in events if e not in stored_ids])
    inboxes = {}
    for source, event_type, consumer, _queue in consumer_bindings(bindings):
        if consumer not in inboxes:
            inboxes[consumer] = inbox_ids(conn, consumer)
        fail("events_not_applied", [
            (consumer, event_type, e) for e, (s, t) in sent.items()
            if s == source and t == event_type and e not in inboxes[consumer]
            and e not in before_drive])

    for name, sql in DUPLICATED_EFFECTS.items():
        fail("effects_duplicated", [(name, dict(r)) for r in conn.execute(sql)])
    fail("deductions_charged_twice", [dict(r) for r in conn.execute(CHARGED_TWICE)])
    fail("deductions_not_reported", [dict(r) for r in conn.execute(NOT_REPORTED,
                                                                    {"zone": zone})])
    fail("deductions_reported_twice", [dict(r) for r in conn.execute(REPORTED_TWICE)])
    report["dead_lettered"] += dead_letters
    fail("messages_left", [(q, n) for q, n in queue_depths.items() if n])
    fail("hub_blocked", hub_blocked)
    # A service that gave up on its own (not killed by the test) was restarted
    # by the supervisor, but it should have ridden the fault out.
    fail("services_exited", exited)
    if object_keys is not None:
        fail("media_objects_missing", missing_objects(conn, object_keys))
    fail("sessions_stuck", [dict(r) for r in conn.execute(STUCK_SESSIONS,
                                                           {"after": stuck_after})])
    fail("fault_answers_wrong", wrong_answers)

    figures = {
        "complaints_recorded": len(stored),
        "complaints_closed": sum(1 for s in stored.values() if s == "closed"),
        "lives_completed": len(completed),
        "events_published": len(sent),
        "events_by_producer": dict(Counter(s for s, _ in sent.values())),
        "inbox_rows": {k: len(v) for k, v in inboxes.items()},
        "timers": {r["state"]: r["n"] for r in conn.execute(
            "SELECT state, count(*) AS n FROM sla.timers GROUP BY 1")},
        "deduction_lines": conn.execute(
            "SELECT count(*) AS n FROM penalty.deductions").fetchone()["n"],
        "monthly_report_revisions": conn.execute(
            "SELECT count(*) AS n FROM penalty.monthly_reports").fetchone()["n"],
        "deduction_total": str(conn.execute(
            "SELECT coalesce(sum(amount), 0) AS s FROM penalty.deductions").fetchone()["s"]),
        "notifications": conn.execute(
            "SELECT count(*) AS n FROM sla.notifications").fetchone()["n"],
    }
    return {name: report[name] for name in FAILURES}, figures, examples
