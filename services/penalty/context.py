"""What the service layer works with: the worker's dependencies (database,
outbox, clock, rule book) and its clients of media and dispatch, gathered
by the entrypoint so the service-layer modules need no nameko."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from services.penalty.rules import RuleBook
from shared.contracts.dispatch import DispatchClient
from shared.contracts.media import MediaClient

SCHEMA = "penalty"
DEFAULT_RPC_TIMEOUT = 15.0
DIRECTORY_RPC_SECONDS = 5.0     # the catch-up's wait for dispatch: it tries again in 5 s


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Penalty:
    db: Any
    outbox: Any
    clock: Any
    rulebook: RuleBook
    config: Any = None
    media_proxy: Any = None
    dispatch_proxy: Any = None

    @property
    def zone(self) -> tzinfo:
        zone: tzinfo = self.clock.zone
        return zone

    def now(self) -> datetime:
        now: datetime = self.clock.now()
        return now

    def media(self) -> MediaClient:
        """Read at the call: RPC_TIMEOUT is in the config, which a test's
        worker_factory may leave a Mock."""
        timeout = float((self.config or {}).get("RPC_TIMEOUT", DEFAULT_RPC_TIMEOUT))
        return MediaClient(self.media_proxy, timeout)

    def dispatch(self) -> DispatchClient:
        return DispatchClient(self.dispatch_proxy, DIRECTORY_RPC_SECONDS)
