from pathlib import Path

from shared.config import REPO_ROOT
from shared.events.catalogue import render
from shared.events.registry import all_events

# SPEC §7's minimum catalogue.
SPEC_MINIMUM = set("""
complaint.received complaint.resolved_on_spot complaint.reception_rated order.submitted
order.reviewed order.signed order.rejected complaint.routed visit.recorded visit.blocked
callback.recorded progress.recorded closure.applied closure.verified closure.reviewed
closure.rejected complaint.closed complaint.reopened complaint.escalated claim.raised
claim.decided deadline.armed deadline.met deadline.missed reminder.sent deduction.recorded
deduction.reversed sanction_case.opened monthly_report.issued media.stored
""".split())


def test_catalogue_document_matches_the_schemas():
    document = Path(REPO_ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert document == render(), (
        "docs/events.md is stale: run `python -m shared.events.catalogue > docs/events.md`")


def test_every_event_of_the_spec_catalogue_is_registered():
    registered = {e.type for e in all_events()}
    assert SPEC_MINIMUM <= registered
