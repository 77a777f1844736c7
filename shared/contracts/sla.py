"""The sla service's RPC contract: its methods as a typed client.

Callers use `SlaClient(proxy)`; the service implements each
method under the same name and signature (tests/contracts hold them together).
"""

from __future__ import annotations

from shared.contracts.base import ServiceClient, raises
from shared.contracts.types import Actor, Form, Json
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


class SlaClient(ServiceClient):
    service = "sla"

    def health(self) -> Json:
        return self._call("health")

    @raises(NotFound, InvalidInput)
    def list_errors(self, state: str | None = None, limit: int = 200) -> Json:
        return self._call("list_errors", state=state, limit=limit)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def list_notifications(self, actor: Actor, filters: Form | None = None) -> Json:
        return self._call("list_notifications", actor, filters=filters)

    @raises(NotFound, InvalidInput)
    def list_timers(self, complaint_id: str) -> Json:
        return self._call("list_timers", complaint_id)
