"""`make run` as a person starts it, on the real PostgreSQL and RabbitMQ: the
whole suite comes up, SIGTERM leaves nothing behind, and a signature kept by
the default storage survives a restart (the settings and the supervisor:
tests/test_run_local.py)."""
import os
import signal
import sys
import time

import pytest

from scripts import run_local
from scripts.run_local import discover_services
from tests.test_run_local import alive, wait_for_file


def descendants(pid):
    """Every live process whose ancestry leads to `pid` (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def wait_for_connections(dsn, expected, timeout=30.0):
    """The users connected to `dsn`'s database once all of `expected` are."""
    import psycopg

    from shared.db import admin_dsn
    name = dsn.rsplit("/", 1)[1]
    limit = time.monotonic() + timeout
    while True:
        with psycopg.connect(admin_dsn(dsn)) as conn:
            users = {row[0] for row in conn.execute(
                "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = %s", (name,))}
        if expected <= users or time.monotonic() > limit:
            return users
        time.sleep(0.3)


@pytest.fixture
def fresh_runner_database():
    """No database yet: the runner's migrate step must create it from nothing."""
    import psycopg

    from shared.db import admin_dsn
    name = f"ccrm_runner_test_{os.getpid()}"
    dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"

    def drop():
        with psycopg.connect(admin_dsn(dsn), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop()
    yield dsn
    drop()


def test_make_run_brings_the_suite_up_and_sigterm_leaves_nothing(tmp_path, rabbit_config,
                                                                 s3_config,
                                                                 fresh_runner_database):
    """`python -m scripts.run_local` as `make run` starts it, on a vhost, database,
    bucket and gateway port of its own: health 200, tokens printed, and after
    SIGTERM not one of its processes is left."""
    import subprocess

    from shared.testing.s3server import free_port
    gateway = f"127.0.0.1:{free_port()}"
    env = dict(os.environ,
               AMQP_URI=rabbit_config["AMQP_URI"],
               DATABASE_URL=fresh_runner_database,
               GATEWAY_ADDRESS=gateway,
               MINIO_ENDPOINT=s3_config["endpoint"],
               MINIO_ACCESS_KEY=s3_config["access_key"],
               MINIO_SECRET_KEY=s3_config["secret_key"],
               MINIO_BUCKET=s3_config["bucket"])
    out = tmp_path / "run.out"
    with open(out, "w") as handle:
        runner = subprocess.Popen(
            [sys.executable, "-m", "scripts.run_local", "--var-dir", str(tmp_path / "var"),
             "--health-timeout", "90"],
            cwd=run_local.REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=handle,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        printed = wait_for_file(out, "press Ctrl-C to stop everything", runner)
        assert f"CCRM is up: http://{gateway}" in printed
        assert "the configured MinIO" in printed
        for name in discover_services():
            assert f"{name:<9}| " in printed, f"no prefixed output from {name}"
            assert (tmp_path / "var" / "log" / f"{name}.log").exists()
        status, body = run_local.http_status(f"http://{gateway}/api/health", timeout=10)
        assert status == 200, body
        tokens = run_local.read_tokens(tmp_path / "var" / "demo-tokens.json")
        assert tokens and {"person_id", "name", "roles", "token"} <= set(tokens[0])
        assert tokens[0]["token"] in printed
        started = descendants(runner.pid)
        assert len(started) >= len(discover_services())
        # Each service connects as its own role; the owner only set up.
        roles = {f"ccrm_{name}" for name in discover_services()}
        users = wait_for_connections(fresh_runner_database, roles)
        assert users == roles, users
    finally:
        runner.send_signal(signal.SIGTERM)
        try:
            runner.wait(60)
        finally:
            if runner.poll() is None:
                os.killpg(runner.pid, signal.SIGKILL)
    assert runner.returncode == 0, out.read_text()[-3000:]
    assert "all processes stopped" in out.read_text()
    assert not [pid for pid in started if alive(pid)]
    assert run_local.port_is_free(*run_local.host_port(gateway, 8000))


def test_a_signature_survives_a_restart_of_make_run_with_its_default_storage(
        tmp_path, rabbit_config, fresh_runner_database):
    """No MinIO configured or installed: `make run` keeps media in var/media,
    says so, and a signature uploaded before a stop reads back byte for byte
    after the next start (issue 14: signatures are the evidence)."""
    import shutil
    import subprocess

    import requests

    from services.media.tests import samples
    from shared.testing.s3server import free_port
    gateway = f"127.0.0.1:{free_port()}"
    env = {name: value for name, value in os.environ.items()
           if name not in ("MINIO_ENDPOINT", "MEDIA_LOCAL_DIR")}
    # a minio binary on the PATH would be make run's choice: take its folder off
    minio = shutil.which("minio")
    if minio:
        folder = os.path.dirname(minio)
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                      if p != folder)
    env.update(AMQP_URI=rabbit_config["AMQP_URI"], DATABASE_URL=fresh_runner_database,
               GATEWAY_ADDRESS=gateway)
    var = tmp_path / "var"

    def make_run(n):
        out = tmp_path / f"run-{n}.out"
        with open(out, "w") as handle:
            runner = subprocess.Popen(
                [sys.executable, "-m", "scripts.run_local", "--var-dir", str(var),
                 "--health-timeout", "90"],
                cwd=run_local.REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=handle,
                stderr=subprocess.STDOUT, start_new_session=True)
        printed = wait_for_file(out, "press Ctrl-C to stop everything", runner)
        token = {t["person_id"]: t["token"] for t in run_local.read_tokens(
            var / "demo-tokens.json")}["centre-staff-1"]
        return runner, printed, {"Authorization": f"Bearer {token}"}

    def stop(runner):
        runner.send_signal(signal.SIGTERM)
        try:
            runner.wait(60)
        finally:
            if runner.poll() is None:
                os.killpg(runner.pid, signal.SIGKILL)
        assert runner.returncode == 0

    base = f"http://{gateway}"
    runner, printed, auth = make_run(1)
    try:
        assert f"a local directory {var / 'media'}" in printed and "SURVIVE" in printed
        uploaded = requests.post(f"{base}/api/media", headers=auth, data={"kind": "signature"},
                                 files={"file": ("签名.png", samples.PNG, "image/png")},
                                 timeout=30)
        assert uploaded.status_code == 201, uploaded.text
        media_id = uploaded.json()["id"]
    finally:
        stop(runner)
    assert [p.name for p in (var / "media").rglob("M-*")] == [media_id]

    runner, printed, auth = make_run(2)
    try:
        shown = requests.get(f"{base}/api/media/{media_id}", headers=auth, timeout=30)
        assert shown.status_code == 200, shown.text
        assert shown.json()["url"].startswith(f"{base}/files/")
        read = requests.get(shown.json()["url"], timeout=30)
        assert read.status_code == 200, read.text
        assert read.content == samples.PNG
    finally:
        stop(runner)
