from pathlib import Path

from shared.config import REPO_ROOT
from shared.events.catalogue import render
from shared.events.registry import all_events

SPEC_MINIMUM = {"media.stored"}


def test_catalogue_document_matches_the_schemas():
    document = Path(REPO_ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert document == render(), (
        "docs/events.md is stale: run `python -m shared.events.catalogue > docs/events.md`")


def test_every_spec_event_built_so_far_is_registered():
    registered = {e.type for e in all_events()}
    assert SPEC_MINIMUM <= registered
