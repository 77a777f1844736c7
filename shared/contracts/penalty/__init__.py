"""The penalty service's RPC contract: its methods as a typed client
(`client`), what they take (`forms`), what they answer (`views`) and the
role sets of who may do what (`access`). Penalty validates with these and its
callers (the gateway) import them from here, never from services.penalty.
"""

from shared.contracts.penalty import access, forms, views
from shared.contracts.penalty.client import PenaltyClient

__all__ = ["PenaltyClient", "access", "forms", "views"]
