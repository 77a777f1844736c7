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
