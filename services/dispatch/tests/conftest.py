"""Fixtures of the dispatch tests: the demo organisation, as a file, as its
raw YAML data to alter, and as a directory snapshot."""
import copy
from pathlib import Path

import pytest
import yaml

from services.dispatch.directory import from_document
from shared.config import REPO_ROOT
from shared.organisation_file import read_organisation

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
_DEMO_RAW = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def demo_raw():
    """The demo file's data, a fresh copy for each test to change."""
    return copy.deepcopy(_DEMO_RAW)


@pytest.fixture
def write_org(tmp_path):
    """Write organisation data to a YAML file and return its path."""
    def write(data, name="organisation.yaml"):
        path = Path(tmp_path) / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path
    return write


@pytest.fixture
def directory_of(write_org):
    """The snapshot that (possibly altered) organisation data describes."""
    def build(data):
        return from_document(read_organisation(write_org(data)).document)
    return build


@pytest.fixture
def demo_directory():
    return from_document(read_organisation(DEMO_FILE).document)


def person(data, person_id):
    return next(p for p in data["people"] if p["id"] == person_id)


def project(data, project_id):
    return next(p for p in data["projects"] if p["id"] == project_id)
