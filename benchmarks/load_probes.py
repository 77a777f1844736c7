"""What the load benchmark watches from outside the services while it runs:
resident memory of each service process, the broker's queue depths, and the
database's and broker's own counters (transactions committed, messages
published) so the load's rates stand next to the raw limits."""
import time
import urllib.parse

import psycopg

from scripts.fault_test import queue_depths
from scripts.suite import management


def rss_kib(pid):
    """VmRSS of a process in KiB (/proc/<pid>/status); None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def service_rss(suite):
    """{process name: RSS KiB} of the suite's nameko processes (not the S3 server)."""
    return {p.name: rss_kib(p.pid) for p in suite.supervisor.processes if p.name in suite.argv}


def dead_services(suite):
    return [p.name for p in suite.supervisor.processes
            if p.name in suite.argv and p.returncode is not None]


def queues(vhost):
    """{queue: messages (ready + unacknowledged)} of the vhost, or {} if the
    management API does not answer (one missed sample, not a failed run)."""
    try:
        return {name: n or 0 for name, n in queue_depths(vhost).items()}
    except (RuntimeError, OSError):
        return {}


def broker_publishes(vhost):
    """Messages published into the vhost so far (management API; RPC requests,
    replies and events alike). The API refreshes it every few seconds."""
    try:
        status, body = management("GET", f"/api/vhosts/{urllib.parse.quote(vhost, safe='')}")
    except OSError:
        return None
    if status != 200 or not isinstance(body, dict):
        return None
    return (body.get("message_stats") or {}).get("publish")


def db_commits(dsn, database):
    """Transactions committed in `database` so far (pg_stat_database)."""
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s",
                               (database,)).fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


class Counters:
    """Snapshots of the HTTP calls made, the database's commits and the
    broker's publishes, to turn into rates over a stretch of the run."""

    def __init__(self, suite, gateways):
        self.suite, self.gateways = suite, gateways

    def snapshot(self):
        return {"at": time.monotonic(), "http_calls": self.gateways.calls,
                "db_commits": db_commits(self.suite.owner_dsn, self.suite.database),
                "broker_publishes": broker_publishes(self.suite.vhost)}
