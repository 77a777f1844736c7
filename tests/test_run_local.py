"""The local runner (`make run`): settings, storage choice and the process supervisor.

The supervisor is tested with real processes: it must prefix and log their
output, name the one that died with the tail of its log, and leave nothing
running when it stops, not even a process a child spawned.
"""
import io
import os
import signal
import sys
import time

import pytest

from scripts import run_local
from scripts.run_local import (
    SERVICE_ENV_VARS,
    StartFailed,
    Supervisor,
    choose_storage,
    config_defaults,
    discover_services,
    process_environment,
    service_environment,
    token_table,
    wait_until,
)


def gone_within(pid, seconds):
    limit = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > limit:
            return False
        time.sleep(0.02)
    return True


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie no one reaped yet is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for_line(out, text, timeout=10.0):
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        if text in out.getvalue():
            return out.getvalue()
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not in output:\n{out.getvalue()}")


def wait_for_file(path, text, process, timeout=120.0):
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        content = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        if text in content:
            return content
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode} before {text!r}:\n{content}")
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not seen in {timeout:.0f}s:\n{path.read_text()}")


@pytest.fixture
def supervisor(tmp_path):
    out = io.StringIO()
    sup = Supervisor(tmp_path / "log", out=out)
    yield sup
    sup.stop(grace=1)


# -- settings ------------------------------------------------------------------------


def test_services_are_the_directories_with_a_service_module_gateway_last(tmp_path):
    for name in ("media", "gateway", "dispatch", "sla"):
        (tmp_path / name).mkdir()
    for name in ("media", "gateway", "dispatch"):
        (tmp_path / name / "service.py").write_text("")
    assert discover_services(tmp_path) == ["dispatch", "media", "gateway"]


def test_the_repository_services_are_discovered():
    found = discover_services()
    assert "media" in found
    assert found == sorted(found, key=lambda name: name == "gateway")


def test_every_shared_setting_is_a_variable_config_yaml_reads():
    assert set(SERVICE_ENV_VARS) <= set(config_defaults())


def test_settings_take_config_defaults_and_the_environment_wins():
    settings = service_environment(environ={"DATABASE_URL": "postgresql://x@db/ccrm"})
    defaults = config_defaults()
    assert settings["DATABASE_URL"] == "postgresql://x@db/ccrm"
    assert settings["MINIO_BUCKET"] == defaults["MINIO_BUCKET"]
    assert settings["CCRM_SIMULATION"] == "true"
    assert set(settings) == set(SERVICE_ENV_VARS)


def test_a_variable_config_yaml_stopped_reading_is_a_readable_error(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("AMQP_URI: ${AMQP_URI:pyamqp://guest:guest@127.0.0.1:5672/}\n")
    with pytest.raises(SystemExit, match="no longer reads"):
        service_environment(environ={}, config_path=config)


def test_each_service_process_connects_as_its_own_role():
    base = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/ccrm", "AMQP_URI": "amqp://x",
            "CCRM_DB_PASSWORD_SLA": "sla-secret", "CCRM_DB_PASSWORD_MEDIA": "media-secret"}
    sla = process_environment("sla", base)
    assert sla["DATABASE_URL"] == "postgresql://ccrm_sla:sla-secret@127.0.0.1:5432/ccrm"
    assert sla["AMQP_URI"] == "amqp://x"
    assert not [name for name in sla if name.startswith("CCRM_DB_PASSWORD_")]
    assert process_environment("gateway", base)["DATABASE_URL"] == \
        "postgresql://ccrm_gateway@127.0.0.1:5432/ccrm"
    # The set-up steps keep the owner's URL: the caller's dict is left alone.
    assert base["DATABASE_URL"] == "postgresql://postgres@127.0.0.1:5432/ccrm"
    assert process_environment("sla", base) == sla


def test_every_process_of_every_instance_has_its_own_metrics_port():
    base = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/ccrm"}
    services = discover_services()
    addresses = [process_environment(name, base, instance)["METRICS_ADDRESS"]
                 for instance in (0, 1) for name in services]
    assert len(set(addresses)) == len(addresses)
    assert addresses[0] == "127.0.0.1:9101"                      # first service, instance 0
    assert addresses[len(services)] == "127.0.0.1:9111"          # first service, instance 1
    gateway = process_environment("gateway", base)["METRICS_ADDRESS"]
    assert gateway == f"127.0.0.1:{9100 + services.index('gateway') + 1}"


def test_a_configured_minio_is_used_as_it_is():
    settings = service_environment(environ={"MINIO_ENDPOINT": "s3.example:9000"})
    storage = choose_storage(settings, environ={"MINIO_ENDPOINT": "s3.example:9000"},
                             which=lambda name: "/usr/bin/minio")
    assert storage.argv is None and storage.endpoint == "s3.example:9000"
    assert storage.service_env == {} and storage.ready_check() is not None
    assert "MINIO_ENDPOINT" in storage.describe()


def test_an_installed_minio_keeps_its_objects_under_var(tmp_path):
    settings = service_environment(environ={})
    storage = choose_storage(settings, environ={}, which=lambda name: "/opt/bin/minio",
                             var_dir=tmp_path)
    assert storage.argv[:3] == ["/opt/bin/minio", "server", str(tmp_path / "minio")]
    assert storage.env["MINIO_ROOT_USER"] == settings["MINIO_ACCESS_KEY"]
    # config.yaml names no MinIO by default: the services are told where it listens
    assert storage.service_env == {"MINIO_ENDPOINT": storage.endpoint} == {
        "MINIO_ENDPOINT": "127.0.0.1:9000"}
    assert storage.survives_restart and "SURVIVE" in storage.describe()


def test_by_default_media_go_to_a_directory_under_var_and_survive_a_restart(tmp_path):
    settings = service_environment(environ={})
    assert settings["MINIO_ENDPOINT"] == ""          # config.yaml names no MinIO
    storage = choose_storage(settings, environ={}, which=lambda name: None, var_dir=tmp_path)
    assert storage.kind == "local-dir" and storage.argv is None
    assert storage.data_dir == (tmp_path / "media").resolve()
    assert storage.service_env == {"MEDIA_LOCAL_DIR": str(storage.data_dir),
                                   "MINIO_ENDPOINT": ""}
    assert storage.ready_check() is None             # a directory: nothing to wait for
    assert storage.survives_restart
    described = storage.describe()
    assert "SURVIVE" in described and str(storage.data_dir) in described
    assert "DO NOT" not in described


def test_the_local_directory_can_be_placed_elsewhere(tmp_path):
    storage = choose_storage(service_environment(environ={}),
                             environ={"MEDIA_LOCAL_DIR": str(tmp_path / "evidence")},
                             which=lambda name: None, var_dir=tmp_path / "var")
    assert storage.data_dir == tmp_path / "evidence"
    assert storage.service_env["MEDIA_LOCAL_DIR"] == str(tmp_path / "evidence")


def test_token_table_lists_name_roles_and_token():
    table = token_table([{"person_id": "p1", "name": "王芳", "roles": ["specialist", "admin"],
                          "project_ids": ["GZ-P1"], "token": "tok-1"}])
    header, row = table.splitlines()
    assert header.split() == ["name", "roles", "token"]
    assert row.split() == ["王芳", "specialist,admin", "tok-1"]
    # Columns line up on a terminal, where each Chinese character takes two cells.
    assert run_local.display_width(header[:header.index("roles")]) == \
        run_local.display_width(row[:row.index("specialist")])


# -- supervisor ----------------------------------------------------------------------


def test_output_is_prefixed_with_the_process_name_and_logged(supervisor, tmp_path):
    process = supervisor.start("media", ["sh", "-c", "echo hello; echo there >&2"], os.environ)
    process.proc.wait(10)
    process.finish()
    out = wait_for_line(supervisor.out, "there")
    assert "media    | hello" in out and "media    | there" in out
    log = (tmp_path / "log" / "media.log").read_text()
    assert "hello\n" in log and "there\n" in log


def test_stop_leaves_no_process_behind_not_even_a_grandchild(supervisor):
    script = "sleep 300 & echo child=$!; wait"
    process = supervisor.start("svc", ["sh", "-c", script], os.environ)
    out = wait_for_line(supervisor.out, "child=")
    grandchild = int(out.split("child=")[1].split()[0])
    assert alive(process.pid) and alive(grandchild)
    supervisor.stop(grace=5)
    assert not alive(process.pid)
    # SIGKILL is delivered asynchronously: give the orphan a moment to die.
    assert gone_within(grandchild, seconds=3)
    assert supervisor.processes == []


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace(supervisor):
    process = supervisor.start("stubborn", ["sh", "-c", "trap '' TERM; echo ready; "
                                            "while true; do sleep 0.1; done"], os.environ)
    wait_for_line(supervisor.out, "ready")
    started = time.monotonic()
    supervisor.stop(grace=0.5)
    assert time.monotonic() - started < 5
    assert process.returncode == -signal.SIGKILL
    assert "ignored SIGTERM" in supervisor.out.getvalue()


def test_a_dead_process_is_named_with_the_tail_of_its_log(supervisor):
    supervisor.start("gateway", ["sh", "-c", "echo 'port 8000 in use'; exit 3"], os.environ)
    with pytest.raises(StartFailed) as failure:
        wait_until(lambda: (False, "no answer"), supervisor, timeout=10, what="health")
    message = str(failure.value)
    assert "'gateway' exited with status 3" in message
    assert "port 8000 in use" in message
    assert "gateway.log" in message


def test_waiting_too_long_is_a_readable_timeout(supervisor):
    supervisor.start("media", ["sleep", "30"], os.environ)
    with pytest.raises(StartFailed, match="timed out after 0s.*last answer: HTTP 503"):
        wait_until(lambda: (False, "HTTP 503"), supervisor, timeout=0.3, what="health")


def test_a_failed_setup_step_stops_the_start_with_its_output(supervisor):
    with pytest.raises(StartFailed, match="cannot reach the database"):
        supervisor.run_step("migrate", ["sh", "-c", "echo cannot reach the database; exit 2"],
                            os.environ)


def test_sigterm_to_the_runner_stops_what_it_started(tmp_path):
    """The runner itself, stopped mid-start: its children go with it."""
    import subprocess
    import textwrap
    driver = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(run_local.REPO_ROOT)!r})
        from scripts import run_local
        sup = run_local.Supervisor({str(tmp_path / 'log')!r})
        signal.signal(signal.SIGTERM, run_local._on_signal)
        try:
            sup.start("svc", ["sh", "-c", "sleep 300 & echo child=$!; wait"], os.environ)
            while True:
                signal.pause()
        except run_local._Stop:
            sup.stop(grace=5)
            print("stopped", flush=True)
    """)
    out = tmp_path / "driver.out"
    with open(out, "w") as handle:
        runner = subprocess.Popen([sys.executable, "-c", driver], stdout=handle)
    printed = wait_for_file(out, "child=", runner, timeout=15)
    grandchild = int(printed.split("child=")[1].split()[0])
    assert alive(grandchild)
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(15) == 0
    assert "stopped" in out.read_text()
    assert not alive(grandchild)


def test_the_local_s3_helper_serves_until_sigterm(tmp_path):
    import subprocess

    from shared.testing.s3server import free_port
    port = free_port()
    out = tmp_path / "s3.out"
    with open(out, "w") as handle:
        helper = subprocess.Popen(
            [sys.executable, "-m", "scripts.local_s3", "--port", str(port),
             "--request-log", str(tmp_path / "requests.log")],
            cwd=run_local.REPO_ROOT, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        wait_for_file(out, "local S3", helper)
        status, _ = run_local.http_status(f"http://127.0.0.1:{port}/", timeout=5)
        assert status == 200
    finally:
        helper.send_signal(signal.SIGTERM)
        helper.wait(15)
    assert helper.returncode == 0
    assert "its objects are gone" in out.read_text()
    assert run_local.port_is_free("127.0.0.1", port), "the moto server outlived its helper"


def run_runner(tmp_path, **env):
    import subprocess
    return subprocess.run(
        [sys.executable, "-m", "scripts.run_local", "--var-dir", str(tmp_path / "var")],
        cwd=run_local.REPO_ROOT, env=dict(os.environ, **env), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60)


def test_an_unreachable_database_stops_the_run_saying_how_to_start_it(tmp_path):
    from shared.testing.s3server import free_port
    result = run_runner(tmp_path, DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    assert result.returncode == 1
    assert "PostgreSQL does not answer" in result.stdout
    assert "pg_ctlcluster --skip-systemctl-redirect" in result.stdout


def test_a_busy_gateway_port_stops_the_run_before_anything_starts(tmp_path):
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_runner(tmp_path, GATEWAY_ADDRESS=f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in result.stdout
    assert not (tmp_path / "var" / "log" / "migrate.log").exists()
