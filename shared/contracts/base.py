"""What every contract's typed client shares: the proxy, the bounded wait and
the error mapping of shared.rpc.call, and the description of each method
(the errors it may raise) that the contract tests read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from shared import rpc
from shared.errors import CCRMError

DEFAULT_TIMEOUT = 15.0

F = TypeVar("F", bound=Callable[..., Any])


def raises(*errors: type[CCRMError]) -> Callable[[F], F]:
    """Document on a client method the errors its callee may raise (besides
    Unavailable, which any call may raise); the contract tests read it."""

    def mark(method: F) -> F:
        method.__contract_errors__ = errors  # type: ignore[attr-defined]
        return method

    return mark


class ServiceClient:
    """A typed client of one service: each public method is one RPC method of
    the same name and signature (the contract test holds them together)."""

    service: ClassVar[str]

    def __init__(self, proxy: Any, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.proxy = proxy
        self.timeout = timeout

    def with_timeout(self, timeout: float) -> ServiceClient:
        """The same client with another bounded wait (a page part, a health check)."""
        return type(self)(self.proxy, timeout)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return rpc.call(self.proxy, method, *args, timeout=self.timeout, **kwargs)
