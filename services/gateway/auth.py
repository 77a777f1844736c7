"""Who is calling: bearer tokens, principals and role checks (SPEC §8).

Pure parts (hashing, the Principal) and the token repository live here; the
directory (roles, projects) is dispatch's and reaches the gateway by RPC.
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


def new_token():
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_token(row, real_now):
    """The stored token `row` may sign in at `real_now`, or 401."""
    if row is None or row["revoked_at"] is not None:
        raise Unauthenticated("登录凭证无效或已注销 (unknown or revoked token)")
    if row["expires_at"] is None or row["expires_at"] <= real_now:
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


class TokenRepository:
    def __init__(self, conn):
        self.conn = conn

    def issue_person_token(self, person_id, now, *, expires_at, token=None):
        """`now` is the system's (simulation) clock, `expires_at` a real time."""
        token = token or new_token()
        self.conn.execute(
            """INSERT INTO gateway.tokens (token_sha256, person_id, issued_at, expires_at)
               VALUES (%(h)s, %(person)s, %(now)s, %(expires)s)""",
            {"h": token_hash(token), "person": person_id, "now": now, "expires": expires_at})
        return token

    def find(self, token):
        return self.conn.execute(
            """SELECT person_id, expires_at, revoked_at
               FROM gateway.tokens WHERE token_sha256 = %(h)s""",
            {"h": token_hash(token)}).fetchone()

    def revoke_person_tokens(self, person_id, now):
        self.conn.execute(
            """UPDATE gateway.tokens SET revoked_at = %(now)s
               WHERE person_id = %(person)s AND revoked_at IS NULL""",
            {"person": person_id, "now": now})
