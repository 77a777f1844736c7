"""intake's daily housekeeping (issue 14): `intake.record_requests` keeps
a recording's request key (a retried or redelivered record_complaint finds
its complaint by it) for REQUEST_KEYS_KEEP_DAYS (default 7) on the shared
clock, then deletes it (shared.pruning: once a day, whichever instance
claims the day)."""
from __future__ import annotations

from typing import Any

from shared import pruning

REQUEST_KEYS = pruning.KeyTable("intake", "record_requests")


def prune_request_keys(db: Any, clock: Any, config: Any) -> pruning.Pruned | None:
    """Today's prune of the request keys; None when it already ran today."""
    return pruning.prune(db, REQUEST_KEYS, clock.now(), clock.zone, pruning.keep(config))
