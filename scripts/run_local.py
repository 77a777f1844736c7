"""Run the whole CCRM suite on this machine: `make run` (or `python -m scripts.run_local`).

Migrates, loads the demo organisation, issues demo tokens, starts media
storage and one `nameko run` per service, waits for the gateway's health,
prints the URL and the tokens, then stays in the foreground. Ctrl-C or
SIGTERM stops every process it started (each runs in its own process group,
so nothing a service spawned is left behind).

Standard library only (shared.db_roles imports nothing else either), so it
runs before the project is fully installed.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from collections import deque
from contextlib import contextmanager
from pathlib import Path

from scripts.preflight import NotReady, check_postgres, check_rabbitmq
from shared.db_roles import PASSWORD_PREFIX, service_dsn

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = REPO_ROOT / "config.yaml"
SERVICES_DIR = REPO_ROOT / "services"
VAR_DIR = REPO_ROOT / "var"
GATEWAY = "gateway"

# The settings every service process gets, by the names config.yaml reads.
# docker-compose.yml sets exactly these names too (tests/test_compose.py).
SERVICE_ENV_VARS = (
    "AMQP_URI",
    "DATABASE_URL",
    "CCRM_REGION",
    "CCRM_TIME_ZONE",
    "CCRM_SIMULATION",
    "CCRM_ORGANISATION_FILE",
    "MINIO_ENDPOINT",
    "MINIO_ACCESS_KEY",
    "MINIO_SECRET_KEY",
    "MINIO_BUCKET",
    "MINIO_SECURE",
    "GATEWAY_ADDRESS",
    "CCRM_QUEUE_TYPE",
    "METRICS_ADDRESS",
)

# Each service process's metrics listen on 127.0.0.1:<METRICS_BASE_PORT + 10 *
# instance + n>, n = 1, 2, ... in discover_services() order.
METRICS_BASE_PORT = 9100

_CONFIG_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


def config_defaults(path=CONFIG_FILE):
    """{VAR: default} for every `${VAR:default}` config.yaml reads."""
    text = Path(path).read_text(encoding="utf-8")
    return {name: (default or "") for name, default in _CONFIG_VAR.findall(text)}


def setup_steps(tokens_file):
    """Set-up before the services start: (label, module, arguments)."""
    return (
        ("migrate", "shared.migrate", ()),
        ("directory", "services.dispatch.load_directory", ()),
        ("tokens", "services.gateway.tokens", ("demo", "--out", str(tokens_file))),
    )


def discover_services(services_dir=SERVICES_DIR):
    """Every service directory that has a nameko service module, gateway last."""
    names = sorted(p.parent.name for p in Path(services_dir).glob("*/service.py"))
    return sorted(names, key=lambda name: name == GATEWAY)


def service_environment(environ=None, config_path=CONFIG_FILE):
    """The shared settings: the caller's environment wins over config.yaml's defaults.

    The local run is a simulation-mode deployment unless told otherwise.
    """
    environ = os.environ if environ is None else environ
    defaults = config_defaults(config_path)
    missing = [name for name in SERVICE_ENV_VARS if name not in defaults]
    if missing:
        raise SystemExit(f"config.yaml no longer reads {', '.join(missing)}: "
                         "update SERVICE_ENV_VARS in scripts/run_local.py")
    defaults["CCRM_SIMULATION"] = "true"
    return {name: environ.get(name, defaults[name]) for name in SERVICE_ENV_VARS}


def process_environment(service, base_env, instance=0, services=None):
    """The environment of one process of `service` (instance 0, 1, ...).

    `base_env` holds the owner's DATABASE_URL, which the set-up steps use; the
    service connects as its own role instead (shared/db_roles.py), with its
    password when CCRM_DB_PASSWORD_<SERVICE> is set. No process keeps another
    role's password. Pure: same arguments, same result.
    """
    services = discover_services() if services is None else list(services)
    env = {name: value for name, value in base_env.items()
           if not name.startswith(PASSWORD_PREFIX)}
    env["DATABASE_URL"] = service_dsn(base_env["DATABASE_URL"], service, base_env)
    port = METRICS_BASE_PORT + 10 * instance + services.index(service) + 1
    env["METRICS_ADDRESS"] = f"127.0.0.1:{port}"
    return env


def host_port(address, default_port):
    host, _, port = address.rpartition(":")
    return (host or "127.0.0.1"), int(port or default_port)


def port_is_free(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class Storage:
    """Where media objects go, and the process to start for it, if any."""

    def __init__(self, kind, endpoint, survives_restart, argv=None, env=None, data_dir=None):
        self.kind = kind
        self.endpoint = endpoint
        self.survives_restart = survives_restart
        self.argv = argv
        self.env = env or {}
        self.data_dir = data_dir

    def describe(self):
        if self.argv is None:
            where = f"the configured MinIO at {self.endpoint} (MINIO_ENDPOINT)"
            fate = "its objects are kept by that server"
        elif self.kind == "minio":
            where = f"a MinIO server at {self.endpoint}, data in {self.data_dir}"
            fate = "objects SURVIVE a restart"
        else:
            where = f"a local S3-compatible server (moto) at {self.endpoint}, in memory"
            fate = "objects DO NOT survive a restart: uploads are lost when `make run` stops"
        return f"media storage: {where}; {fate}"


def choose_storage(settings, environ=None, which=shutil.which, python=sys.executable,
                   var_dir=VAR_DIR):
    """A configured MinIO, else an installed `minio` binary, else a local moto server."""
    environ = os.environ if environ is None else environ
    endpoint = settings["MINIO_ENDPOINT"]
    if environ.get("MINIO_ENDPOINT"):
        return Storage("external", endpoint, survives_restart=True)
    minio = which("minio")
    if minio:
        data_dir = Path(var_dir) / "minio"
        return Storage(
            "minio", endpoint, survives_restart=True, data_dir=data_dir,
            argv=[minio, "server", str(data_dir), "--address", endpoint, "--quiet"],
            env={"MINIO_ROOT_USER": settings["MINIO_ACCESS_KEY"],
                 "MINIO_ROOT_PASSWORD": settings["MINIO_SECRET_KEY"]})
    host, port = host_port(endpoint, 9000)
    return Storage("local-s3", endpoint, survives_restart=False,
                   argv=[python, "-m", "scripts.local_s3", "--host", host, "--port", str(port),
                         "--request-log", str(Path(var_dir) / "log" / "s3-requests.log")])


class StartFailed(Exception):
    """The suite could not come up; the message says which process and why."""


class Managed:
    """One child process in its own process group, its output prefixed and logged."""

    def __init__(self, name, argv, env, log_dir, echo, cwd=REPO_ROOT):
        self.name = name
        self.argv = list(argv)
        self.log_path = Path(log_dir) / f"{name}.log"
        self.tail = deque(maxlen=30)
        self._echo = echo
        self._log = open(self.log_path, "a", encoding="utf-8")
        self._log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(self.argv)}\n")
        self._log.flush()
        self.proc = subprocess.Popen(
            self.argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._pump, name=f"log-{name}", daemon=True)
        self._reader.start()

    def _pump(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.tail.append(line)
            if not self._log.closed:
                self._log.write(line + "\n")
                self._log.flush()
            self._echo(self.name, line)
        self.proc.stdout.close()

    @property
    def returncode(self):
        return self.proc.poll()

    def signal_group(self, signum):
        """Signal the whole group: the process and anything it spawned."""
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def finish(self, timeout=5.0):
        """Wait for the reader to drain the pipe, then close the log."""
        self._reader.join(timeout)
        self._log.close()

    def describe_exit(self):
        code = self.returncode
        if code is not None:
            self._reader.join(2.0)  # its last words are still in the pipe
        if code is not None and code < 0:
            how = f"was killed by signal {-code}"
        else:
            how = f"exited with status {code}"
        lines = "\n".join(f"    {line}" for line in self.tail) or "    (no output)"
        return (f"进程 {self.name} 已退出 (process '{self.name}' {how}).\n"
                f"  Last lines of {self.log_path}:\n{lines}")


class Supervisor:
    """Starts processes, prefixes their output, and stops them all, groups included."""

    def __init__(self, log_dir, out=None):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.out = out or sys.stdout
        self.processes = []
        self._lock = threading.Lock()
        self._width = 9

    def say(self, text):
        with self._lock:
            print(text, file=self.out, flush=True)

    def _echo(self, name, line):
        with self._lock:
            print(f"{name:<{self._width}}| {line}", file=self.out, flush=True)

    def start(self, name, argv, env):
        self._width = max(self._width, len(name))
        # A Ctrl-C arriving mid-start is held until the child is on the list,
        # so it cannot leave a process nobody will stop. (Not sigmask: a
        # blocked mask would be inherited by the child.)
        with _stop_deferred():
            process = Managed(name, argv, env, self.log_dir, self._echo)
            self.processes.append(process)
        return process

    def run_step(self, name, argv, env, timeout=300.0):
        """Run a set-up command to its end; raise StartFailed if it fails."""
        process = self.start(name, argv, env)
        try:
            process.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            process.signal_group(signal.SIGKILL)
            process.proc.wait()
            process.finish()
            raise StartFailed(f"'{name}' did not finish within {timeout:.0f}s.\n"
                              + process.describe_exit())
        process.finish()
        self.processes.remove(process)
        if process.returncode != 0:
            raise StartFailed(process.describe_exit())
        return process

    def first_dead(self):
        for process in self.processes:
            if process.returncode is not None:
                return process
        return None

    def stop(self, grace=10.0):
        """SIGTERM every group, wait up to `grace`, then SIGKILL what is left."""
        running = [p for p in self.processes if p.returncode is None]
        for process in reversed(running):
            self.say(f"stopping {process.name} (pid {process.pid})")
            process.signal_group(signal.SIGTERM)
        limit = time.monotonic() + grace
        for process in running:
            try:
                process.proc.wait(max(0.0, limit - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{process.name} ignored SIGTERM for {grace:.0f}s: killing it")
        for process in self.processes:
            # Also reaches children left in a group whose leader already exited.
            process.signal_group(signal.SIGKILL)
            process.proc.wait()
            process.finish()
        self.processes = []


def http_status(url, timeout=2.0):
    """(status, body) of a GET, or (None, reason) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))


def wait_until(check, supervisor, timeout, what, poll=0.3):
    """Poll `check()` until it returns a true value; fail fast if a process dies."""
    limit = time.monotonic() + timeout
    last = None
    while time.monotonic() < limit:
        dead = supervisor.first_dead()
        if dead is not None:
            raise StartFailed(f"{what}: a process died while waiting.\n" + dead.describe_exit())
        ok, last = check()
        if ok:
            return last
        time.sleep(poll)
    tails = "\n".join(f"  {p.name}: log in {p.log_path}" for p in supervisor.processes)
    raise StartFailed(f"等待超时 (timed out after {timeout:.0f}s): {what}; "
                      f"last answer: {last}\n{tails}")


def storage_ready(endpoint):
    def check():
        status, body = http_status(f"http://{endpoint}/", timeout=1.0)
        return status is not None, f"{status} {body[:80]}" if status else body
    return check


def health_ready(url):
    def check():
        status, body = http_status(url)
        return status == 200, (f"HTTP {status}: {body[:300]}" if status else body)
    return check


def read_tokens(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []


def display_width(text):
    """Columns a terminal gives `text`: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text, width):
    return text + " " * (width - display_width(text))


def token_table(tokens):
    """A short table: name, roles, token."""
    rows = [("name", "roles", "token")]
    for entry in tokens:
        roles = entry.get("roles") or []
        rows.append((str(entry.get("name", "")),
                     ",".join(roles) if isinstance(roles, list) else str(roles),
                     str(entry.get("token", ""))))
    widths = [max(display_width(row[i]) for row in rows) for i in range(2)]
    return "\n".join(f"  {pad(row[0], widths[0])}  {pad(row[1], widths[1])}  {row[2]}"
                     for row in rows)


def nameko_command(python=sys.executable):
    nameko = Path(python).parent / "nameko"
    return [str(nameko)] if nameko.exists() else [python, "-m", "nameko"]


class _Stop(Exception):
    """Raised in the main thread by SIGINT / SIGTERM."""


_deferral = {"depth": 0, "pending": None, "stopping": False}


@contextmanager
def _stop_deferred():
    _deferral["depth"] += 1
    try:
        yield
    finally:
        _deferral["depth"] -= 1
        if _deferral["depth"] == 0 and _deferral["pending"]:
            pending, _deferral["pending"] = _deferral["pending"], None
            _deferral["stopping"] = True
            raise _Stop(pending)


def _on_signal(signum, frame):
    # Only the first signal stops the run; a second Ctrl-C (the terminal's and
    # make's both arrive) must not interrupt the clean-up it started.
    if _deferral["stopping"]:
        return
    name = signal.Signals(signum).name
    if _deferral["depth"]:
        _deferral["pending"] = name
        return
    _deferral["stopping"] = True
    raise _Stop(name)


def bring_up(supervisor, settings, storage, env, health_timeout, tokens_file):
    """Everything `make run` does before it waits in the foreground."""
    say = supervisor.say
    check_postgres(settings["DATABASE_URL"])
    check_rabbitmq(settings["AMQP_URI"])
    gateway_host, gateway_port = host_port(settings["GATEWAY_ADDRESS"], 8000)
    if not port_is_free(gateway_host, gateway_port):
        raise StartFailed(f"端口 {gateway_port} 已被占用 (port {gateway_port} on {gateway_host} is "
                          f"in use: is another `make run` still running?)")
    python = sys.executable
    for label, module, args in setup_steps(tokens_file):
        say(f"{label}: python -m {module} {' '.join(args)}".rstrip())
        supervisor.run_step(label, [python, "-m", module, *args], env)
    say(storage.describe())
    if storage.argv is not None:
        host, port = host_port(storage.endpoint, 9000)
        if not port_is_free(host, port):
            raise StartFailed(f"端口 {port} 已被占用 (port {port} on {host} is in use, so media "
                              "storage cannot start there; set MINIO_ENDPOINT to use a running "
                              "one)")
        if storage.data_dir is not None:
            storage.data_dir.mkdir(parents=True, exist_ok=True)
        supervisor.start("storage", storage.argv, {**env, **storage.env})
    wait_until(storage_ready(storage.endpoint), supervisor, 30,
               f"media storage at {storage.endpoint}")
    services = discover_services()
    if GATEWAY not in services:
        raise StartFailed("services/gateway/service.py not found: no HTTP entry to start")
    say(f"starting services: {', '.join(services)}, each as its own database role "
        "(ccrm_<service>)")
    for name in services:
        supervisor.start(name, [*nameko_command(python), "run", "--config", str(CONFIG_FILE),
                                f"services.{name}.service"],
                         process_environment(name, env, services=services))
    reachable = "127.0.0.1" if gateway_host in ("0.0.0.0", "") else gateway_host
    url = f"http://{reachable}:{gateway_port}"
    wait_until(health_ready(url + "/api/health"), supervisor, health_timeout,
               f"GET {url}/api/health to answer 200")
    return url


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the whole CCRM suite locally.")
    parser.add_argument("--health-timeout", type=float, default=120.0,
                        help="seconds to wait for the gateway's /api/health (default 120)")
    parser.add_argument("--var-dir", type=Path, default=VAR_DIR,
                        help="where logs, demo tokens and MinIO data go (default var/)")
    args = parser.parse_args(argv)

    args.var_dir = args.var_dir.resolve()
    log_dir = args.var_dir / "log"
    tokens_file = args.var_dir / "demo-tokens.json"
    supervisor = Supervisor(log_dir)
    say = supervisor.say
    settings = service_environment()
    storage = choose_storage(settings, var_dir=args.var_dir)
    env = {**os.environ, **settings, "PYTHONUNBUFFERED": "1"}
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        say(f"CCRM local run from {REPO_ROOT}; logs in {log_dir}/<process>.log")
        url = bring_up(supervisor, settings, storage, env, args.health_timeout, tokens_file)
        say("")
        say("=" * 72)
        say(f"CCRM is up: {url}  (API under {url}/api, OpenAPI at {url}/api/openapi.json)")
        say(f"simulation mode: {settings['CCRM_SIMULATION']}; region {settings['CCRM_REGION']}")
        say(storage.describe())
        tokens = read_tokens(tokens_file)
        if tokens:
            say(f"demo tokens (also in {tokens_file}), use as `Authorization: Bearer <token>`:")
            say(token_table(tokens))
        say(f"logs: {log_dir}/<process>.log; press Ctrl-C to stop everything")
        say("=" * 72)
        while True:
            dead = supervisor.first_dead()
            if dead is not None:
                raise StartFailed(dead.describe_exit())
            time.sleep(0.5)
    except _Stop as stop:
        say(f"received {stop}: stopping everything")
    except NotReady as exc:
        say(str(exc))
        status = 1
    except StartFailed as exc:
        say(f"CCRM 启动失败 / stopped: {exc}")
        status = 1
    finally:
        # A second Ctrl-C must not interrupt the clean-up half way.
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)
        supervisor.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    say("all processes stopped")
    return status


if __name__ == "__main__":
    sys.exit(main())
