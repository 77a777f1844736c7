"""Who may read and do what in penalty (SPEC §8): the role sets both sides
use. The gateway refuses a request early with them (and shows them in the
OpenAPI document); penalty checks again, since it is not only reached
through the gateway."""

from __future__ import annotations

from shared import roles

LEDGER_READERS: frozenset[str] = roles.CENTRE | {roles.HR, roles.FINANCE}
REPORT_READERS: frozenset[str] = roles.CENTRE | {roles.HR, roles.FINANCE}
REPORT_ISSUERS: frozenset[str] = frozenset({roles.CENTRE_GM, roles.ADMIN})
# A person's month above the threshold: only the centre GM confirms or refers it.
REPORT_REVIEWERS: frozenset[str] = frozenset({roles.CENTRE_GM})
RANKING_READERS: frozenset[str] = roles.CENTRE
CASE_READERS: frozenset[str] = roles.CENTRE | {roles.HR}
CASE_OPENERS: frozenset[str] = frozenset({roles.CENTRE_GM})
CASE_DECIDERS: frozenset[str] = frozenset({roles.CENTRE_GM, roles.HR})
APPEAL_DECIDERS: frozenset[str] = frozenset({roles.CENTRE_GM})
ANALYSIS_ISSUERS: frozenset[str] = frozenset({roles.CENTRE_GM, roles.ADMIN})
# The quarterly analysis (Art. 42): the centre reads it, and so do the heads of
# departments (those it names file their measures; the others see why not).
ANALYSIS_READERS: frozenset[str] = RANKING_READERS | {roles.HEAD}
# Only the head of a department the analysis names files its measures.
MEASURES_FILERS: frozenset[str] = frozenset({roles.HEAD})
