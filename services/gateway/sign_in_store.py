"""SQL of sign-in (gateway.sign_in_numbers, gateway.sign_in_hits), in the
caller's connection. The rules are sign_in.py's."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from services.gateway.sign_in import NumberState

CODE_BY_NUMBER = "code:mobile"
CODE_BY_ADDRESS = "code:address"
SIGN_IN_BY_ADDRESS = "session:address"
HITS_KEPT = timedelta(days=1)

_COLUMNS = ("mobile, person_id, code_hash, code_salt, code_issued_at, code_expires_at, "
            "failures, locked_until")


def lock_number(conn: Any, mobile: str) -> None:
    """Serialise the steps on one number until the transaction ends."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(key)s))", {"key": f"sign-in:{mobile}"})


def number(conn: Any, mobile: str) -> NumberState | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM gateway.sign_in_numbers WHERE mobile = %(m)s",
                       {"m": mobile}).fetchone()
    return None if row is None else NumberState(**row)


def save_number(conn: Any, state: NumberState) -> None:
    conn.execute(
        f"""INSERT INTO gateway.sign_in_numbers ({_COLUMNS})
            VALUES (%(mobile)s, %(person_id)s, %(code_hash)s, %(code_salt)s,
                    %(code_issued_at)s, %(code_expires_at)s, %(failures)s, %(locked_until)s)
            ON CONFLICT (mobile) DO UPDATE SET person_id = EXCLUDED.person_id,
                code_hash = EXCLUDED.code_hash, code_salt = EXCLUDED.code_salt,
                code_issued_at = EXCLUDED.code_issued_at,
                code_expires_at = EXCLUDED.code_expires_at, failures = EXCLUDED.failures,
                locked_until = EXCLUDED.locked_until""", asdict(state))


def hits(conn: Any, scope: str, key: str, now: datetime, window: timedelta) -> list[datetime]:
    """The times of the key's requests within `window` before `now` (none
    after it: a simulation clock set back does not count them)."""
    rows = conn.execute(
        """SELECT at FROM gateway.sign_in_hits
           WHERE scope = %(scope)s AND key = %(key)s AND at > %(since)s AND at <= %(now)s""",
        {"scope": scope, "key": key, "since": now - window, "now": now}).fetchall()
    return [row["at"] for row in rows]


def add_hit(conn: Any, scope: str, key: str, now: datetime) -> None:
    conn.execute("INSERT INTO gateway.sign_in_hits (scope, key, at) "
                 "VALUES (%(scope)s, %(key)s, %(now)s)", {"scope": scope, "key": key, "now": now})


def prune_hits(conn: Any, now: datetime) -> None:
    """Hits older than any window are of no use (a day, whatever the settings)."""
    conn.execute("DELETE FROM gateway.sign_in_hits WHERE at < %(before)s OR at > %(after)s",
                 {"before": now - HITS_KEPT, "after": now + HITS_KEPT})
