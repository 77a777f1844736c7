"""Init container of every CCRM Deployment: wait for the migrate Job.

    python deploy/kubernetes/wait_for_migrations.py <service> [--timeout S]

Exits 0 once `<service>.schema_migrations`, read as the service's own role
(DATABASE_URL), holds every migration this image carries for the service;
the role can read it only after the Job's grants, so that is waited for too.
Exits 1 with what is missing when `--timeout` passes first (Kubernetes then
restarts the init container). Kubernetes has no "after this Job" for a
Deployment; this makes the order hold however the manifests are applied.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))   # the image's /app

import psycopg  # noqa: E402

from shared.config import load_config  # noqa: E402
from shared.migrate import MESSAGING_SQL, SERVICE_SCHEMAS, migration_dir, migration_files  # noqa: E402


def expected_versions(service: str) -> set[str]:
    """What shared.migrate records for the service: 000 (the messaging
    tables, MESSAGING_SQL) and one version per migration file."""
    versions = {p.name[:3] for p in migration_files(migration_dir(service))}
    return versions | ({"000"} if MESSAGING_SQL.exists() else set())


def missing_versions(dsn: str, service: str) -> tuple[set[str], str]:
    """(versions not applied yet, why) for the service's schema."""
    expected = expected_versions(service)
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            rows = conn.execute(
                f'SELECT version FROM "{service}".schema_migrations').fetchall()
    except psycopg.Error as exc:
        return expected, f"{type(exc).__name__}: {str(exc).strip()}"
    missing = expected - {row[0] for row in rows}
    return missing, f"not applied yet: {', '.join(sorted(missing))}" if missing else "up to date"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Wait until a service's schema is migrated.")
    parser.add_argument("service", choices=SERVICE_SCHEMAS)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds (default 300)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between checks")
    parser.add_argument("--dsn", help="database URL (default: DATABASE_URL of the config)")
    args = parser.parse_args(argv)
    dsn = args.dsn or load_config()["DATABASE_URL"]
    limit = time.monotonic() + args.timeout
    while True:
        missing, why = missing_versions(dsn, args.service)
        if not missing:
            print(f"{args.service}: schema migrated ({why})", flush=True)
            return 0
        if time.monotonic() >= limit:
            print(f"{args.service}: schema not migrated after {args.timeout:.0f}s ({why}); "
                  "has the ccrm-migrate Job run?", file=sys.stderr, flush=True)
            return 1
        print(f"{args.service}: waiting for the ccrm-migrate Job ({why})", flush=True)
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
