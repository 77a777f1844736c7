"""How intake's directory copy (directory_model) is kept: each
`directory.loaded` through the inbox (once per event, in the transaction that
records it), and, until the first one is kept, one `directory_snapshot` RPC
to dispatch (the event reaches intake only if its queue existed when the
event went out; on a first start against a new broker it did not)."""
from __future__ import annotations

import logging
from typing import Any

from services.intake import directory_model
from shared.contracts.dispatch import DispatchClient
from shared.events.envelope import load_envelope
from shared.inbox import consume

log = logging.getLogger(__name__)

HANDLER = "directory_loaded"


def apply_event(db: Any, payload: Any) -> None:
    """Keep a directory.loaded's directory (a redelivery or an older one changes nothing)."""
    envelope = load_envelope(payload)
    data = directory_model.read_event(envelope["data"])

    def apply(conn: Any) -> None:
        if directory_model.replace(conn, data):
            log.info("directory version %s kept", data["version"])

    consume(db, "intake", HANDLER, envelope, apply)


def catch_up(db: Any, dispatch: DispatchClient) -> bool:
    """Read the directory from dispatch while none is kept; whether one is kept now."""
    with db.connection() as conn:
        if directory_model.version(conn) is not None:
            return True
    try:
        snapshot = dispatch.directory_snapshot()
    except Exception as exc:  # noqa: BLE001 - dispatch not up (or no directory yet): later
        log.info("directory catch-up skipped: %s", type(exc).__name__)
        return False
    with db.transaction() as conn:
        directory_model.replace(conn, directory_model.read_event(snapshot))
    log.info("directory version %s read from dispatch by RPC", snapshot.get("version"))
    return True
