"""deploy/kubernetes (issue 18): both example regions render with kustomize and
every object passes deploy/kubernetes/check.py (Kubernetes API schemas, the
operators' CRD schemas, probes, resources, references); planted mistakes are
caught; the two regions differ only in their region's settings.

The tree is copied and given secrets by new-secrets.sh, as an operator does
(the committed tree has none). No broker or database needed.
"""
from __future__ import annotations

import base64
import copy
import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from shared.db_roles import SERVICES, role_name

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy" / "kubernetes"
REGIONS = {"gz": "GZ", "sh": "SH"}
# What may differ between two regions' settings (ccrm-settings).
REGION_SETTINGS = {"CCRM_REGION", "CCRM_TIME_ZONE", "SMS_SIGNATURE", "CCRM_PUBLIC_URL",
                   "RABBITMQ_MANAGEMENT_URL"}
QUEUE_CONSUMERS = ("intake", "dispatch", "sla", "penalty", "media")


def load_check():
    spec = importlib.util.spec_from_file_location("k8s_check", DEPLOY / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check = load_check()


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of deploy/kubernetes with each region's secrets written."""
    copy_root = tmp_path_factory.mktemp("k8s") / "kubernetes"
    shutil.copytree(DEPLOY, copy_root, ignore=shutil.ignore_patterns("secrets"))
    for region in REGIONS:
        result = subprocess.run(["sh", str(copy_root / "new-secrets.sh"),
                                 str(copy_root / "overlays" / region)],
                                capture_output=True, text=True, check=False, timeout=60)
        assert result.returncode == 0, result.stderr
    return copy_root


@pytest.fixture(scope="module")
def rendered(tree) -> dict[str, list[dict]]:
    return {region: check.render(tree / "overlays" / region) for region in REGIONS}


def find(docs, kind, name):
    [doc] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def generated(docs, kind, base):
    """A generated ConfigMap/Secret by its name without kustomize's hash suffix."""
    [doc] = [d for d in docs if d["kind"] == kind
             and re.fullmatch(rf"{base}(-[a-z0-9]{{10}})?", d["metadata"]["name"])]
    return doc


def container(docs, service):
    return find(docs, "Deployment", service)["spec"]["template"]["spec"]["containers"][0]


# -- both regions -------------------------------------------------------------------------

@pytest.mark.parametrize("region", REGIONS)
def test_each_region_renders_and_every_object_validates(rendered, region):
    docs = rendered[region]
    assert check.problems(docs) == []
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Job", "Service", "Ingress", "PodDisruptionBudget", "ScaledObject",
            "HorizontalPodAutoscaler", "TriggerAuthentication", "ConfigMap", "Secret",
            "RabbitmqCluster", "Cluster", "Tenant", "Namespace"} <= kinds
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"} == set(SERVICES)
    assert all(d["metadata"].get("namespace") == f"ccrm-{region}"
               for d in docs if d["kind"] != "Namespace")


def test_the_command_line_check_passes_on_both_regions(tree):
    result = subprocess.run([check.sys.executable, str(tree / "check.py"),
                             *(str(tree / "overlays" / r) for r in REGIONS)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(", 0 problems") == len(REGIONS), result.stdout


def test_config_map_is_the_repository_config_yaml(rendered):
    assert (DEPLOY / "base" / "config.yaml").read_bytes() == (REPO / "config.yaml").read_bytes()
    for docs in rendered.values():
        data = generated(docs, "ConfigMap", "ccrm-config")["data"]["config.yaml"]
        assert data == (REPO / "config.yaml").read_text(encoding="utf-8")


def test_the_regions_differ_only_in_their_region(rendered):
    def normalised(docs, region):
        text = yaml.safe_dump_all(docs, sort_keys=True, allow_unicode=True)
        text = re.sub(r"(ccrm-(?:config|settings|organisation|auth))-[a-z0-9]{10}", r"\1", text)
        return [d for d in yaml.safe_load_all(text.replace(f"ccrm-{region}", "ccrm-REGION")
                                               .replace(f"{region}.ccrm.example.com",
                                                        "REGION.ccrm.example.com"))]

    gz, sh = normalised(rendered["gz"], "gz"), normalised(rendered["sh"], "sh")
    assert len(gz) == len(sh)
    differing = []
    for a, b in zip(gz, sh, strict=True):
        assert (a["kind"], a["metadata"]["name"]) == (b["kind"], b["metadata"]["name"])
        if a["kind"] == "Secret":      # random values, same names and keys
            assert set(a.get("data", {})) == set(b.get("data", {}))
            continue
        if a != b:
            differing.append(check.name_of(a))
    assert sorted(differing) == ["ConfigMap/ccrm-organisation", "ConfigMap/ccrm-settings",
                                 "Namespace/ccrm-REGION"]
    settings = [generated(rendered[r], "ConfigMap", "ccrm-settings")["data"] for r in REGIONS]
    changed = {k for k in settings[0] if settings[0][k] != settings[1][k]}
    # Both example cities keep China's one time zone; each overlay still sets it.
    assert {"CCRM_REGION", "SMS_SIGNATURE"} <= changed <= REGION_SETTINGS
    for region in REGIONS:
        overlay = yaml.safe_load((DEPLOY / "overlays" / region / "kustomization.yaml").read_text())
        [merged] = [g for g in overlay["configMapGenerator"] if g["name"] == "ccrm-settings"]
        assert {line.split("=")[0] for line in merged["literals"]} == REGION_SETTINGS


def test_the_gz_example_is_the_demo_organisation():
    assert (DEPLOY / "overlays" / "gz" / "organisation.yaml").read_bytes() == \
        (REPO / "data" / "organisation" / "demo.yaml").read_bytes()


@pytest.mark.parametrize("region", REGIONS)
def test_region_settings_agree_with_the_organisation_file_and_namespace(rendered, region):
    docs = rendered[region]
    settings = generated(docs, "ConfigMap", "ccrm-settings")["data"]
    organisation = yaml.safe_load(
        generated(docs, "ConfigMap", "ccrm-organisation")["data"]["organisation.yaml"])
    assert settings["CCRM_REGION"] == organisation["region"]["code"] == REGIONS[region]
    assert f".ccrm-{region}.svc:" in settings["RABBITMQ_MANAGEMENT_URL"]
    assert settings["CCRM_QUEUE_TYPE"] == "quorum"
    assert settings["CCRM_SIMULATION"] == "false"
    host = find(docs, "Ingress", "gateway")["spec"]["rules"][0]["host"]
    assert settings["CCRM_PUBLIC_URL"] == f"https://{host}"


# -- what each piece is wired to ----------------------------------------------------------

def test_each_service_uses_its_own_role_and_secret_and_cnpg_manages_them(rendered):
    docs = rendered["gz"]
    roles = {r["name"]: r for r in find(docs, "Cluster", "ccrm-db")["spec"]["managed"]["roles"]}
    assert set(roles) == {role_name(s) for s in SERVICES}
    initdb = find(docs, "Cluster", "ccrm-db")["spec"]["bootstrap"]["initdb"]
    owner = find(docs, "Secret", initdb["secret"]["name"])
    assert base64.b64decode(owner["data"]["username"]).decode() == initdb["owner"] == "ccrm"
    for service in SERVICES:
        secret = find(docs, "Secret", f"ccrm-db-{service}")
        assert secret["type"] == "kubernetes.io/basic-auth"
        assert secret["metadata"]["labels"]["cnpg.io/reload"] == "true"
        # CloudNativePG takes the role's password from a Secret naming that role.
        assert base64.b64decode(secret["data"]["username"]).decode() == role_name(service)
        assert roles[role_name(service)]["passwordSecret"]["name"] == f"ccrm-db-{service}"
        env = {e["name"]: e for e in container(docs, service)["env"]}
        assert env["DATABASE_URL"]["value"] == \
            f"postgresql://{role_name(service)}@ccrm-db-rw:5432/ccrm"
        assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"ccrm-db-{service}"
        used = {e["valueFrom"]["secretKeyRef"]["name"] for e in env.values()
                if "secretKeyRef" in e.get("valueFrom", {})}
        assert not {f"ccrm-db-{s}" for s in SERVICES if s != service} & used
        assert "ccrm-db-owner" not in used


def test_the_migrate_job_runs_migrations_and_the_directory_load_as_the_owner(rendered):
    docs = rendered["sh"]
    job = find(docs, "Job", "ccrm-migrate")["spec"]["template"]["spec"]
    command = " ".join(job["containers"][0]["command"])
    assert "python -m shared.migrate" in command
    assert "python -m services.dispatch.load_directory" in command
    env = {e["name"]: e for e in job["containers"][0]["env"]}
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "ccrm-db-owner"
    for service in SERVICES:
        init = find(docs, "Deployment", service)["spec"]["template"]["spec"]["initContainers"]
        assert init[0]["command"][1:] == ["deploy/kubernetes/wait_for_migrations.py", service]


def test_every_consuming_service_scales_on_its_own_queues_and_the_gateway_on_cpu(rendered):
    docs = rendered["gz"]
    for service in QUEUE_CONSUMERS:
        [trigger] = find(docs, "ScaledObject", service)["spec"]["triggers"]
        pattern = re.compile(trigger["metadata"]["queueName"])
        assert pattern.fullmatch(f"rpc-{service}")
        assert pattern.fullmatch(f"evt-intake-order.signed--{service}.on_order_signed")
        others = [s for s in SERVICES if s != service]
        assert not any(pattern.fullmatch(f"rpc-{o}") for o in others)
        assert not pattern.fullmatch(f"rpc.reply-{service}-0f7c")
        assert not pattern.fullmatch("ccrm.dead-letter")
    hpa = find(docs, "HorizontalPodAutoscaler", "gateway")["spec"]
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"


def test_postgres_connections_cover_every_replica_at_its_maximum(rendered):
    docs = rendered["gz"]
    pool = int(generated(docs, "ConfigMap", "ccrm-settings")["data"]["DB_POOL_SIZE"])
    most = sum(d["spec"]["maxReplicaCount"] for d in docs if d["kind"] == "ScaledObject")
    most += find(docs, "HorizontalPodAutoscaler", "gateway")["spec"]["maxReplicas"]
    limit = int(find(docs, "Cluster", "ccrm-db")["spec"]["postgresql"]["parameters"]
                ["max_connections"])
    # + the Job's pool, init containers' and probes' single connections, operators' sessions
    assert most * pool + 40 <= limit, (most, pool, limit)


def test_rabbitmq_runs_three_nodes_and_postgres_a_standby_and_minio_distributed(rendered):
    docs = rendered["sh"]
    assert find(docs, "RabbitmqCluster", "ccrm-rabbitmq")["spec"]["replicas"] == 3
    assert find(docs, "Cluster", "ccrm-db")["spec"]["instances"] >= 2
    pool = find(docs, "Tenant", "ccrm-minio")["spec"]["pools"][0]
    assert pool["servers"] * pool["volumesPerServer"] >= 4 and pool["servers"] >= 4


# -- planted mistakes ---------------------------------------------------------------------

def plant(docs, kind, name, change):
    docs = copy.deepcopy(docs)
    change(find(docs, kind, name))
    return check.problems(docs)


def spec_of(doc):
    return doc["spec"]["template"]["spec"]["containers"][0]


PLANTED = [
    ("a missing readiness probe", "Deployment", "sla",
     lambda d: spec_of(d).pop("readinessProbe"), "sla: no readinessProbe"),
    ("a missing liveness probe", "Deployment", "gateway",
     lambda d: spec_of(d).pop("livenessProbe"), "gateway: no livenessProbe"),
    ("an unknown field in a container", "Deployment", "intake",
     lambda d: spec_of(d).update(livenesProbe={}), "'livenesProbe' was unexpected"),
    ("a wrong type", "Deployment", "media",
     lambda d: d["spec"].update(revisionHistoryLimit="five"), "'five' is not of type"),
    ("no memory limit", "Deployment", "penalty",
     lambda d: spec_of(d)["resources"]["limits"].pop("memory"), "no limits.memory"),
    ("replicas beside the scaler", "Deployment", "dispatch",
     lambda d: d["spec"].update(replicas=3), "sets replicas"),
    ("an unknown field in a ScaledObject", "ScaledObject", "sla",
     lambda d: d["spec"].update(maxReplicas=4), "'maxReplicas' was unexpected"),
    ("an unknown rabbitmq trigger parameter", "ScaledObject", "penalty",
     lambda d: d["spec"]["triggers"][0]["metadata"].update(queueNmae="rpc-penalty"),
     "unknown metadata 'queueNmae'"),
    ("an unknown field in the RabbitmqCluster", "RabbitmqCluster", "ccrm-rabbitmq",
     lambda d: d["spec"].update(nodes=3), "'nodes' was unexpected"),
    ("an unknown field in a CloudNativePG role", "Cluster", "ccrm-db",
     lambda d: d["spec"]["managed"]["roles"][0].update(passwd="x"), "'passwd' was unexpected"),
    ("an unknown field in the MinIO pool", "Tenant", "ccrm-minio",
     lambda d: d["spec"]["pools"][0].update(server=4), "'server' was unexpected"),
    ("a secret nobody makes", "Deployment", "media",
     lambda d: spec_of(d)["env"][-1]["valueFrom"]["secretKeyRef"].update(name="minio-keys"),
     "Secret 'minio-keys' is not in the render"),
    ("a key the secret lacks", "TriggerAuthentication", "ccrm-rabbitmq-management",
     lambda d: d["spec"]["secretTargetRef"][0].update(key="user"), "has no key 'user'"),
]


@pytest.mark.parametrize("label,kind,name,change,expected", PLANTED,
                         ids=[p[0] for p in PLANTED])
def test_a_planted_mistake_is_caught(rendered, label, kind, name, change, expected):
    found = plant(rendered["gz"], kind, name, change)
    assert any(expected in problem for problem in found), found


def test_a_missing_budget_is_caught(rendered):
    docs = [d for d in rendered["gz"]
            if not (d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"] == "media")]
    assert "Deployment/media: no PodDisruptionBudget selects its pods" in check.problems(docs)


def test_a_probe_removed_from_the_files_fails_the_command_line_check(tree, tmp_path):
    """The whole path: a file edited, kustomize, the check, its exit status."""
    planted = tmp_path / "kubernetes"
    shutil.copytree(tree, planted)
    path = planted / "base" / "services" / "penalty.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("          readinessProbe:")
    end = text.index("          resources:", start)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    result = subprocess.run([check.sys.executable, str(planted / "check.py"),
                             str(planted / "overlays" / "gz")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1, result.stdout
    assert "Deployment/penalty container penalty: no readinessProbe" in result.stdout


def test_an_overlay_without_its_secrets_does_not_render(tree, tmp_path):
    bare = tmp_path / "kubernetes"
    shutil.copytree(tree, bare, ignore=shutil.ignore_patterns("secrets"))
    with pytest.raises(check.RenderError, match="secrets/db-owner.env") as refused:
        check.render(bare / "overlays" / "gz")
    assert "new-secrets.sh" in str(refused.value)


def test_the_resource_table_in_the_operations_guide_is_what_the_deployments_ask(rendered):
    """docs/operations.md, "Resources": the measured figures and what they became."""
    text = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0] in SERVICES:
            rows[cells[0]] = cells[5:]
    assert set(rows) == set(SERVICES)
    for service, (cpu, memory, cpu_limit, memory_limit) in rows.items():
        resources = container(rendered["gz"], service)["resources"]
        assert [resources["requests"]["cpu"], resources["requests"]["memory"],
                str(resources["limits"]["cpu"]), resources["limits"]["memory"]] == \
            [cpu, memory, cpu_limit, memory_limit], service
