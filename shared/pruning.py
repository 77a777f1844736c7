"""The daily pruning of request-key tables (issue 14, housekeeping).

A request key (the gateway's `Idempotency-Key` replies, intake's
`record_requests`, dispatch's `requests`) only has to outlive a client's
retries and an RPC's redelivery. Each owning service keeps its keys for a
setting (`REQUEST_KEYS_KEEP_DAYS`, default 7 days, on the shared clock) and
deletes older ones in a daily job (a nameko timer that calls `prune`):

- at most once per calendar day (the group's zone) per table, with any
  number of instances: the day is claimed in `<schema>.housekeeping` by one
  atomic upsert, and only the instance whose claim moved the day on prunes;
- `DELETE ... WHERE <time> < now - keep` in batches, each its own short
  transaction: idempotent, and a run stopped halfway is finished the next day;
- a row without a time (written before the column existed, or by a path that
  did not stamp it) gets `now` first: it is kept a full window from then.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from psycopg import sql

log = logging.getLogger(__name__)

KEEP_SETTING = "REQUEST_KEYS_KEEP_DAYS"
DEFAULT_KEEP_DAYS = 7
BATCH = 1000
CHECK_SECONDS = 600        # how often the timers look whether today's run is due


@dataclass(frozen=True)
class KeyTable:
    schema: str
    table: str
    column: str = "created_at"     # when the key was made, on the shared clock

    @property
    def job(self) -> str:
        return f"prune:{self.schema}.{self.table}"


@dataclass(frozen=True)
class Pruned:
    job: str
    day: date
    cutoff: datetime
    deleted: int
    stamped: int


def keep(config: Mapping[str, Any] | None) -> timedelta:
    """The setting in days: a whole number of at least 1 (a key must outlive
    a day's retries), else the service refuses to start its job."""
    raw = config.get(KEEP_SETTING, DEFAULT_KEEP_DAYS) if isinstance(config, Mapping) \
        else DEFAULT_KEEP_DAYS
    try:
        days = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{KEEP_SETTING}: {raw!r} is not a whole number of days") from None
    if days < 1:
        raise ValueError(f"{KEEP_SETTING}: {raw!r} must be at least 1 day")
    return timedelta(days=days)


def claim_day(db: Any, target: KeyTable, day: date, now: datetime) -> bool:
    """True for the one caller that moves the job's day on to `day`."""
    with db.transaction() as conn:
        row = conn.execute(sql.SQL(
            """INSERT INTO {table} (job, last_run_on, ran_at) VALUES (%(job)s, %(day)s, %(now)s)
               ON CONFLICT (job) DO UPDATE SET last_run_on = EXCLUDED.last_run_on,
                   ran_at = EXCLUDED.ran_at, deleted = 0
               WHERE {table}.last_run_on < EXCLUDED.last_run_on
               RETURNING 1""").format(table=sql.Identifier(target.schema, "housekeeping")),
            {"job": target.job, "day": day, "now": now}).fetchone()
    return row is not None


def prune(db: Any, target: KeyTable, now: datetime, zone: tzinfo, keep_for: timedelta,
          batch: int = BATCH) -> Pruned | None:
    """Today's run of the job, or None when it already ran today."""
    day = now.astimezone(zone).date()
    if not claim_day(db, target, day, now):
        return None
    table = sql.Identifier(target.schema, target.table)
    column = sql.Identifier(target.column)
    with db.transaction() as conn:
        stamped = conn.execute(sql.SQL("UPDATE {t} SET {c} = %(now)s WHERE {c} IS NULL").format(
            t=table, c=column), {"now": now}).rowcount
    cutoff = now - keep_for
    deleted = 0
    while True:
        with db.transaction() as conn:
            count = conn.execute(sql.SQL(
                """DELETE FROM {t} WHERE ctid = ANY(ARRAY(
                       SELECT ctid FROM {t} WHERE {c} < %(cutoff)s LIMIT %(batch)s))""").format(
                t=table, c=column), {"cutoff": cutoff, "batch": batch}).rowcount
        deleted += count
        if count < batch:
            break
    with db.transaction() as conn:
        conn.execute(sql.SQL("UPDATE {h} SET deleted = %(n)s WHERE job = %(job)s").format(
            h=sql.Identifier(target.schema, "housekeeping")), {"n": deleted, "job": target.job})
    if deleted or stamped:
        log.info("pruned %s: %d request keys older than %s deleted (%d stamped)",
                 target.job, deleted, cutoff.isoformat(), stamped)
    return Pruned(target.job, day, cutoff, deleted, stamped)

