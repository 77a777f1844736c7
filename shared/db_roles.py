"""Each service's own PostgreSQL role (ARCHITECTURE, Data; issue 8).

`python -m shared.migrate`, run as the owner of the schemas, calls
`ensure_roles` after the migrations: a LOGIN role `ccrm_<service>` per
service, allowed to connect to the database, to read and write the tables of
its own schema and to read the shared clock; nothing anywhere else, and no
CREATE in any schema. Every object stays owned by the migration's user.
All the grants are here, so what a service may touch is read in one place.

Passwords: none for a local run (trust auth). When `CCRM_DB_PASSWORD_<SERVICE>`
is set (docker-compose), the role gets that password, and `service_dsn` puts it
in the service's URL.

Importing this module needs only the standard library (scripts/run_local.py
uses `service_dsn` before the project may be installed); psycopg is imported
where SQL runs.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

if TYPE_CHECKING:      # only for the annotations: see the module doc
    from psycopg import Connection

log = logging.getLogger(__name__)

ROLE_PREFIX = "ccrm_"
PASSWORD_PREFIX = "CCRM_DB_PASSWORD_"
SERVICES = ("media", "dispatch", "intake", "sla", "penalty", "gateway")
CLOCK_SCHEMA = "clock"
# Only the admin's clock route (gateway, POST /api/admin/clock) sets or
# advances the simulation clock; every other service only reads it.
CLOCK_WRITERS = frozenset({"gateway"})
# Tables whose lines are facts once written (their migrations' triggers refuse
# UPDATE/DELETE too); the service may only read and add. The penalty ledger
# above all: a deduction is never edited, a correction is a reversing line.
APPEND_ONLY = {
    "penalty": ("deductions", "monthly_reports", "report_lines", "report_reviews",
                "rankings_published", "measures"),
    "intake": ("timeline", "time_acceptances"),
    "dispatch": ("history", "routings", "time_acceptances"),
}

# What one service role may do in its own schema.
_OWN_SCHEMA = """
GRANT USAGE ON SCHEMA {schema} TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE ON SEQUENCES TO {role};
REVOKE ALL ON {schema}.schema_migrations FROM {role};
GRANT SELECT ON {schema}.schema_migrations TO {role};
"""
_APPEND_ONLY = "REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role};"
_CLOCK_READER = """
GRANT USAGE ON SCHEMA {schema} TO {role};
GRANT SELECT ON {schema}.settings TO {role};
"""
_CLOCK_WRITER = "GRANT INSERT, UPDATE ON {schema}.settings TO {role};"
# Start from nothing in every CCRM schema, so a right taken away in this file
# is taken away from a database migrated before.
_NOTHING_IN = """
REVOKE ALL ON SCHEMA {schema} FROM {role};
REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON SEQUENCES FROM {role};
"""
# The database: only the owner and the service roles connect; PUBLIC keeps no
# CONNECT, no TEMP (no temporary tables either) and nothing in `public`.
_DATABASE = """
REVOKE ALL ON DATABASE {database} FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
"""
_CONNECT = "GRANT CONNECT ON DATABASE {database} TO {role};"


def role_name(service: str, prefix: str = ROLE_PREFIX) -> str:
    return f"{prefix}{service}"


def password_variable(service: str) -> str:
    return f"{PASSWORD_PREFIX}{service.upper()}"


def service_dsn(dsn: str, service: str, environ: Mapping[str, str] | None = None,
                prefix: str = ROLE_PREFIX) -> str:
    """`dsn` (the owner's URL) with the service's role as its user, and the
    role's password when `CCRM_DB_PASSWORD_<SERVICE>` is set."""
    environ = os.environ if environ is None else environ
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a postgresql:// URL: {dsn!r}")
    password = environ.get(password_variable(service))
    user = quote(role_name(service, prefix), safe="")
    if password:
        user += ":" + quote(password, safe="")
    where = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{where}"))


def database_urls(dsn: str, services: Iterable[str] = SERVICES,
                  environ: Mapping[str, str] | None = None,
                  prefix: str = ROLE_PREFIX) -> dict[str, str]:
    """The config's `DATABASE_URLS`: every service's own URL."""
    return {service: service_dsn(dsn, service, environ, prefix) for service in services}


def _run(conn: Connection[Any], template: str, **names: str | tuple[str, ...]) -> None:
    from psycopg import sql
    conn.execute(sql.SQL(template).format(**{
        key: sql.Identifier(*value) if isinstance(value, tuple) else sql.Identifier(value)
        for key, value in names.items()}))


def _rows(conn: Connection[Any], query: str,
          params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Plain tuples, whatever row factory the caller's connection has."""
    from psycopg.rows import tuple_row
    with conn.cursor(row_factory=tuple_row) as cursor:
        return cursor.execute(query, params).fetchall()


def _create_role(conn: Connection[Any], role: str) -> None:
    """CREATE ROLE unless it exists. Roles are cluster-wide: two migrations
    (two test runs, on two databases) may race here, and the loser's error is
    duplicate_object or, in the catalogue's index, unique_violation."""
    from psycopg import errors
    exists = _rows(conn, "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (role,))
    if not exists:
        try:
            with conn.transaction():
                _run(conn, "CREATE ROLE {role} LOGIN", role=role)
            log.info("created role %s", role)
            return
        except (errors.DuplicateObject, errors.UniqueViolation):
            return
    if not exists[0][0]:
        _run(conn, "ALTER ROLE {role} LOGIN", role=role)


def _set_password(conn: Connection[Any], role: str, password: str) -> None:
    """Sent already hashed (SCRAM), so the clear text is never in a server log."""
    from psycopg import sql
    hashed = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
        sql.Identifier(role), sql.Literal(hashed.decode())))


def _grant(conn: Connection[Any], service: str, role: str, database: str,
           schemas: Iterable[str], clock: bool) -> None:
    for schema in schemas:
        _run(conn, _NOTHING_IN, schema=schema, role=role)
    _run(conn, _CONNECT, database=database, role=role)
    _run(conn, _OWN_SCHEMA, schema=service, role=role)
    for table in APPEND_ONLY.get(service, ()):
        _run(conn, _APPEND_ONLY, table=(service, table), role=role)
    if clock:
        _run(conn, _CLOCK_READER, schema=CLOCK_SCHEMA, role=role)
        if service in CLOCK_WRITERS:
            _run(conn, _CLOCK_WRITER, schema=CLOCK_SCHEMA, role=role)


def ensure_roles(conn: Connection[Any], services: Iterable[str] = SERVICES,
                 environ: Mapping[str, str] | None = None,
                 prefix: str = ROLE_PREFIX) -> list[str]:
    """Create the services' roles and give each exactly its rights in this
    database. `conn` is the owner's autocommit connection; idempotent."""
    environ = os.environ if environ is None else environ
    roles = {service: role_name(service, prefix) for service in services}
    for service, role in roles.items():
        _create_role(conn, role)
        password = environ.get(password_variable(service))
        if password:
            _set_password(conn, role, password)
    database = conn.info.dbname
    with conn.transaction():
        # Grants in one database from two migrations at once would clash
        # ("tuple concurrently updated"); this database's migrations queue here.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('migrate:roles'))")
        present = {row[0] for row in _rows(
            conn, "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
            ([*SERVICES, CLOCK_SCHEMA],))}
        clock = _rows(conn, "SELECT to_regclass('clock.settings')")[0][0] is not None
        _run(conn, _DATABASE, database=database)
        for service, role in roles.items():
            if service not in present:
                raise RuntimeError(f"schema {service} does not exist: migrate it first")
            _grant(conn, service, role, database, sorted(present), clock)
    return list(roles.values())
