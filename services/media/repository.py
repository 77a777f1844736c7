"""SQL of the media schema. Every function runs in the caller's connection,
so a row and its outbox event commit together."""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from services.media.domain import COLUMNS, PENDING_COLUMNS, Media, PendingUpload

_COLUMNS = ", ".join(COLUMNS)
_PENDING = ", ".join(PENDING_COLUMNS)
IDLE = TransactionStatus.IDLE


def insert(conn: Any, media: Media) -> None:
    conn.execute(
        f"""INSERT INTO media.objects ({_COLUMNS})
            VALUES ({", ".join(f"%({name})s" for name in COLUMNS)})""",
        {name: getattr(media, name) for name in COLUMNS})


def get(conn: Any, media_id: str, for_update: bool = False) -> Media | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM media.objects WHERE id = %(id)s"
        + (" FOR UPDATE" if for_update else ""),
        {"id": media_id}).fetchone()
    return Media.from_row(row) if row else None


def get_many(conn: Any, media_ids: list[str]) -> dict[str, Media]:
    """The media of those ids that exist, by id: one statement."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM media.objects WHERE id = ANY(%(ids)s)",
                        {"ids": media_ids}).fetchall()
    return {row["id"]: Media.from_row(row) for row in rows}


def files_of_complaint(conn: Any, complaint_id: str, limit: int) -> list[Media]:
    """The complaint's newest `limit` files, newest first: one statement
    (objects_complaint, migration 001, finds them)."""
    rows = conn.execute(
        f"""SELECT {_COLUMNS} FROM media.objects WHERE complaint_id = %(complaint_id)s
             ORDER BY created_at DESC, id DESC LIMIT %(limit)s""",
        {"complaint_id": complaint_id, "limit": limit}).fetchall()
    return [Media.from_row(row) for row in rows]


def save_binding(conn: Any, media: Media) -> None:
    conn.execute(
        """UPDATE media.objects
              SET bound_record_type = %(record_type)s, bound_record_id = %(record_id)s,
                  bound_record_sha256 = %(record_sha256)s, bound_at = %(bound_at)s,
                  bound_by = %(bound_by)s, complaint_id = %(complaint_id)s
            WHERE id = %(id)s""",
        {"id": media.id, "record_type": media.bound_record_type,
         "record_id": media.bound_record_id, "record_sha256": media.bound_record_sha256,
         "bound_at": media.bound_at, "bound_by": media.bound_by,
         "complaint_id": media.complaint_id})


def known_keys(conn: Any, keys: Iterable[str]) -> set[str]:
    """The subset of `keys` that a row names: a stored file's or an upload's
    still waiting for its confirm (swept on its own clock, stale_uploads)."""
    keys = list(keys)
    if not keys:
        return set()
    rows = conn.execute("""SELECT key FROM media.objects WHERE key = ANY(%(keys)s)
                           UNION ALL
                           SELECT key FROM media.pending_uploads WHERE key = ANY(%(keys)s)""",
                        {"keys": keys}).fetchall()
    return {row["key"] for row in rows}


def insert_pending(conn: Any, pending: list[PendingUpload]) -> None:
    with conn.cursor() as cursor:
        cursor.executemany(
            f"""INSERT INTO media.pending_uploads ({_PENDING})
                VALUES ({", ".join(f"%({name})s" for name in PENDING_COLUMNS)})""",
            [{name: getattr(p, name) for name in PENDING_COLUMNS} for p in pending])


def get_pending(conn: Any, upload_id: str) -> PendingUpload | None:
    row = conn.execute(f"SELECT {_PENDING} FROM media.pending_uploads WHERE id = %(id)s",
                       {"id": upload_id}).fetchone()
    return PendingUpload.from_row(row) if row else None


def take_pending(conn: Any, upload_id: str) -> bool:
    """Delete the upload's row; False when it is gone already (a second
    confirm or the sweep took it first: the row is the lock)."""
    row = conn.execute("DELETE FROM media.pending_uploads WHERE id = %(id)s RETURNING id",
                       {"id": upload_id}).fetchone()
    return row is not None


def insert_taking_pending(conn: Any, media: Media) -> None:
    """INSERT the media row of a confirmed upload, taking (deleting) the
    upload's row in the same statement: media.take_pending_upload (migration
    005) raises NoDataFound when that row is gone (a second confirm or the
    sweep took it), which stops the statement and its transaction."""
    values = ", ".join("media.take_pending_upload(%(id)s)" if name == "id" else f"%({name})s"
                       for name in COLUMNS)
    conn.execute(f"INSERT INTO media.objects ({_COLUMNS}) VALUES ({values})",
                 {name: getattr(media, name) for name in COLUMNS})


def in_one_round_trip(conn: Any, writes: Callable[[Any], None]) -> bool:
    """Run `writes(conn)` in one pipeline on an idle autocommit connection:
    PostgreSQL runs a pipeline's statements up to its Sync as one implicit
    transaction (all or nothing; an error skips the rest and rolls back), so
    no BEGIN and COMMIT are needed: one round trip and one wait per statement,
    where a transaction of three statements took five of each. False, nothing
    kept, when the upload's row was gone (insert_taking_pending)."""
    if not conn.autocommit or conn.info.transaction_status != IDLE:
        raise RuntimeError("in_one_round_trip needs an idle autocommit connection")
    try:
        with conn.pipeline():
            writes(conn)
    except psycopg.errors.NoDataFound:
        return False
    return True


def stale_uploads(conn: Any, begun_before: datetime, expired_before: datetime,
                  limit: int) -> list[PendingUpload]:
    """Uploads handed out before `begun_before` (shared clock) whose target
    expired before `expired_before` (real time), never confirmed; locked."""
    rows = conn.execute(
        f"""SELECT {_PENDING} FROM media.pending_uploads
             WHERE created_at < %(before)s AND expires_at < %(expired)s
             ORDER BY created_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
        {"before": begun_before, "expired": expired_before, "limit": limit}).fetchall()
    return [PendingUpload.from_row(row) for row in rows]


def ping(conn: Any) -> bool:
    return bool(conn.execute("SELECT 1 AS ok").fetchone()["ok"] == 1)


def link_key(conn: Any) -> bytes:
    """The key file links are signed with: the newest, made on first use."""
    row = conn.execute("SELECT secret FROM media.link_keys ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        conn.execute("INSERT INTO media.link_keys (id, secret) VALUES (1, %(secret)s) "
                     "ON CONFLICT (id) DO NOTHING", {"secret": secrets.token_bytes(32)})
        row = conn.execute(
            "SELECT secret FROM media.link_keys ORDER BY id DESC LIMIT 1").fetchone()
    return bytes(row["secret"])
