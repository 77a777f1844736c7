"""Where the local suite lives and what each of its processes is told
(scripts.run_local, scripts.suite): paths, the settings every service reads,
the set-up steps, and one process's environment.

Standard library only (shared.db_roles imports nothing else either).
"""
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

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


def config_defaults(path: str | Path = CONFIG_FILE) -> dict[str, str]:
    """{VAR: default} for every `${VAR:default}` config.yaml reads."""
    text = Path(path).read_text(encoding="utf-8")
    return {name: (default or "") for name, default in _CONFIG_VAR.findall(text)}


def setup_steps(tokens_file: str | Path) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Set-up before the services start: (label, module, arguments)."""
    return (
        ("migrate", "shared.migrate", ()),
        ("directory", "services.dispatch.load_directory", ()),
        ("tokens", "services.gateway.tokens", ("demo", "--out", str(tokens_file))),
    )


def discover_services(services_dir: str | Path = SERVICES_DIR) -> list[str]:
    """Every service directory that has a nameko service module, gateway last."""
    names = sorted(p.parent.name for p in Path(services_dir).glob("*/service.py"))
    return sorted(names, key=lambda name: name == GATEWAY)


def service_environment(environ: Mapping[str, str] | None = None,
                        config_path: str | Path = CONFIG_FILE) -> dict[str, str]:
    """The shared settings: the caller's environment wins over config.yaml's defaults.

    The local run is a simulation-mode deployment unless told otherwise.
    """
    environ = os.environ if environ is None else environ
    defaults = config_defaults(config_path)
    missing = [name for name in SERVICE_ENV_VARS if name not in defaults]
    if missing:
        raise SystemExit(f"config.yaml no longer reads {', '.join(missing)}: "
                         "update SERVICE_ENV_VARS in scripts/local_settings.py")
    defaults["CCRM_SIMULATION"] = "true"
    return {name: environ.get(name, defaults[name]) for name in SERVICE_ENV_VARS}


def process_environment(service: str, base_env: Mapping[str, str], instance: int = 0,
                        services: Iterable[str] | None = None) -> dict[str, str]:
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
