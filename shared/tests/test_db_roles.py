"""Each service's own database role (shared/db_roles.py), on the real server.

The session's test database was migrated by `migrate()`, which also made the
roles; here each role connects and is allowed or refused as it should be.
"""
import os
import threading

import psycopg
import pytest
from psycopg import errors

from shared.db_roles import (
    APPEND_ONLY,
    CLOCK_WRITERS,
    SERVICES,
    database_urls,
    ensure_roles,
    password_variable,
    role_name,
    service_dsn,
)
from shared.migrate import SCHEMAS, migrate

OUTBOX_ROW = ("INSERT INTO {schema}.outbox (event_id, exchange, routing_key, body) "
              "VALUES (gen_random_uuid(), 'x.events', 'x.happened', '{{}}') RETURNING id")


# -- the service's URL -----------------------------------------------------------------------


def test_a_service_url_is_the_owner_url_with_the_role_as_user():
    owner = "postgresql://postgres:owner-secret@db.example:6543/ccrm?sslmode=require"
    assert service_dsn(owner, "intake", environ={}) == \
        "postgresql://ccrm_intake@db.example:6543/ccrm?sslmode=require"


def test_a_password_from_the_environment_goes_into_the_url_quoted():
    environ = {"CCRM_DB_PASSWORD_PENALTY": "p@ss:w/rd", "CCRM_DB_PASSWORD_SLA": "other"}
    dsn = service_dsn("postgresql://ccrm@postgres:5432/ccrm", "penalty", environ=environ)
    assert dsn == "postgresql://ccrm_penalty:p%40ss%3Aw%2Frd@postgres:5432/ccrm"
    assert psycopg.conninfo.conninfo_to_dict(dsn)["password"] == "p@ss:w/rd"


def test_every_service_gets_its_own_url():
    urls = database_urls("postgresql://postgres@127.0.0.1:5432/ccrm", environ={})
    assert set(urls) == set(SERVICES) == set(SCHEMAS) - {"clock"}
    assert {psycopg.conninfo.conninfo_to_dict(url)["user"] for url in urls.values()} == \
        {f"ccrm_{service}" for service in SERVICES}


def test_a_url_that_is_not_postgresql_is_refused():
    with pytest.raises(ValueError, match="postgresql://"):
        service_dsn("host=127.0.0.1 user=postgres", "media", environ={})


# -- what each role may do -------------------------------------------------------------------


@pytest.fixture(scope="module")
def connect(test_dsn):
    """connect(service): an autocommit connection as that service's role."""
    opened = []

    def make(service):
        conn = psycopg.connect(service_dsn(test_dsn, service, environ={}), autocommit=True)
        opened.append(conn)
        return conn

    yield make
    for conn in opened:
        conn.close()


def refused(conn, query, reason="permission denied"):
    """The statement fails for want of a privilege (not because of a trigger)."""
    with pytest.raises(errors.InsufficientPrivilege) as failure:
        conn.execute(query)
    assert reason in str(failure.value), failure.value
    return str(failure.value)


class Rollback(Exception):
    pass


def test_intake_reads_and_writes_its_own_tables_and_reads_the_clock(connect):
    conn = connect("intake")
    assert conn.info.user == "ccrm_intake"
    with pytest.raises(Rollback):
        with conn.transaction():
            row_id = conn.execute(OUTBOX_ROW.format(schema="intake")).fetchone()[0]
            conn.execute("UPDATE intake.outbox SET published_at = now() WHERE id = %s", (row_id,))
            conn.execute("INSERT INTO intake.inbox (handler, event_id) "
                         "VALUES ('test', gen_random_uuid())")
            assert conn.execute("DELETE FROM intake.inbox WHERE handler = 'test'").rowcount == 1
            assert conn.execute("SELECT count(*) FROM intake.complaints").fetchone()[0] >= 0
            raise Rollback
    assert conn.execute("SELECT offset_us FROM clock.settings WHERE id = 1").fetchone()
    refused(conn, "UPDATE clock.settings SET offset_us = 0")
    # Its migrations' record is the owner's to write.
    assert conn.execute("SELECT count(*) FROM intake.schema_migrations").fetchone()[0] > 0
    refused(conn, "DELETE FROM intake.schema_migrations")


@pytest.mark.parametrize("other", [s for s in SERVICES if s != "intake"])
def test_intake_is_refused_every_other_service_table(connect, other):
    conn = connect("intake")
    refused(conn, f"SELECT count(*) FROM {other}.outbox")
    refused(conn, OUTBOX_ROW.format(schema=other))


def test_a_role_cannot_create_anything_anywhere(connect):
    conn = connect("intake")
    for schema in (*SCHEMAS, "public"):
        refused(conn, f"CREATE TABLE {schema}.sneaky (n int)")
    refused(conn, "CREATE TEMPORARY TABLE sneaky (n int)")
    refused(conn, "CREATE SCHEMA sneaky")
    refused(conn, "ALTER TABLE intake.outbox ADD COLUMN sneaky int", "must be owner")
    refused(conn, "DROP TABLE intake.inbox", "must be owner")
    refused(conn, "TRUNCATE intake.inbox")


def test_the_penalty_role_adds_ledger_lines_but_never_changes_one(connect, test_dsn):
    conn = connect("penalty")
    with pytest.raises(Rollback):
        with conn.transaction():
            conn.execute(
                """INSERT INTO penalty.deductions (id, amount, rule, article, month, charged_at,
                       evidence, rule_version, source_key, created_at)
                   VALUES (gen_random_uuid(), 100, 'r', 'Art. 1', '2026-11', now(), '{}',
                           'v1', 'roles-test', now())""")
            raise Rollback
    # Refused by its rights already, before the append-only trigger would be.
    assert "for table deductions" in refused(conn, "UPDATE penalty.deductions SET amount = 0")
    assert "for table deductions" in refused(conn, "DELETE FROM penalty.deductions")
    refused(conn, "TRUNCATE penalty.deductions")
    with psycopg.connect(test_dsn) as owner:
        for service, tables in APPEND_ONLY.items():
            for table in tables:
                rights = owner.execute(
                    "SELECT has_table_privilege(%s, %s, 'SELECT'), "
                    "has_table_privilege(%s, %s, 'INSERT'), "
                    "has_table_privilege(%s, %s, 'UPDATE, DELETE, TRUNCATE')",
                    [role_name(service), f"{service}.{table}"] * 3).fetchone()
                assert rights == (True, True, False), f"{service}.{table}"


def test_only_the_gateway_moves_the_clock(connect):
    assert CLOCK_WRITERS == {"gateway"}
    conn = connect("gateway")
    with pytest.raises(Rollback):
        with conn.transaction():
            conn.execute("SELECT offset_us FROM clock.settings WHERE id = 1 FOR UPDATE")
            conn.execute("""INSERT INTO clock.settings (id, offset_us) VALUES (1, 5)
                            ON CONFLICT (id) DO UPDATE SET offset_us = EXCLUDED.offset_us""")
            raise Rollback
    refused(conn, "DELETE FROM clock.settings")
    refused(connect("sla"), "SELECT offset_us FROM clock.settings WHERE id = 1 FOR UPDATE")


def test_every_role_has_usage_on_its_schema_and_the_clock_only(test_dsn):
    with psycopg.connect(test_dsn) as owner:
        for service in SERVICES:
            role = role_name(service)
            for schema in (*SCHEMAS, "public"):
                usage, create = owner.execute(
                    "SELECT has_schema_privilege(%s, %s, 'USAGE'), "
                    "has_schema_privilege(%s, %s, 'CREATE')", (role, schema, role, schema)
                ).fetchone()
                assert usage == (schema in (service, "clock")), (role, schema)
                assert not create, (role, schema)
            granted = owner.execute(
                """SELECT DISTINCT table_schema FROM information_schema.role_table_grants
                   WHERE grantee = %s""", (role,)).fetchall()
            assert {row[0] for row in granted} == {service, "clock"}, role
            assert owner.execute("SELECT has_database_privilege(%s, current_database(), "
                                 "'CONNECT')", (role,)).fetchone()[0]
            assert not owner.execute("SELECT has_database_privilege(%s, current_database(), "
                                     "'TEMPORARY, CREATE')", (role,)).fetchone()[0]


def test_every_object_stays_owned_by_the_migration_user(test_dsn):
    with psycopg.connect(test_dsn) as owner:
        owned = owner.execute(
            """SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = ANY(%s) AND pg_get_userbyid(c.relowner) LIKE 'ccrm\\_%%'""",
            (list(SCHEMAS),)).fetchall()
        schemas = owner.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) "
            "AND pg_get_userbyid(nspowner) LIKE 'ccrm\\_%%'", (list(SCHEMAS),)).fetchall()
    assert owned == [] and schemas == []


def test_migrating_again_keeps_the_roles_working(test_dsn, connect):
    assert migrate(test_dsn) == []
    assert connect("dispatch").execute("SELECT count(*) FROM dispatch.outbox").fetchone()


# -- creating roles: concurrent migrations, passwords --------------------------------------------


@pytest.fixture
def scratch_prefix(test_dsn):
    """Roles of a prefix of their own (roles are cluster-wide), dropped after."""
    prefix = f"ccrm_t{os.getpid()}_"
    yield prefix
    with psycopg.connect(test_dsn, autocommit=True) as conn:
        for (role,) in conn.execute("SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)",
                                    (prefix,)).fetchall():
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_two_migrations_at_once_both_make_the_roles(test_dsn, scratch_prefix):
    failures = []
    barrier = threading.Barrier(2)

    def run():
        try:
            with psycopg.connect(test_dsn, autocommit=True) as conn:
                barrier.wait(10)
                ensure_roles(conn, SERVICES, environ={}, prefix=scratch_prefix)
        except Exception as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    with psycopg.connect(service_dsn(test_dsn, "sla", {}, scratch_prefix)) as conn:
        assert conn.execute("SELECT count(*) FROM sla.outbox").fetchone()


def test_a_password_in_the_environment_is_set_hashed(test_dsn, scratch_prefix):
    environ = {password_variable("media"): "s3cret-media"}
    with psycopg.connect(test_dsn, autocommit=True) as conn:
        ensure_roles(conn, ["media", "sla"], environ=environ, prefix=scratch_prefix)
        stored = dict(conn.execute(
            "SELECT rolname, rolpassword FROM pg_authid WHERE starts_with(rolname, %s)",
            (scratch_prefix,)).fetchall())
    assert stored[scratch_prefix + "media"].startswith("SCRAM-SHA-256$")
    assert stored[scratch_prefix + "sla"] is None
    dsn = service_dsn(test_dsn, "media", environ, scratch_prefix)
    assert psycopg.conninfo.conninfo_to_dict(dsn)["password"] == "s3cret-media"
