"""What the Kubernetes deployment relies on at start (issue 18), on the real
broker and database:

- the six services start unchanged with the deployment's settings,
  QUEUE_TYPE=quorum as on the three-node RabbitMQ cluster, two instances of
  each consuming service; every queue they declare is a quorum queue, and each
  KEDA ScaledObject's pattern (deploy/kubernetes/base/scaling.yaml) matches
  exactly the queues its service consumes;
- the Deployments' init container (wait_for_migrations.py) waits until the
  migrate Job has brought the service's schema up to the image's migrations.
"""
from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import requests
import yaml
from nameko.constants import WEB_SERVER_CONFIG_KEY

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.service import GatewayService
from services.intake.service import IntakeService
from services.media.service import MediaService
from services.penalty.service import PenaltyService
from services.sla.service import SlaService
from shared.clock import SimulationClock
from shared.consumer import DEAD_LETTER_QUEUE
from shared.db import admin_dsn
from shared.db_roles import service_dsn
from shared.errors import InvalidInput
from shared.migrate import migrate
from shared.outbox import Outbox
from shared.testing.polling import eventually

REPO = Path(__file__).resolve().parents[1]
BASE = REPO / "deploy" / "kubernetes" / "base"
OVERLAYS = REPO / "deploy" / "kubernetes" / "overlays"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
CONSUMERS = {"intake": IntakeService, "dispatch": DispatchService, "sla": SlaService,
             "penalty": PenaltyService, "media": MediaService}

pytestmark = pytest.mark.integration


def deployment_settings() -> dict[str, str]:
    """The base's ccrm-settings literals (what every CCRM container gets)."""
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text(encoding="utf-8"))
    [settings] = [g for g in kustomization["configMapGenerator"] if g["name"] == "ccrm-settings"]
    return dict(line.split("=", 1) for line in settings["literals"])


def scaler_patterns() -> dict[str, str]:
    docs = yaml.safe_load_all((BASE / "scaling.yaml").read_text(encoding="utf-8"))
    return {d["spec"]["scaleTargetRef"]["name"]: d["spec"]["triggers"][0]["metadata"]["queueName"]
            for d in docs if d["kind"] == "ScaledObject"}


def declared_queues(container) -> set[str]:
    """The queues a running container consumes: its RPC queue and one per event handler."""
    names = set()
    for entrypoint in container.entrypoints:
        queue = getattr(entrypoint, "queue", None)
        consumer = getattr(entrypoint, "rpc_consumer", None)
        queue = queue if queue is not None else getattr(consumer, "queue", None)
        if queue is not None:
            names.add(queue.name)
    return names


def test_services_start_on_quorum_queues_and_each_scaler_watches_its_own_queues(
        runner_factory, container_factory, ccrm_config, web_config, s3_config,
        clean_database, rabbit_manager):
    settings = deployment_settings()
    assert settings["CCRM_QUEUE_TYPE"] == "quorum"
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, QUEUE_TYPE=settings["CCRM_QUEUE_TYPE"], MINIO=s3_config,
                  RPC_TIMEOUT=10, SMS={"provider": "record"}, DB_POOL_SIZE=2,
                  **{WEB_SERVER_CONFIG_KEY: address})
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    runner = runner_factory(config, GatewayService, *CONSUMERS.values())
    runner.start()
    for service_cls in CONSUMERS.values():           # a second instance of each
        container_factory(service_cls, config).start()

    # What the migrate Job does next: load the region's organisation file.
    load_organisation(clean_database, OVERLAYS / "gz" / "organisation.yaml", now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"), expected_region="GZ")

    def healthy():
        answer = requests.get(f"http://{address}/api/health", timeout=30)
        return answer if answer.status_code == 200 else None

    health = eventually(healthy, timeout=60, interval=0.5)
    assert {name: s["status"] for name, s in health.json()["services"].items()} == \
        {name: "ok" for name in ["gateway", *CONSUMERS]}

    declared = {name: declared_queues(runner.service_map[name]) for name in CONSUMERS}
    assert declared_queues(runner.service_map["gateway"]) == set()   # scales on CPU instead
    queues = {q["name"]: q for q in rabbit_manager.get_queues(ccrm_config["vhost"])}
    service_queues = {name for name in queues
                      if name.startswith(("rpc-", "evt-")) or name == DEAD_LETTER_QUEUE}
    assert service_queues == set().union(*declared.values()) | {DEAD_LETTER_QUEUE}
    assert {queues[name]["type"] for name in service_queues} == {"quorum"}
    replies = [name for name in queues if name.startswith("rpc.reply-")]
    assert replies and {queues[name]["type"] for name in replies} == {"classic"}

    patterns = scaler_patterns()
    assert set(patterns) == set(CONSUMERS)
    for service, pattern in patterns.items():
        watched = {name for name in queues if re.fullmatch(pattern, name)}
        assert watched == declared[service], service
        assert f"rpc-{service}" in watched
    assert declared["media"] == {"rpc-media"}        # media has no event handler
    assert all(any(n.startswith("evt-") for n in declared[s]) for s in CONSUMERS if s != "media")


@pytest.mark.parametrize("region,code", [("gz", "GZ"), ("sh", "SH")])
def test_each_region_organisation_file_loads_for_its_region_only(clean_database, region, code):
    path = OVERLAYS / region / "organisation.yaml"
    other = "SH" if code == "GZ" else "GZ"
    with pytest.raises(InvalidInput, match=f"this deployment serves {other}"):
        load_organisation(clean_database, path, now=NOW,
                          outbox=Outbox("dispatch", "dispatch", other), expected_region=other)
    result = load_organisation(clean_database, path, now=NOW,
                               outbox=Outbox("dispatch", "dispatch", code), expected_region=code)
    assert result is not None
    with clean_database.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM dispatch.projects").fetchone()["n"] == 4


# -- the init container ------------------------------------------------------------------

def load_waiter():
    path = REPO / "deploy" / "kubernetes" / "wait_for_migrations.py"
    spec = importlib.util.spec_from_file_location("wait_for_migrations", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def scratch_dsn(test_dsn):
    """An empty database of its own, dropped afterwards."""
    dsn = test_dsn + "_k8s_wait"
    name = dsn.rsplit("/", 1)[1]
    with psycopg.connect(admin_dsn(dsn), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield dsn
    with psycopg.connect(admin_dsn(dsn), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_init_container_waits_for_the_migrations_as_the_service_role(scratch_dsn, capsys):
    waiter = load_waiter()
    intake = service_dsn(scratch_dsn, "intake")
    assert waiter.main(["intake", "--dsn", intake, "--timeout", "0"]) == 1
    assert "has the ccrm-migrate Job run?" in capsys.readouterr().err

    migrate(scratch_dsn)        # what the Job does: migrations, then the roles' grants
    for service in waiter.SERVICE_SCHEMAS:
        assert waiter.main([service, "--dsn", service_dsn(scratch_dsn, service),
                            "--timeout", "0"]) == 0
    assert "intake: schema migrated (up to date)" in capsys.readouterr().out

    latest = max(waiter.expected_versions("intake"))
    with psycopg.connect(scratch_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM intake.schema_migrations WHERE version = %s", (latest,))
    assert waiter.main(["intake", "--dsn", intake, "--timeout", "0"]) == 1
    assert f"not applied yet: {latest}" in capsys.readouterr().err
