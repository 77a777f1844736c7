"""Idempotency keys: a POST repeated with the same `Idempotency-Key` header and
the same body returns the first answer instead of doing the step twice. A
key is kept REQUEST_KEYS_KEEP_DAYS (default 7) from when its call began on
the shared clock, then the gateway's daily job deletes it (issue 14)."""
import hashlib

from shared import pruning
from shared.errors import Conflict, InvalidInput

MAX_KEY_LENGTH = 100
KEYS = pruning.KeyTable("gateway", "idempotency", "clock_created_at")


def prune_keys(db, clock, config):
    """Today's prune of the keys (shared.pruning); None when it already ran today."""
    return pruning.prune(db, KEYS, clock.now(), clock.zone, pruning.keep(config))


def request_fingerprint(method, path, body):
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def check_key(key):
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput({"Idempotency-Key": [
            f"幂等键须为 1–{MAX_KEY_LENGTH} 个可见字符 "
            f"(1 to {MAX_KEY_LENGTH} printable characters)"]})
    return key


class IdempotencyRepository:
    def __init__(self, conn):
        self.conn = conn

    def begin(self, person_id, key, method, path, fingerprint, lease_seconds=60.0, now=None):
        """None when this call should run; (status, body) to replay a finished one.

        A call still unfinished after `lease_seconds` belonged to a gateway that
        died mid-call (kill -9 leaves no release): the retry takes it over. The
        steps themselves are safe to run again (a recording is deduplicated by
        its key in intake, a state step refuses a second time), so a take-over
        never does a step twice. `now`: the shared clock's, kept for the prune."""
        inserted = self.conn.execute(
            """INSERT INTO gateway.idempotency (person_id, key, method, path, request_sha256,
                   clock_created_at)
               VALUES (%(p)s, %(k)s, %(m)s, %(path)s, %(f)s, %(now)s)
               ON CONFLICT DO NOTHING RETURNING 1""",
            {"p": person_id, "k": key, "m": method, "path": path, "f": fingerprint,
             "now": now}).fetchone()
        if inserted:
            return None
        row = self.conn.execute(
            """SELECT request_sha256, status, response,
                      created_at < now() - make_interval(secs => %(lease)s) AS stale
               FROM gateway.idempotency
               WHERE person_id = %(p)s AND key = %(k)s""",
            {"p": person_id, "k": key, "lease": lease_seconds}).fetchone()
        if row is None:  # the first call failed and released the key meanwhile
            return self.begin(person_id, key, method, path, fingerprint, lease_seconds, now)
        if row["request_sha256"] != fingerprint:
            raise Conflict(
                "此幂等键已用于另一个请求 (this Idempotency-Key was used for another request)")
        if (row["status"] is None and row["stale"]
                and self._take_over(person_id, key, lease_seconds)):
            return None
        if row["status"] is None:
            raise Conflict(
                "相同请求正在处理，请稍后重试 (the same request is still being processed)")
        return row["status"], row["response"]

    def _take_over(self, person_id, key, lease_seconds):
        """Renew an abandoned call's lease; False when another retry renewed it first."""
        return self.conn.execute(
            """UPDATE gateway.idempotency SET created_at = now()
               WHERE person_id = %(p)s AND key = %(k)s AND status IS NULL
                 AND created_at < now() - make_interval(secs => %(lease)s)
               RETURNING 1""", {"p": person_id, "k": key, "lease": lease_seconds}).fetchone() \
            is not None

    def finish(self, person_id, key, status, response):
        self.conn.execute(
            """UPDATE gateway.idempotency SET status = %(s)s, response = %(r)s
               WHERE person_id = %(p)s AND key = %(k)s""",
            {"s": status, "r": response, "p": person_id, "k": key})

    def release(self, person_id, key):
        self.conn.execute("DELETE FROM gateway.idempotency WHERE person_id = %(p)s AND key = %(k)s",
                          {"p": person_id, "k": key})
