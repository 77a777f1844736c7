"""Vendors the custom resources' published schemas for deploy/kubernetes/check.py.

    python deploy/kubernetes/schemas/vendor.py CRD.yaml [CRD.yaml ...]

For each CustomResourceDefinition file (as published in the operator's
repository at a release tag, listed in README.md here) writes
`<group>_<kind>_<version>.json` with the openAPIV3Schema of every served
version, descriptions dropped (they are most of the bytes; validation never
reads them). Nothing else is changed: check.py makes the schema strict
(unknown fields refused) when it loads it, as the API server does with
`kubectl apply --validate=strict`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent


def without_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_descriptions(v) for k, v in node.items()
                if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [without_descriptions(v) for v in node]
    return node


def vendor(path: Path) -> list[Path]:
    crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    written = []
    for version in crd["spec"]["versions"]:
        if not version.get("served"):
            continue
        schema = without_descriptions(version["schema"]["openAPIV3Schema"])
        out = HERE / f"{group}_{kind}_{version['name']}.json"
        out.write_text(json.dumps({"apiVersion": f"{group}/{version['name']}", "kind": kind,
                                   "schema": schema}, indent=1, sort_keys=True) + "\n",
                       encoding="utf-8")
        written.append(out)
    return written


if __name__ == "__main__":
    for name in sys.argv[1:]:
        for out in vendor(Path(name)):
            print(out.name)
