"""docker-compose.yml describes the same suite, with the same settings, as `make run`.

No Docker engine runs here, so the file is checked as data: it parses, names
every service, checks each one's health, and sets only variables config.yaml
reads, by the names the local runner sets.
"""
import re
from pathlib import Path

import pytest
import yaml

from scripts.run_local import (
    CONFIG_FILE,
    REPO_ROOT,
    SERVICE_ENV_VARS,
    SERVICES_DIR,
    config_defaults,
    discover_services,
)
from shared.db_roles import PASSWORD_PREFIX, password_variable, role_name

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SERVICE_COMMAND = re.compile(r"^services\.(\w+)\.service$")
INFRASTRUCTURE = {"rabbitmq", "postgres", "minio"}


class ComposeLoader(yaml.SafeLoader):
    """PyYAML's safe loader without nameko's `${VAR}` resolver.

    nameko's config loading registers that resolver on yaml.SafeLoader for the
    whole process; here `${VAR:?...}` must stay text, as compose reads it."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag.startswith("tag:yaml.org")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


@pytest.fixture(scope="module")
def compose():
    with open(COMPOSE_FILE, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=ComposeLoader)


def ccrm_service_of(definition):
    """The CCRM service a compose service runs (`nameko run ... services.X.service`)."""
    command = definition.get("command") or []
    if isinstance(command, str):
        command = command.split()
    if command[:2] != ["nameko", "run"]:
        return None
    return next((m.group(1) for m in map(SERVICE_COMMAND.match, command) if m), None)


def ccrm_containers(compose):
    """Compose services built from the project's image (the services and `migrate`)."""
    return {name: d for name, d in compose["services"].items() if "build" in d}


def test_the_file_parses_into_services(compose):
    assert isinstance(compose.get("services"), dict) and compose["services"]


def test_every_service_directory_has_a_compose_service(compose):
    directories = sorted(p.name for p in SERVICES_DIR.iterdir()
                         if p.is_dir() and (p / "__init__.py").exists())
    assert directories, "no service directories found"
    running = {ccrm_service_of(d): name for name, d in compose["services"].items()}
    missing = [name for name in directories if name not in running]
    assert not missing, f"services/ has {missing} but docker-compose.yml does not run them"
    for directory in directories:
        assert running[directory] == directory, "name the compose service after its directory"


def test_compose_runs_every_service_the_local_run_starts(compose):
    running = {ccrm_service_of(d) for d in compose["services"].values()} - {None}
    assert set(discover_services()) <= running


def test_infrastructure_is_there_with_health_checks(compose):
    services = compose["services"]
    assert INFRASTRUCTURE <= set(services)
    assert "management" in services["rabbitmq"]["image"]
    assert services["postgres"]["image"].split(":")[1].startswith("15")
    for name in INFRASTRUCTURE:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_every_ccrm_service_has_a_health_check(compose):
    for name, definition in compose["services"].items():
        service = ccrm_service_of(definition)
        if service is None:
            continue
        test = definition.get("healthcheck", {}).get("test")
        assert test, f"{name} has no health check"
        if service == "gateway":
            assert test[-1] == "gateway" and "scripts.healthcheck" in test
        else:
            assert test[-3:] == ["scripts.healthcheck", service] or test[-1] == service


def test_services_wait_for_their_infrastructure_and_the_migration(compose):
    services = compose["services"]
    assert "shared.migrate" in " ".join(services["migrate"]["command"])
    for name, definition in services.items():
        if ccrm_service_of(definition) is None:
            continue
        depends = definition["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        for infrastructure in ("rabbitmq", "postgres"):
            assert depends[infrastructure]["condition"] == "service_healthy", name


def role_passwords():
    """What `migrate` also gets: the roles' passwords (read by shared.db_roles)."""
    return {password_variable(service) for service in discover_services()}


def test_ccrm_containers_set_only_variables_config_yaml_reads(compose):
    read = set(config_defaults(CONFIG_FILE))
    for name, definition in ccrm_containers(compose).items():
        unknown = set(definition["environment"]) - read
        if name == "migrate":
            unknown -= role_passwords()
        assert not unknown, f"{name} sets {sorted(unknown)}, which config.yaml never reads"


# Settings of one's own deployment that the local run takes from the caller's
# environment as they are (it passes os.environ on): the SMS provider's keys
# (sla), the OpenID Connect provider and the receipts' tokens (gateway).
PASS_THROUGH = {
    "sla": {"SMS_PROVIDER", "SMS_URL", "SMS_API_KEY", "SMS_SIGNATURE",
            "ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET",
            "TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID"},
    "gateway": {"OIDC_ENABLED", "OIDC_ISSUER", "OIDC_DISCOVERY_URL", "OIDC_CLIENT_ID",
                "OIDC_CLIENT_SECRET", "OIDC_REDIRECT_URL",
                "SMS_RECEIPT_TOKEN_ALIYUN", "SMS_RECEIPT_TOKEN_TENCENT"},
}


def test_compose_and_the_local_run_use_the_same_variable_names(compose):
    for name, definition in ccrm_containers(compose).items():
        extra = role_passwords() if name == "migrate" else set()
        extra |= PASS_THROUGH.get(name, set())
        assert set(definition["environment"]) == set(SERVICE_ENV_VARS) | extra, name


def test_the_pass_through_settings_are_read_by_config_yaml():
    text = CONFIG_FILE.read_text(encoding="utf-8")
    read = set(re.findall(r"\$\{(\w+):", text))
    for name, variables in PASS_THROUGH.items():
        assert variables <= read, (name, variables - read)


# A compose DATABASE_URL: user, a `${VAR:?...}` password, host, port, database.
DATABASE_URL = re.compile(r"^postgresql://(?P<user>\w+):"
                          r"(?P<password>\$\{(?P<variable>\w+):\?[^}]*\})"
                          r"@(?P<where>[\w.-]+:\d+/\w+)$")


def database_url(definition):
    match = DATABASE_URL.match(definition["environment"]["DATABASE_URL"])
    assert match, definition["environment"]["DATABASE_URL"]
    return match


def test_each_service_connects_as_its_own_role_and_only_migrate_as_the_owner(compose):
    services = compose["services"]
    owner = database_url(services["migrate"])
    assert owner["user"] == services["postgres"]["environment"]["POSTGRES_USER"]
    assert owner["variable"] == "POSTGRES_PASSWORD"
    migrate_env = services["migrate"]["environment"]
    for name, definition in services.items():
        service = ccrm_service_of(definition)
        if service is None:
            continue
        url = database_url(definition)
        assert url["user"] == role_name(service), name
        # Its own password, required from .env: the one `migrate` gives its role.
        assert url["variable"] == password_variable(service), name
        assert migrate_env[url["variable"]] == url["password"], name
        assert url["where"] == owner["where"], name
        seen = set(re.findall(r"\$\{(\w+)", str(definition["environment"])))
        others = {v for v in seen if v == "POSTGRES_PASSWORD"
                  or (v.startswith(PASSWORD_PREFIX) and v != url["variable"])}
        assert not others, f"{name} can see {sorted(others)}"


def test_compose_runs_in_production_mode_and_commits_no_secret(compose):
    for name, definition in ccrm_containers(compose).items():
        environment = definition["environment"]
        assert environment["CCRM_SIMULATION"] == "false", name
        assert environment["GATEWAY_ADDRESS"] == "0.0.0.0:8000", name
        for variable in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"):
            assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", environment[variable]), (name, variable)
        for variable in ("AMQP_URI", "DATABASE_URL"):
            assert ":?" in environment[variable], (name, variable)


def test_every_required_variable_has_an_example():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = Path(REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^(\w+)=", example, flags=re.M))
    assert required and required <= documented, sorted(required - documented)


def test_one_dockerfile_builds_every_ccrm_container(compose):
    builds = {str(d["build"]) for d in ccrm_containers(compose).values()}
    assert builds == {"."}
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "pip install" in dockerfile



def service_class(name):
    import importlib
    module = importlib.import_module(f"services.{name}.service")
    return next(value for value in vars(module).values()
                if isinstance(value, type) and getattr(value, "name", None) == name)


def test_every_service_answers_the_health_call_its_container_check_makes():
    """scripts.healthcheck calls `<service>.health()` over RPC (the gateway: HTTP)."""
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
    from nameko.rpc import Rpc
    from nameko.web.handlers import HttpRequestHandler
    for name in discover_services():
        health = getattr(service_class(name), "health", None)
        assert health is not None, f"services/{name}/service.py has no health entrypoint"
        entrypoints = getattr(health, ENTRYPOINT_EXTENSIONS_ATTR, set())
        wanted = HttpRequestHandler if name == "gateway" else Rpc
        assert any(isinstance(e, wanted) for e in entrypoints), \
            f"{name}.health is not {wanted.__name__}: its container check would fail"
