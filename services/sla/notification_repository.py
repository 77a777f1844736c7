"""SQL of sla's SMS queue (`sla.notifications`): messages queued by a
decision, claimed and marked by the sending loop, listed for the gateway.
Every function runs in the caller's connection."""
import uuid

from services.sla.repository import jsonb

_NOTIFICATION_COLUMNS = ("id, created_at, recipient_person_id, recipient_name, mobile, template, "
                         "params, text, complaint_id, source, status, attempts, next_attempt_at, "
                         "last_attempt_at, sent_at, provider, provider_id, error, "
                         "delivery_status, delivered_at, delivery_error, delivery_reported_at")


def insert_notifications(conn, messages, now):
    if not messages:
        return []
    rows = [{"id": str(uuid.uuid4()), "created_at": now,
             "recipient_person_id": m.recipient_person_id, "recipient_name": m.recipient_name,
             "mobile": m.mobile, "template": m.template, "params": jsonb(m.params),
             "text": m.text, "complaint_id": m.complaint_id, "source": m.source,
             "next_attempt_at": now, "request_key": m.params.get("request_key")}
            for m in messages]
    with conn.cursor() as cur:
        # A message penalty asked for twice (same key) is queued once per person.
        cur.executemany(
            """INSERT INTO sla.notifications (id, created_at, recipient_person_id, recipient_name,
                   mobile, template, params, text, complaint_id, source, status, attempts,
                   next_attempt_at, request_key)
               VALUES (%(id)s, %(created_at)s, %(recipient_person_id)s, %(recipient_name)s,
                   %(mobile)s, %(template)s, %(params)s, %(text)s, %(complaint_id)s,
                   %(source)s, 'pending', 0, %(next_attempt_at)s, %(request_key)s)
               ON CONFLICT (request_key, recipient_person_id) WHERE request_key IS NOT NULL
               DO NOTHING""", rows)
    return [r["id"] for r in rows]


def claim_notifications(conn, now, limit):
    return conn.execute(
        f"""SELECT {_NOTIFICATION_COLUMNS} FROM sla.notifications
            WHERE status IN ('pending', 'failed') AND next_attempt_at IS NOT NULL
              AND next_attempt_at <= %(now)s
            ORDER BY next_attempt_at, created_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
        {"now": now, "limit": limit}).fetchall()


def notification_sent(conn, notification_id, now, provider, provider_id):
    conn.execute(
        """UPDATE sla.notifications SET status = 'sent', attempts = attempts + 1,
               last_attempt_at = %(now)s, sent_at = %(now)s, next_attempt_at = NULL,
               provider = %(provider)s, provider_id = %(provider_id)s, error = NULL
           WHERE id = %(id)s""",
        {"id": notification_id, "now": now, "provider": provider, "provider_id": provider_id})


def notification_failed(conn, notification_id, now, provider, error, next_attempt_at):
    conn.execute(
        """UPDATE sla.notifications SET status = 'failed', attempts = attempts + 1,
               last_attempt_at = %(now)s, next_attempt_at = %(next)s,
               provider = %(provider)s, error = %(error)s
           WHERE id = %(id)s""",
        {"id": notification_id, "now": now, "provider": provider, "error": error[:1000],
         "next": next_attempt_at})


def list_notifications(conn, filters, recipient=None):
    where, params = [], {}
    for name in ("status", "template", "complaint_id"):
        if filters.get(name):
            where.append(f"{name} = %({name})s")
            params[name] = filters[name]
    person = recipient or filters.get("person_id")
    if person:
        where.append("recipient_person_id = %(person)s")
        params["person"] = person
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    total = conn.execute(f"SELECT count(*) AS n FROM sla.notifications {clause}",
                         params).fetchone()["n"]
    page, size = filters.get("page", 1), filters.get("page_size", 50)
    rows = conn.execute(
        f"""SELECT {_NOTIFICATION_COLUMNS} FROM sla.notifications {clause}
            ORDER BY created_at DESC, id LIMIT %(limit)s OFFSET %(offset)s""",
        dict(params, limit=size, offset=(page - 1) * size)).fetchall()
    return rows, total


def record_receipt(conn, provider, receipt, now):
    """A delivery receipt on the message the provider accepted under its id
    (Alibaba Cloud also echoes our id as out_id): "recorded", "duplicate" (the
    message already has this status: a provider's retry changes nothing) or
    "unknown" (no message of ours has that id)."""
    params = {"provider": provider, "pid": receipt.provider_id, "status": receipt.status,
              "at": receipt.reported_at, "error": receipt.error, "now": now,
              "out_id": receipt.out_id}
    match = "provider = %(provider)s AND provider_id = %(pid)s"
    if receipt.out_id:
        try:
            params["out_uuid"] = str(uuid.UUID(receipt.out_id))
            match = f"(({match}) OR (provider = %(provider)s AND id = %(out_uuid)s))"
        except ValueError:
            pass
    row = conn.execute(
        f"""SELECT id, delivery_status FROM sla.notifications
            WHERE status = 'sent' AND {match}
            ORDER BY sent_at DESC LIMIT 1 FOR UPDATE""", params).fetchone()
    if row is None:
        return "unknown"
    if row["delivery_status"] == receipt.status:
        return "duplicate"
    conn.execute(
        """UPDATE sla.notifications SET delivery_status = %(status)s, delivered_at = %(at)s,
               delivery_error = %(error)s, delivery_reported_at = %(now)s
           WHERE id = %(id)s""", dict(params, id=row["id"]))
    return "recorded"
