"""Apply each service's numbered SQL migrations to its own schema.

`python -m shared.migrate [schema ...]` applies every pending file of
`services/<schema>/migrations/` (and `shared/migrations/<schema>/`) in order,
each in its own transaction with its record in `<schema>.schema_migrations`.
Applying twice is a no-op; an advisory lock keeps two runners from racing.
Then each migrated service gets its own database role with rights on its own
schema only (shared/db_roles.py).
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

import shared  # noqa: F401  (sets the psycopg wait function)
from shared.config import REPO_ROOT, load_config
from shared.db import ensure_database
from shared.db_roles import CLOCK_SCHEMA, SERVICES, ensure_roles

log = logging.getLogger(__name__)

# Order matters only for readability: no schema references another.
SCHEMAS = (CLOCK_SCHEMA, *SERVICES)
SERVICE_SCHEMAS = SCHEMAS[1:]
MESSAGING_SQL = REPO_ROOT / "shared" / "migrations" / "messaging.sql"
_FILE = re.compile(r"^(\d{3})_[\w-]+\.sql$")


def migration_dir(schema: str) -> Path | None:
    for candidate in (REPO_ROOT / "services" / schema / "migrations",
                      REPO_ROOT / "shared" / "migrations" / schema):
        if candidate.is_dir():
            return candidate
    return None


def migration_files(directory: str | Path | None) -> list[Path]:
    if directory is None:
        return []
    files = sorted(p for p in Path(directory).iterdir() if _FILE.match(p.name))
    versions = [p.name[:3] for p in files]
    if len(set(versions)) != len(versions):
        raise SystemExit(f"two migrations share a number in {directory}")
    return files


def migrate_schema(conn: psycopg.Connection[Any], schema: str,
                   directory: str | Path | None) -> list[str]:
    """Apply pending files; return the names applied."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"migrate:{schema}",))
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(f'''CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations (
            version text PRIMARY KEY, name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now())''')
    steps = [("000", "000_messaging.sql", MESSAGING_SQL.read_text(encoding="utf-8")
              .replace("{schema}", schema))] if schema in SERVICE_SCHEMAS else []
    steps += [(p.name[:3], p.name, p.read_text(encoding="utf-8"))
              for p in migration_files(directory)]
    for version, name, sql in steps:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"migrate:{schema}",))
            done = conn.execute(
                f'SELECT 1 FROM "{schema}".schema_migrations WHERE version = %s',
                (version,)).fetchone()
            if done:
                continue
            conn.execute(sql)
            conn.execute(
                f'INSERT INTO "{schema}".schema_migrations (version, name) VALUES (%s, %s)',
                (version, name))
            applied_now.append(f"{schema}/{name}")
    return applied_now


def migrate(dsn: str, schemas: Sequence[str] = SCHEMAS, create_database: bool = True,
            roles: bool = True) -> list[str]:
    """Apply what is pending; return the names applied now. With `roles`, the
    migrated services' roles are (re)created and granted afterwards."""
    if create_database:
        ensure_database(dsn)
    applied: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for schema in schemas:
            directory = migration_dir(schema)
            if directory is not None or schema in SERVICE_SCHEMAS:
                applied += migrate_schema(conn, schema, directory)
        if roles:
            ensure_roles(conn, [s for s in schemas if s in SERVICE_SCHEMAS])
    return applied


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Apply CCRM database migrations.")
    parser.add_argument("schemas", nargs="*", default=list(SCHEMAS))
    parser.add_argument("--dsn", help="database URL (default: DATABASE_URL of the config)")
    args = parser.parse_args(argv)
    dsn = args.dsn or load_config()["DATABASE_URL"]
    try:
        applied = migrate(dsn, args.schemas)
    except psycopg.OperationalError as exc:
        print(f"数据库无法连接，无法迁移 (cannot reach the database {dsn}): {exc}", file=sys.stderr)
        return 2
    for name in applied:
        print(f"applied {name}")
    print(f"migrations up to date ({len(applied)} applied now); each service connects "
          "as its own role, ccrm_<service>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
