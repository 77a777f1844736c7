"""Style, types and the import contract, run by `make test` (issue 12).

- `lint-imports` keeps every contract of pyproject's `[tool.importlinter]`: no
  service imports another service's package, and shared/ imports no service;
- a cross-import planted in a copy of the tree breaks it, and the report names
  the import (so the contract really is enforced, not merely configured);
- ruff is clean on the whole repository (as `make lint` runs it);
- mypy is clean on the typed paths (pyproject's `[tool.mypy] files`).

Every tool runs from the interpreter running the tests (the project's venv),
with this checkout first on the path: the venv's editable install may point
at another copy of the project.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# import-linter's console script, called in-process so no PATH lookup is needed.
LINT_IMPORTS = [sys.executable, "-c",
                "from importlinter.cli import lint_imports_command; lint_imports_command()"]

# A cross-import each contract must refuse: (module to plant it in, the line).
PLANTED_LINE = "\nfrom services.dispatch import routing  # noqa\n"


def run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(cwd), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def report(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


# -- the import contract ----------------------------------------------------------------

def test_every_import_contract_is_kept() -> None:
    result = run([*LINT_IMPORTS, "--no-cache"], REPO_ROOT)
    assert result.returncode == 0, report(result)
    contracts = PYPROJECT["tool"]["importlinter"]["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout, report(result)


def copy_sources(target: Path) -> None:
    """services/ and shared/ (Python files only: all import-linter reads) and
    pyproject.toml (the contracts)."""
    for package in ("services", "shared"):
        for source in (REPO_ROOT / package).rglob("*.py"):
            if "__pycache__" in source.parts:
                continue
            destination = target / source.relative_to(REPO_ROOT)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
    shutil.copyfile(REPO_ROOT / "pyproject.toml", target / "pyproject.toml")


@pytest.mark.parametrize(("planted_in", "importer", "contract"), [
    ("services/gateway/service.py", "services.gateway.service",
     "No service imports another service's package"),
    ("shared/rpc.py", "shared.rpc", "shared/ imports no service"),
], ids=["gateway-imports-dispatch", "shared-imports-dispatch"])
def test_a_planted_cross_import_breaks_the_contract(tmp_path: Path, planted_in: str,
                                                    importer: str, contract: str) -> None:
    copy_sources(tmp_path)
    with open(tmp_path / planted_in, "a", encoding="utf-8") as module:
        module.write(PLANTED_LINE)
    result = run([*LINT_IMPORTS, "--no-cache"], tmp_path)
    assert result.returncode != 0, report(result)
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert f"{contract}" in broken, report(result)
    # grimp names `services.dispatch.routing` if that module exists, else the package.
    assert f"{importer} -> services.dispatch" in broken, report(result)


# -- style on the whole repository, types on the typed paths -------------------------------

def test_ruff_is_clean_on_the_whole_repository() -> None:
    # `ruff check .`, as `make lint` runs it: pyproject's [tool.ruff] settings,
    # every Python file of the checkout (ruff leaves out what .gitignore does).
    result = run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], REPO_ROOT)
    assert result.returncode == 0, report(result)


def test_mypy_is_clean_on_the_typed_paths() -> None:
    # The files come from pyproject's [tool.mypy]; the cache (.mypy_cache, which
    # git ignores) keeps a second run to a few seconds.
    result = run([sys.executable, "-m", "mypy"], REPO_ROOT, timeout=600)
    assert result.returncode == 0, report(result)


# -- markers -------------------------------------------------------------------------------

def test_every_browser_test_module_is_marked_integration() -> None:
    """The browser tests start the real suite (PostgreSQL, RabbitMQ, S3): CI's
    runs on the other Python versions leave `integration` out, and an unmarked
    one ran there against servers meant for the main run."""
    unmarked = [path.name for path in sorted((REPO_ROOT / "tests" / "browser").glob("test_*.py"))
                if "pytestmark = pytest.mark.integration" not in path.read_text(encoding="utf-8")]
    assert not unmarked, unmarked
