"""How the gateway reaches the services: each contract's typed client on the
gateway's RpcProxy of that service, with the gateway's bounded wait.

    self.client(IntakeClient).record_complaint(actor, form)
    self.client(MediaClient, timeout=3).get(media_id)

A mixin of GatewayService (and of any route class that wants the types): the
service class holds one `RpcProxy` per callee under the callee's name
(`intake = RpcProxy("intake")`), which is how `client()` finds it.
"""
from __future__ import annotations

from typing import Any, TypeVar

from shared.contracts.base import ServiceClient
from shared.contracts.dispatch import DispatchClient
from shared.contracts.intake import IntakeClient
from shared.contracts.media import MediaClient
from shared.contracts.penalty import PenaltyClient
from shared.contracts.sla import SlaClient

DEFAULT_RPC_TIMEOUT = 15.0

# The services deployed today and their clients; each answers `health()`.
SERVICE_CLIENTS: dict[str, type[ServiceClient]] = {
    client.service: client
    for client in (IntakeClient, DispatchClient, SlaClient, PenaltyClient, MediaClient)}

C = TypeVar("C", bound=ServiceClient)


class Clients:
    config: Any     # nameko's Config() of the service class

    def rpc_timeout(self) -> float:
        """The bounded wait of every call (config RPC_TIMEOUT, seconds)."""
        return float(self.config.get("RPC_TIMEOUT", DEFAULT_RPC_TIMEOUT))

    def client(self, kind: type[C], timeout: float | None = None) -> C:
        """`kind`'s typed client on this service's proxy of `kind.service`,
        waiting `timeout` seconds (default: rpc_timeout())."""
        proxy = getattr(self, kind.service)
        return kind(proxy, self.rpc_timeout() if timeout is None else timeout)
