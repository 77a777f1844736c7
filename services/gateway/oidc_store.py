"""SQL of the OpenID Connect sign-in (gateway.oidc_logins), in the caller's
connection; the flow is oidc.py's, the routes routes/oidc.py's. Secrets (the
state, the hand-off code) are kept only as their SHA-256; each step's row is
taken once, atomically, so a replayed callback or hand-off finds nothing."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from services.gateway.oidc import LoginAttempt

KEPT_AFTER_EXPIRY = timedelta(days=1)


def sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def save_attempt(conn: Any, attempt: LoginAttempt, next_path: str | None, now: datetime,
                 ttl: timedelta) -> None:
    conn.execute(
        """INSERT INTO gateway.oidc_logins (state_sha256, nonce, code_verifier, next_path,
               started_at, expires_at)
           VALUES (%(state)s, %(nonce)s, %(verifier)s, %(next)s, %(now)s, %(expires)s)""",
        {"state": sha256(attempt.state), "nonce": attempt.nonce,
         "verifier": attempt.code_verifier, "next": next_path, "now": now,
         "expires": now + ttl})


def take_attempt(conn: Any, state: str, now: datetime) -> tuple[LoginAttempt, str | None] | None:
    """The attempt `state` started, once, while it has not expired; None otherwise."""
    row = conn.execute(
        """UPDATE gateway.oidc_logins SET finished_at = %(now)s
           WHERE state_sha256 = %(state)s AND finished_at IS NULL AND expires_at > %(now)s
           RETURNING nonce, code_verifier, next_path""",
        {"state": sha256(state), "now": now}).fetchone()
    if row is None:
        return None
    return LoginAttempt(state, row["nonce"], row["code_verifier"]), row["next_path"]


def set_handoff(conn: Any, state: str, person_id: str, handoff: str, now: datetime,
                ttl: timedelta) -> None:
    conn.execute(
        """UPDATE gateway.oidc_logins SET person_id = %(person)s, handoff_sha256 = %(handoff)s,
               handoff_expires_at = %(expires)s
           WHERE state_sha256 = %(state)s""",
        {"state": sha256(state), "person": person_id, "handoff": sha256(handoff),
         "expires": now + ttl})


def take_handoff(conn: Any, handoff: str, now: datetime) -> str | None:
    """The person the hand-off code signs in, once, before it expires; else None."""
    row = conn.execute(
        """UPDATE gateway.oidc_logins SET handed_at = %(now)s
           WHERE handoff_sha256 = %(handoff)s AND handed_at IS NULL
             AND handoff_expires_at > %(now)s
           RETURNING person_id""", {"handoff": sha256(handoff), "now": now}).fetchone()
    return None if row is None else str(row["person_id"])


def prune(conn: Any, now: datetime) -> None:
    conn.execute("DELETE FROM gateway.oidc_logins WHERE expires_at < %(before)s",
                 {"before": now - KEPT_AFTER_EXPIRY})
