"""Who is calling: bearer tokens, principals and role checks (SPEC §8).

Pure parts (hashing, the Principal) and the token repository live here; the
directory (roles, projects) is dispatch's and reaches the gateway by RPC.

Three kinds of credential share gateway.tokens (only each one's SHA-256):
`api` tokens for machine clients and operators (an admin's route or the
`tokens` command), `session`s from a sign-in by SMS code (sign_in.py) and
`demo` sessions from the simulation mode's picker.
"""
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from shared.errors import Forbidden, Unauthenticated

TOKEN_BYTES = 32
# Every token expires. Its lifetime is real time (shared.clock.system_now),
# not the simulation clock: an admin jumping the demo clock a month ahead must
# not sign everyone out, nor setting it back revive an expired token.
TOKEN_TTL = timedelta(days=30)
# A sign-in by SMS code lasts a working day on the shared clock (the one every
# rule reads: real time in production; in simulation mode the demo clock, so
# its expiry can be shown by moving the clock). API tokens and the picker's
# demo sessions count real time, as above.
KINDS = ("api", "session", "demo")
SHARED_CLOCK_KINDS = frozenset({"session"})


def new_token():
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_token(row, real_now, now=None):
    """The stored token `row` may sign in at `real_now` (a session: at the
    shared clock's `now`), or 401."""
    if row is None or row["revoked_at"] is not None:
        raise Unauthenticated("登录凭证无效或已注销 (unknown or revoked token)")
    at = now if now is not None and row.get("kind") in SHARED_CLOCK_KINDS else real_now
    if row["expires_at"] is None or row["expires_at"] <= at:
        raise Unauthenticated("登录凭证已过期，请重新登录 (token expired)")
    return row


def bearer_token(header_value):
    """The token of an `Authorization: Bearer <token>` header, or raise 401."""
    if not header_value:
        raise Unauthenticated("缺少登录凭证 (missing Authorization: Bearer token)")
    scheme, _, token = header_value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        raise Unauthenticated("登录凭证格式错误 (expected Authorization: Bearer <token>)")
    return token.strip()


@dataclass(frozen=True)
class Principal:
    """A person (or a customer link) making a call."""
    person_id: str | None
    name: str
    roles: frozenset = field(default_factory=frozenset)
    project_ids: frozenset = field(default_factory=frozenset)
    unit_id: str | None = None
    kind: str = "person"
    complaint_id: str | None = None
    step: str | None = None

    def has_any(self, roles):
        return bool(self.roles & set(roles))

    def require(self, roles, action):
        if self.kind != "person" or not self.has_any(roles):
            raise Forbidden(f"无权执行此操作：{action} (your role may not do this)")

    def as_dict(self):
        return {"person_id": self.person_id, "name": self.name, "roles": sorted(self.roles),
                "project_ids": sorted(self.project_ids), "unit_id": self.unit_id,
                "kind": self.kind}


_LISTED = "id, person_id, kind, label, issued_at, expires_at, revoked_at, issued_by"


class TokenRepository:
    def __init__(self, conn):
        self.conn = conn

    def issue_person_token(self, person_id, now, *, expires_at, token=None):
        """`now` is the system's (simulation) clock, `expires_at` a real time."""
        return self.issue(person_id, now, expires_at=expires_at, token=token)["token"]

    def issue(self, person_id, now, *, expires_at, kind="api", label=None, issued_by=None,
              token=None):
        """A new credential: its row (as `listed` shows it) with `token`, the
        secret, which is never read back."""
        token = token or new_token()
        row = self.conn.execute(
            f"""INSERT INTO gateway.tokens (token_sha256, person_id, issued_at, expires_at,
                    kind, label, issued_by)
                VALUES (%(h)s, %(person)s, %(now)s, %(expires)s, %(kind)s, %(label)s, %(by)s)
                RETURNING {_LISTED}""",
            {"h": token_hash(token), "person": person_id, "now": now, "expires": expires_at,
             "kind": kind, "label": label, "by": issued_by}).fetchone()
        return dict(row, token=token)

    def find(self, token):
        return self.conn.execute(
            """SELECT id, person_id, kind, expires_at, revoked_at
               FROM gateway.tokens WHERE token_sha256 = %(h)s""",
            {"h": token_hash(token)}).fetchone()

    def revoke_person_tokens(self, person_id, now):
        self.conn.execute(
            """UPDATE gateway.tokens SET revoked_at = %(now)s
               WHERE person_id = %(person)s AND revoked_at IS NULL""",
            {"person": person_id, "now": now})

    def revoke_token(self, token, now):
        """Sign-out: this one credential; True when it was still valid."""
        return self.conn.execute(
            """UPDATE gateway.tokens SET revoked_at = %(now)s
               WHERE token_sha256 = %(h)s AND revoked_at IS NULL""",
            {"h": token_hash(token), "now": now}).rowcount == 1

    def revoke_sessions(self, person_id, now):
        """Sign a person out everywhere: every session (SMS or demo) they hold;
        their API tokens stay (an admin revokes those one by one). The count."""
        return self.conn.execute(
            """UPDATE gateway.tokens SET revoked_at = %(now)s
               WHERE person_id = %(person)s AND revoked_at IS NULL
                 AND kind IN ('session', 'demo')""",
            {"person": person_id, "now": now}).rowcount

    def revoke_id(self, token_id, now):
        """Revoke by id (any kind); the row, or None for an unknown id."""
        self.conn.execute(
            """UPDATE gateway.tokens SET revoked_at = %(now)s
               WHERE id = %(id)s AND revoked_at IS NULL""", {"id": token_id, "now": now})
        return self.conn.execute(f"SELECT {_LISTED} FROM gateway.tokens WHERE id = %(id)s",
                                 {"id": token_id}).fetchone()

    def listed(self, *, person_id=None, kind=None, active_only=True, real_now=None, now=None,
               limit=50, offset=0):
        """(rows, total), newest first, without any secret. `active_only`:
        neither revoked nor expired (sessions on the shared clock's `now`)."""
        where, params = [], {"limit": limit, "offset": offset}
        if person_id:
            where.append("person_id = %(person)s")
            params["person"] = person_id
        if kind:
            where.append("kind = %(kind)s")
            params["kind"] = kind
        if active_only:
            where.append("revoked_at IS NULL AND expires_at > CASE WHEN kind = 'session' "
                         "THEN %(now)s ELSE %(real_now)s END")
            params.update(now=now or real_now, real_now=real_now)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self.conn.execute(f"SELECT count(*) AS n FROM gateway.tokens {clause}",
                                  params).fetchone()["n"]
        rows = self.conn.execute(
            f"""SELECT {_LISTED} FROM gateway.tokens {clause}
                ORDER BY issued_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s""",
            params).fetchall()
        return rows, total
