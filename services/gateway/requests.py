"""What the gateway derives from an HTTP request for the services it calls.

The calls themselves go through the contracts' typed clients (shared.contracts,
built with `Clients.client`), which bound every wait (shared.rpc.call).
"""
import uuid

from werkzeug.wrappers import Request


def request_key(request: Request) -> str:
    """What makes a creating step happen once: the caller's Idempotency-Key,
    else a key of this HTTP request (so an RPC redelivered to another instance
    after a crash or a broker restart still makes one record)."""
    return request.headers.get("Idempotency-Key") or f"http:{uuid.uuid4()}"
