"""SQL of sla's SMS queue (`sla.notifications`): messages claimed and marked
by the sending loop, listed for the gateway (a decision queues them:
decision_store). Every function runs in the caller's connection."""
import uuid

_NOTIFICATION_COLUMNS = ("id, created_at, recipient_person_id, recipient_name, mobile, template, "
                         "params, text, complaint_id, source, status, attempts, next_attempt_at, "
                         "last_attempt_at, sent_at, provider, provider_id, error, "
                         "delivery_status, delivered_at, delivery_error, delivery_reported_at")


def claim_notifications(conn, now, limit):
    return conn.execute(
        f"""SELECT {_NOTIFICATION_COLUMNS} FROM sla.notifications
            WHERE status IN ('pending', 'failed') AND next_attempt_at IS NOT NULL
              AND next_attempt_at <= %(now)s
            ORDER BY next_attempt_at, created_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
        {"now": now, "limit": limit}).fetchall()


def record_attempts(conn, outbox, now, provider, attempts, events):
    """A sending round's results and their events in one statement (issue 17:
    two statements per message before). `attempts`: [(id, provider_id,
    error, next_attempt_at)], sent when `error` is None (status 'sent', no
    next attempt), else failed (retried at `next_attempt_at` unless None);
    `events`: notification.sent / .failed as `outbox.envelopes` takes them,
    written in their order."""
    if not attempts:
        return
    envelopes = outbox.envelopes(events)
    conn.execute(
        f"""WITH marked AS (
                UPDATE sla.notifications n
                   SET status = CASE WHEN v.sent THEN 'sent' ELSE 'failed' END,
                       attempts = n.attempts + 1, last_attempt_at = %(now)s,
                       sent_at = CASE WHEN v.sent THEN %(now)s ELSE n.sent_at END,
                       next_attempt_at = v.next_at, provider = %(provider)s,
                       provider_id = CASE WHEN v.sent THEN v.provider_id
                                          ELSE n.provider_id END,
                       error = v.error
                  FROM unnest(%(n_ids)b::uuid[], %(n_sent)b::boolean[],
                              %(n_provider_ids)b::text[], %(n_errors)b::text[],
                              %(n_next)b::timestamptz[])
                       AS v(id, sent, provider_id, error, next_at)
                 WHERE n.id = v.id),
            events AS ({outbox.insert_sql()})
            SELECT 1""",
        dict(outbox.params(envelopes), now=now, provider=provider,
             n_ids=[a[0] for a in attempts], n_sent=[a[1] for a in attempts],
             n_provider_ids=[a[2] for a in attempts],
             n_errors=[None if a[3] is None else a[3][:1000] for a in attempts],
             n_next=[a[4] for a in attempts]))


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
