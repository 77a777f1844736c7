"""The dispatch service's RPC contract: the typed client (`client`), the
request forms it loads its arguments with (`forms`) and the shapes of its
answers (`views` for casework, `directory_views` for the directory)."""

from shared.contracts.dispatch.client import DispatchClient

__all__ = ["DispatchClient"]
