"""The gateway's token cache (services/gateway/token_cache.py) on the real
PostgreSQL: a found token is not looked up again while fresh, and a token
revoked by any connection (another gateway, an admin's statement) is never
served from memory afterwards."""
import time
from datetime import UTC, datetime

import psycopg
import pytest

from services.gateway import token_cache
from services.gateway.auth import TokenRepository, token_hash
from services.gateway.token_cache import TokenCache
from services.gateway.tokens import issue_tokens

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


class Lookups:
    """The database lookup the gateway does, counted."""

    def __init__(self, database, token):
        self.database, self.token, self.count = database, token, 0

    def __call__(self):
        self.count += 1
        with self.database.connection() as conn:
            return TokenRepository(conn).find(self.token)


@pytest.fixture
def issued(clean_database):
    token = issue_tokens(clean_database, [{"id": "p01-spec-1", "name": "李娜"}], NOW)[0]["token"]
    return token, Lookups(clean_database, token)


@pytest.fixture
def cache(test_dsn):
    made = TokenCache(test_dsn, seconds=10)
    yield made
    made.close()


def revoked_row(cache, token, lookups, within=2.0):
    """The row the cache gives once the revocation's notice has arrived (it
    travels on commit; a few milliseconds on one machine)."""
    limit = time.monotonic() + within
    while True:
        row = cache.find(token_hash(token), lookups)
        if row["revoked_at"] is not None or time.monotonic() > limit:
            return row
        time.sleep(0.005)


def test_a_found_token_is_not_looked_up_again_while_fresh(cache, issued):
    token, lookups = issued
    first = cache.find(token_hash(token), lookups)
    for _ in range(20):
        assert cache.find(token_hash(token), lookups) == first
    assert lookups.count == 1


def test_an_unknown_token_is_asked_every_time(cache, clean_database):
    lookups = Lookups(clean_database, "no-such-token-" + "x" * 30)
    assert cache.find(token_hash(lookups.token), lookups) is None
    assert cache.find(token_hash(lookups.token), lookups) is None
    assert lookups.count == 2


def test_a_revocation_by_any_connection_is_heard(cache, issued, clean_database, test_dsn):
    token, lookups = issued
    assert cache.find(token_hash(token), lookups)["revoked_at"] is None
    # Another gateway process signs the token out: its own connection, its own commit.
    with psycopg.connect(test_dsn, autocommit=True) as other:
        TokenRepository(other).revoke_token(token, NOW)
    assert revoked_row(cache, token, lookups)["revoked_at"] is not None
    assert lookups.count == 2


def test_ending_a_persons_sessions_and_deleting_rows_are_heard(cache, clean_database, test_dsn):
    rows = issue_tokens(clean_database, [{"id": "p01-spec-1", "name": "李娜"},
                                         {"id": "p01-spec-2", "name": "王强"}], NOW)
    first, second = (Lookups(clean_database, r["token"]) for r in rows)
    cache.find(token_hash(first.token), first)
    cache.find(token_hash(second.token), second)
    with psycopg.connect(test_dsn, autocommit=True) as other:
        other.execute("UPDATE gateway.tokens SET expires_at = %s WHERE person_id = 'p01-spec-1'",
                      (NOW,))
        other.execute("DELETE FROM gateway.tokens WHERE person_id = 'p01-spec-2'")
    limit = time.monotonic() + 2
    while (first.count, second.count) != (2, 2) and time.monotonic() < limit:
        cache.find(token_hash(first.token), first)
        cache.find(token_hash(second.token), second)
        time.sleep(0.005)
    assert (first.count, second.count) == (2, 2)
    assert cache.find(token_hash(first.token), first)["expires_at"] == NOW
    assert cache.find(token_hash(second.token), second) is None


def test_nothing_is_served_from_memory_while_revocations_cannot_be_heard(
        cache, issued, clean_database, test_dsn):
    token, lookups = issued
    cache.find(token_hash(token), lookups)
    with psycopg.connect(test_dsn, autocommit=True) as admin:
        # The listening connection dies (a database restart, a network cut)...
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE query LIKE 'LISTEN ccrm_token_revoked%%' AND pid <> pg_backend_pid()")
        # ... and the token is revoked while nobody listens.
        TokenRepository(admin).revoke_token(token, NOW)
    time.sleep(0.1)
    # Not served from memory: the revocation shows on the next request.
    assert cache.find(token_hash(token), lookups)["revoked_at"] is not None


def test_a_cached_token_is_asked_again_after_its_seconds(cache, issued, monkeypatch):
    token, lookups = issued
    now = [1000.0]
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: now[0])
    cache.find(token_hash(token), lookups)
    now[0] += 9.0
    cache.find(token_hash(token), lookups)
    assert lookups.count == 1
    now[0] += 1.5
    cache.find(token_hash(token), lookups)
    assert lookups.count == 2


def test_no_cache_when_its_seconds_are_zero(test_dsn, issued):
    token, lookups = issued
    off = TokenCache(test_dsn, seconds=0)
    off.find(token_hash(token), lookups)
    off.find(token_hash(token), lookups)
    assert lookups.count == 2


def test_the_revoking_process_forgets_at_once_without_waiting_for_the_notice(cache, issued):
    """The gateway that revokes calls forget_all after its commit: the very next
    lookup asks the database, before any notice could have arrived."""
    token, lookups = issued
    cache.find(token_hash(token), lookups)
    cache.forget_all()
    cache.find(token_hash(token), lookups)
    assert lookups.count == 2
