"""SQL of the sla schema. Every function runs in the caller's connection, so
a decision's rows, its outbox events and its inbox mark commit together."""
import json
import uuid
from datetime import datetime

from psycopg.types.json import Jsonb

from services.sla.model import COMPLAINT_FIELDS, TIMER_FIELDS, Complaint, Directory, Person, Timer

_JSON_COMPLAINT = {"holders", "handler", "leaders", "chairman"}


def _default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _dumps(value):
    return json.dumps(value, default=_default, ensure_ascii=False)


def jsonb(value):
    return Jsonb(value, dumps=_dumps)


def _aware(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


# -- complaints ---------------------------------------------------------------------

def complaint_from_row(row):
    values = {name: row[name] for name in COMPLAINT_FIELDS}
    values["holders"] = tuple({**h, "from": _aware(h.get("from")), "to": _aware(h.get("to"))}
                              for h in row["holders"] or ())
    values["leaders"] = tuple(row["leaders"] or ())
    return Complaint(**values)


def _complaint_params(complaint):
    params = {}
    for name in COMPLAINT_FIELDS:
        value = getattr(complaint, name)
        params[name] = jsonb(list(value) if isinstance(value, tuple) else value) \
            if name in _JSON_COMPLAINT else value
    return params


_COMPLAINT_COLUMNS = ", ".join(COMPLAINT_FIELDS)
_COMPLAINT_VALUES = ", ".join(f"%({name})s" for name in COMPLAINT_FIELDS)
_COMPLAINT_UPDATES = ", ".join(f"{name} = EXCLUDED.{name}" for name in COMPLAINT_FIELDS
                               if name != "id")


def complaint_lock_key(complaint_id):
    return f"sla:complaint:{complaint_id}"


# Columns an event's inbox statement reads (shared.inbox.consume_with): the
# complaint's advisory lock (parameter `key`), the directory's version.
COMPLAINT_LOCK_COLUMN = "pg_advisory_xact_lock(hashtext(%(key)s)) AS complaint_locked"
DIRECTORY_VERSION_COLUMN = "(SELECT version FROM sla.directory WHERE id = 1) AS directory_version"


def lock_complaint(conn, complaint_id, advisory=True):
    """The complaint's copy, locked for this transaction (None if unknown).
    An advisory lock first (unless the caller holds it: `advisory=False`),
    so two events of a complaint not yet stored wait for each other instead
    of both inserting it."""
    if advisory:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(key)s))",
                     {"key": complaint_lock_key(complaint_id)})
    row = conn.execute(f"SELECT {_COMPLAINT_COLUMNS} FROM sla.complaints WHERE id = %(id)s "
                       "FOR UPDATE", {"id": complaint_id}).fetchone()
    return complaint_from_row(row) if row else None


def lock_complaints_skip(conn, complaint_ids):
    """The complaints no one else is changing now, locked; busy ones are left out."""
    if not complaint_ids:
        return {}
    rows = conn.execute(
        f"""SELECT {_COMPLAINT_COLUMNS} FROM sla.complaints WHERE id = ANY(%(ids)s)
            ORDER BY id FOR UPDATE SKIP LOCKED""", {"ids": list(complaint_ids)}).fetchall()
    return {row["id"]: complaint_from_row(row) for row in rows}


def save_complaint(conn, complaint):
    conn.execute(
        f"""INSERT INTO sla.complaints ({_COMPLAINT_COLUMNS}) VALUES ({_COMPLAINT_VALUES})
            ON CONFLICT (id) DO UPDATE SET {_COMPLAINT_UPDATES}""",
        _complaint_params(complaint))


def get_complaint(conn, complaint_id):
    row = conn.execute(f"SELECT {_COMPLAINT_COLUMNS} FROM sla.complaints WHERE id = %(id)s",
                       {"id": complaint_id}).fetchone()
    return complaint_from_row(row) if row else None


def open_complaints(conn):
    """What the daily jobs look at: not closed nor voided, and routed, or
    still unsigned by the customer (Art. 13), or flagged major (Art. 32, 33)."""
    rows = conn.execute(
        f"""SELECT {_COMPLAINT_COLUMNS} FROM sla.complaints
            WHERE closed_at IS NULL AND voided_at IS NULL
              AND (routed_at IS NOT NULL OR signature_status = 'pending'
                   OR escalation_level IS NOT NULL)
            ORDER BY id""").fetchall()
    return [complaint_from_row(row) for row in rows]


def overdue_complaints(conn, now, complaint_ids=None):
    """Complaints in work past their completion deadline at `now` (all, or
    those of `complaint_ids`)."""
    clause = "AND id = ANY(%(ids)s)" if complaint_ids is not None else ""
    rows = conn.execute(
        f"""SELECT {_COMPLAINT_COLUMNS} FROM sla.complaints
            WHERE closed_at IS NULL AND voided_at IS NULL AND routed_at IS NOT NULL
              AND closure_applied_at IS NULL AND completion_due_at < %(now)s {clause}""",
        {"now": now, "ids": list(complaint_ids or ())}).fetchall()
    return [complaint_from_row(row) for row in rows]


# -- timers -------------------------------------------------------------------------

_TIMER_COLUMNS = ", ".join(TIMER_FIELDS)


def timer_from_row(row):
    values = {name: row[name] for name in TIMER_FIELDS}
    values["id"] = str(values["id"])
    return Timer(**values)


def _timer_params(timer):
    params = {name: getattr(timer, name) for name in TIMER_FIELDS}
    params["details"] = jsonb(timer.details)
    return params


def timers_of(conn, complaint_id):
    rows = conn.execute(f"SELECT {_TIMER_COLUMNS} FROM sla.timers "
                        "WHERE complaint_id = %(id)s ORDER BY due_at, key",
                        {"id": complaint_id}).fetchall()
    return [timer_from_row(row) for row in rows]


def timers_and_parked(conn, complaint_id):
    """`timers_of`, and whether any event of the complaint is parked, in one
    statement (read after the complaint's lock: an event is parked under it)."""
    rows = conn.execute(
        f"""SELECT p.parked, t.* FROM (SELECT EXISTS (
                   SELECT FROM sla.event_errors WHERE state = 'parked'
                      AND complaint_id = %(id)s) AS parked) p
              LEFT JOIN LATERAL (SELECT {_TIMER_COLUMNS} FROM sla.timers
                                  WHERE complaint_id = %(id)s) t ON true
             ORDER BY t.due_at, t.key""", {"id": complaint_id}).fetchall()
    return [timer_from_row(row) for row in rows if row["id"] is not None], rows[0]["parked"]


def open_timers_of_rule(conn, rule):
    """Unsettled timers of a rule not about one complaint (rotation...)."""
    rows = conn.execute(f"SELECT {_TIMER_COLUMNS} FROM sla.timers WHERE rule = %(rule)s "
                        "AND complaint_id IS NULL AND NOT settled FOR UPDATE",
                        {"rule": rule}).fetchall()
    return [timer_from_row(row) for row in rows]


def timers_by_key_prefix(conn, prefix):
    rows = conn.execute(f"SELECT {_TIMER_COLUMNS} FROM sla.timers WHERE key LIKE %(p)s "
                        "FOR UPDATE", {"p": prefix.replace("%", r"\%") + "%"}).fetchall()
    return [timer_from_row(row) for row in rows]


def timers_by_keys(conn, keys):
    """The deadlines warnings and hourly notices follow (not locked: read only)."""
    if not keys:
        return {}
    rows = conn.execute(f"SELECT {_TIMER_COLUMNS} FROM sla.timers WHERE key = ANY(%(keys)s)",
                        {"keys": list(keys)}).fetchall()
    return {row["key"]: timer_from_row(row) for row in rows}


# Many rows in one statement (arrays unnested): the firing loop writes
# hundreds per transaction, and one statement costs the server far less than
# hundreds of single-row ones.
_TIMER_TYPES = {"id": "uuid", "key": "text", "rule": "text", "article": "text",
                "due_at": "timestamptz", "armed_at": "timestamptz", "complaint_id": "text",
                "order_round": "integer", "person_id": "text", "role": "text", "state": "text",
                "fired_at": "timestamptz", "done_at": "timestamptz", "late_seconds": "bigint",
                "settled": "boolean", "details": "jsonb"}


def _columns(timers, names):
    params = {name: [getattr(t, name) for t in timers] for name in names}
    if "details" in params:
        params["details"] = [jsonb(value) for value in params["details"]]
    return params


def _unnest(names, prefix=""):
    """The arrays of `names` (parameters `<prefix><name>`), sent in binary:
    as text psycopg quotes each element and escapes its every `"` and `\\`
    by a regex substitution (a JSON `details` costs 90 us that way, 7 in
    binary, measured; issue 17)."""
    return ", ".join(f"%({prefix}{name})b::{_TIMER_TYPES[name]}[]" for name in names)


def insert_timers(conn, timers):
    """Insert new timers; a key that exists already is left as it is.
    Returns the ids actually inserted."""
    if not timers:
        return set()
    rows = conn.execute(
        f"""INSERT INTO sla.timers ({_TIMER_COLUMNS})
            SELECT * FROM unnest({_unnest(TIMER_FIELDS)})
            ON CONFLICT (key) DO NOTHING RETURNING id""",
        _columns(timers, TIMER_FIELDS)).fetchall()
    return {str(row["id"]) for row in rows}


def claim_due(conn, now, limit):
    """Armed timers that fell due, oldest first, locked; rows another
    instance holds are skipped (it is firing them)."""
    rows = conn.execute(
        f"""SELECT {_TIMER_COLUMNS} FROM sla.timers
            WHERE state = 'armed' AND due_at <= %(now)s
            ORDER BY due_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
        {"now": now, "limit": limit}).fetchall()
    return [timer_from_row(row) for row in rows]


# -- errors and parked events ---------------------------------------------------------

def record_error(conn, now, kind, state, message, *, event_id=None, event_type=None,
                 producer=None, complaint_id=None, waiting_for=None, body=None):
    return conn.execute(
        """INSERT INTO sla.event_errors (at, kind, state, event_id, event_type, producer,
               complaint_id, waiting_for, message, body)
           VALUES (%(at)s, %(kind)s, %(state)s, %(event_id)s, %(event_type)s, %(producer)s,
               %(complaint_id)s, %(waiting_for)s, %(message)s, %(body)s)
           RETURNING id""",
        {"at": now, "kind": kind, "state": state, "event_id": _uuid_or_none(event_id),
         "event_type": event_type, "producer": producer, "complaint_id": complaint_id,
         "waiting_for": waiting_for, "message": message,
         "body": jsonb(body) if body is not None else None}).fetchone()["id"]


def _uuid_or_none(value):
    try:
        return str(uuid.UUID(str(value))) if value else None
    except ValueError:
        return None


def parked_waiting_for(conn, tokens):
    return conn.execute(
        """SELECT id, body, waiting_for FROM sla.event_errors
           WHERE state = 'parked' AND waiting_for = ANY(%(tokens)s)
           ORDER BY id FOR UPDATE""", {"tokens": list(tokens)}).fetchall()


def mark_parked(conn, error_id, now, state, waiting_for=None, message=None):
    conn.execute(
        """UPDATE sla.event_errors SET state = %(state)s,
               waiting_for = COALESCE(%(waiting)s, waiting_for),
               message = COALESCE(%(message)s, message),
               resolved_at = CASE WHEN %(state)s = 'applied' THEN %(now)s ELSE resolved_at END
           WHERE id = %(id)s""",
        {"id": error_id, "state": state, "waiting": waiting_for, "message": message,
         "now": now})


def list_errors(conn, state=None, limit=200):
    clause = "WHERE state = %(state)s" if state else ""
    return conn.execute(
        f"""SELECT id, at, kind, state, event_id::text AS event_id, event_type, complaint_id,
                   waiting_for, message, resolved_at
            FROM sla.event_errors {clause} ORDER BY id DESC LIMIT %(limit)s""",
        {"state": state, "limit": limit}).fetchall()


# -- daily jobs -----------------------------------------------------------------------

def last_slot(conn, job):
    row = conn.execute("SELECT max(slot) AS slot FROM sla.daily_jobs WHERE job = %(job)s",
                       {"job": job}).fetchone()
    return row["slot"]


def claim_slot(conn, job, slot, slot_at, now, state, summary=None):
    """True if this transaction took the slot (it runs the job)."""
    row = conn.execute(
        """INSERT INTO sla.daily_jobs (job, slot, slot_at, state, ran_at, summary)
           VALUES (%(job)s, %(slot)s, %(slot_at)s, %(state)s, %(now)s, %(summary)s)
           ON CONFLICT (job, slot) DO NOTHING RETURNING job""",
        {"job": job, "slot": slot, "slot_at": slot_at, "state": state, "now": now,
         "summary": jsonb(summary or {})}).fetchone()
    return row is not None


def set_slot_summary(conn, job, slot, summary):
    conn.execute("UPDATE sla.daily_jobs SET summary = %(summary)s "
                 "WHERE job = %(job)s AND slot = %(slot)s",
                 {"job": job, "slot": slot, "summary": jsonb(summary)})


# -- directory ------------------------------------------------------------------------

def load_directory(conn):
    version = conn.execute("SELECT version FROM sla.directory WHERE id = 1").fetchone()
    people = {row["id"]: Person(row["id"], row["name"], row["mobile"], tuple(row["roles"]),
                                row["active"])
              for row in conn.execute("SELECT id, name, mobile, roles, active FROM sla.people")}
    rows = conn.execute("SELECT id, name, region_chairman_id, property_chairman_id "
                        "FROM sla.projects").fetchall()
    projects = {row["id"]: row["name"] for row in rows}
    chairmen = {row["id"]: (row["region_chairman_id"], row["property_chairman_id"])
                for row in rows}
    return Directory(people, projects, version["version"] if version else None, chairmen)


def directory_version(conn, lock=True):
    row = conn.execute("SELECT version FROM sla.directory WHERE id = 1"
                       + (" FOR UPDATE" if lock else "")).fetchone()
    return row["version"] if row else None


def save_directory(conn, directory, loaded_at):
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO sla.people (id, name, mobile, roles, active)
               VALUES (%(id)s, %(name)s, %(mobile)s, %(roles)s, %(active)s)
               ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, mobile = EXCLUDED.mobile,
                   roles = EXCLUDED.roles, active = EXCLUDED.active""",
            [{"id": p.id, "name": p.name, "mobile": p.mobile, "roles": list(p.roles),
              "active": p.active} for p in directory.people.values()])
        cur.executemany(
            """INSERT INTO sla.projects (id, name, region_chairman_id, property_chairman_id)
               VALUES (%(id)s, %(name)s, %(region)s, %(property)s)
               ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,
                   region_chairman_id = EXCLUDED.region_chairman_id,
                   property_chairman_id = EXCLUDED.property_chairman_id""",
            [{"id": k, "name": v, "region": directory.chairmen.get(k, (None, None))[0],
              "property": directory.chairmen.get(k, (None, None))[1]}
             for k, v in directory.projects.items()])
    conn.execute("UPDATE sla.people SET active = false WHERE NOT (id = ANY(%(ids)s))",
                 {"ids": list(directory.people)})
    conn.execute(
        """INSERT INTO sla.directory (id, version, loaded_at) VALUES (1, %(v)s, %(at)s)
           ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version,
               loaded_at = EXCLUDED.loaded_at""",
        {"v": directory.version, "at": loaded_at})


# -- health ---------------------------------------------------------------------------

def due_not_fired(conn, now):
    """Armed timers already due at `now` (the firing loop's backlog)."""
    return conn.execute("SELECT count(*) AS n FROM sla.timers "
                        "WHERE state = 'armed' AND due_at <= %(now)s",
                        {"now": now}).fetchone()["n"]


def health_counts(conn, now):
    return conn.execute(
        """SELECT
             (SELECT count(*) FROM sla.timers WHERE state = 'armed') AS armed_timers,
             (SELECT count(*) FROM sla.timers WHERE state = 'armed' AND due_at <= %(now)s)
                 AS due_not_fired,
             (SELECT min(due_at) FROM sla.timers WHERE state = 'armed') AS next_due_at,
             (SELECT count(*) FROM sla.notifications WHERE status <> 'sent'
                 AND next_attempt_at IS NOT NULL) AS notifications_pending,
             (SELECT count(*) FROM sla.event_errors WHERE state = 'parked') AS parked_events,
             (SELECT version FROM sla.directory WHERE id = 1) AS directory_version""",
        {"now": now}).fetchone()
