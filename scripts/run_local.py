"""Run the whole CCRM suite on this machine: `make run` (or `python -m scripts.run_local`).

Migrates, loads the demo organisation, issues demo tokens, starts media
storage and one `nameko run` per service, waits for the gateway's health,
prints the URL and the tokens, then stays in the foreground. Ctrl-C or
SIGTERM stops every process it started (each runs in its own process group,
so nothing a service spawned is left behind).

The pieces live beside it: scripts.local_settings (paths, settings, each
process's environment), scripts.probes (ports and HTTP checks),
scripts.storage_choice (where media go), scripts.supervisor (the processes
and the signal handling), scripts.banner (the token table). Their names are
importable from here too, as they were before the split.

Standard library only (shared.db_roles imports nothing else either), so it
runs before the project is fully installed.
"""
import argparse
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from scripts.banner import display_width, pad, read_tokens, token_table
from scripts.local_settings import (
    CONFIG_FILE,
    GATEWAY,
    METRICS_BASE_PORT,
    REPO_ROOT,
    SERVICE_ENV_VARS,
    SERVICES_DIR,
    VAR_DIR,
    config_defaults,
    discover_services,
    process_environment,
    service_environment,
    setup_steps,
)
from scripts.preflight import NotReady, check_postgres, check_rabbitmq
from scripts.probes import health_ready, host_port, http_status, port_is_free, storage_ready
from scripts.storage_choice import Storage, choose_storage
from scripts.supervisor import (
    Managed,
    StartFailed,
    Supervisor,
    _on_signal,
    _Stop,
    _stop_deferred,
    wait_until,
)

# Re-exported: scripts.suite, scripts.fault_test and the tests import these from here.
__all__ = [
    "CONFIG_FILE", "GATEWAY", "METRICS_BASE_PORT", "REPO_ROOT", "SERVICE_ENV_VARS",
    "SERVICES_DIR", "VAR_DIR", "Managed", "StartFailed", "Storage", "Supervisor", "_Stop",
    "_on_signal", "_stop_deferred", "bring_up", "choose_storage", "config_defaults",
    "discover_services", "display_width", "health_ready", "host_port", "http_status", "main",
    "nameko_command", "pad", "port_is_free", "process_environment", "read_tokens",
    "service_environment", "setup_steps", "storage_ready", "token_table", "wait_until",
]


def instance_counts(default: int, overrides: Sequence[str],
                    services: Sequence[str]) -> dict[str, int]:
    """Processes of each service: `default` of every one, but `service=N` for
    those named in `overrides` (`--instances-of intake=2 gateway=2`)."""
    counts = dict.fromkeys(services, default)
    for item in overrides:
        name, sep, number = item.partition("=")
        if not sep or name not in counts:
            raise ValueError(f"{item!r}: expected SERVICE=N with SERVICE one of "
                             f"{', '.join(services)}")
        try:
            counts[name] = int(number)
        except ValueError:
            raise ValueError(f"{item!r}: N must be a whole number") from None
    if default < 1 or min(counts.values(), default=1) < 1:
        raise ValueError("every service needs at least 1 instance")
    return counts


def instances_option(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, int]:
    """{service: N} of `--instances-of` (checked against --instances and the
    services there are); a parser error when it does not make sense."""
    try:
        counts = instance_counts(args.instances, args.instances_of, discover_services())
    except ValueError as exc:
        parser.error(f"--instances / --instances-of: {exc}")
    return {name: counts[name] for name in (item.partition("=")[0] for item in args.instances_of)}


def add_instances_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--instances-of", nargs="*", default=[], metavar="SERVICE=N",
                        help="processes of the services named, the others --instances "
                             "(e.g. --instances-of intake=2 gateway=2)")


def nameko_command(python: str = sys.executable) -> list[str]:
    nameko = Path(python).parent / "nameko"
    return [str(nameko)] if nameko.exists() else [python, "-m", "nameko"]


def bring_up(supervisor: Supervisor, settings: Mapping[str, str], storage: Storage,
             env: Mapping[str, str], health_timeout: float, tokens_file: Path,
             instances: int | Mapping[str, int] = 1) -> str:
    """Everything `make run` does before it waits in the foreground. With
    `instances` > 1, that many processes of every service (a mapping: that
    many of each service named, one of the others); the gateways all listen
    on the one port (eventlet sets SO_REUSEPORT: the kernel spreads the
    connections over them)."""
    say = supervisor.say
    env = {**env, **storage.service_env}    # every service finds the store it chose
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
    if storage.data_dir is not None:
        storage.data_dir.mkdir(parents=True, exist_ok=True)
    if storage.argv is not None:
        host, port = host_port(storage.endpoint, 9000)
        if not port_is_free(host, port):
            raise StartFailed(f"端口 {port} 已被占用 (port {port} on {host} is in use, so media "
                              "storage cannot start there; set MINIO_ENDPOINT to use a running "
                              "one)")
        supervisor.start("storage", storage.argv, {**env, **storage.env})
    ready = storage.ready_check()
    if ready is not None:
        wait_until(ready, supervisor, 30, f"media storage at {storage.endpoint}")
    services = discover_services()
    if GATEWAY not in services:
        raise StartFailed("services/gateway/service.py not found: no HTTP entry to start")
    say(f"starting services: {', '.join(services)}, each as its own database role "
        "(ccrm_<service>)")
    counts = (dict(instances) if isinstance(instances, Mapping)
              else dict.fromkeys(services, instances))
    most = max(counts.get(name, 1) for name in services)
    for instance in range(most):
        for name in services:
            if instance >= counts.get(name, 1):
                continue
            supervisor.start(name if most == 1 else f"{name}-{instance + 1}",
                             [*nameko_command(python), "run", "--config", str(CONFIG_FILE),
                              f"services.{name}.service"],
                             process_environment(name, env, instance, services=services))
    reachable = "127.0.0.1" if gateway_host in ("0.0.0.0", "") else gateway_host
    url = f"http://{reachable}:{gateway_port}"
    wait_until(health_ready(url + "/api/health"), supervisor, health_timeout,
               f"GET {url}/api/health to answer 200")
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole CCRM suite locally.")
    parser.add_argument("--health-timeout", type=float, default=120.0,
                        help="seconds to wait for the gateway's /api/health (default 120)")
    parser.add_argument("--var-dir", type=Path, default=VAR_DIR,
                        help="where logs, demo tokens and MinIO data go (default var/)")
    parser.add_argument("--instances", type=int,
                        default=int(os.environ.get("CCRM_INSTANCES") or 1),
                        help="processes of every service (default 1, or CCRM_INSTANCES); "
                             "the gateways share the one port")
    add_instances_of(parser)
    args = parser.parse_args(argv)
    counts = {**dict.fromkeys(discover_services(), args.instances),
              **instances_option(parser, args)}

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
        url = bring_up(supervisor, settings, storage, env, args.health_timeout, tokens_file,
                       counts)
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
