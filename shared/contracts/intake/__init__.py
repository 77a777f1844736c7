"""The intake service's RPC contract (ARCHITECTURE, boundaries).

- `client`: `IntakeClient(proxy)`, its methods as a typed client;
- `forms`: the request forms intake validates with and callers check with;
- `views`: the answers' schemas;
- `vocabulary`: channels, states, decisions, callback outcomes and roles.
"""
from shared.contracts.intake.client import IntakeClient

__all__ = ["IntakeClient"]
