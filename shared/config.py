"""Deployment configuration: one YAML file with `${VAR:default}` substitution.

The loader is nameko's own, so a service started with `nameko run --config`
and a script calling `load_config()` see exactly the same values.
"""
import os
from pathlib import Path
from typing import Any

import yaml
from nameko.cli.main import setup_yaml_parser

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = REPO_ROOT / "config.yaml"

_parser_ready = False


def load_config(path: str | os.PathLike[str] | None = None) -> Any:
    """Read the deployment config (`CCRM_CONFIG` or the repo's config.yaml)."""
    global _parser_ready
    if not _parser_ready:
        setup_yaml_parser()
        _parser_ready = True
    path = Path(path or os.environ.get("CCRM_CONFIG") or DEFAULT_CONFIG_PATH)
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def as_bool(value: object) -> bool:
    """YAML gives real booleans; env substitution may give strings."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)
