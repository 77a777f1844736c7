"""GET /metrics over HTTP on METRICS_ADDRESS (host:port), on eventlet.

One green WSGI server per address and process, shared by the containers of
that process (tests run several) and closed when the last one stops. The port
is bound when a container is set up, before it consumes anything: a port
already taken fails the start with a message naming the address (see
docs/observability.md for why that is not just logged).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import eventlet
import eventlet.wsgi
from prometheus_client import make_wsgi_app

from shared.metrics import REGISTRY

log = logging.getLogger(__name__)

Address = tuple[str, int]

_servers: dict[Address, MetricsServer] = {}


class MetricsAddressError(RuntimeError):
    pass


def parse_address(value: object) -> Address | None:
    """`host:port` -> (host, port); empty or absent -> None (no server)."""
    if value is None or not str(value).strip():
        return None
    host, sep, port = str(value).strip().rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not sep or not 0 <= number <= 65535:
        raise MetricsAddressError(
            f"METRICS_ADDRESS 须为 host:port，而不是 {value!r} "
            f"(METRICS_ADDRESS must be host:port, not {value!r})")
    return (host.strip("[]") or "127.0.0.1"), number


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "/") not in ("/metrics", "/metrics/"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"metrics are at /metrics\n"]
    return _metrics_app(environ, start_response)


_metrics_app = make_wsgi_app(REGISTRY)


class MetricsServer:
    def __init__(self, address: Address) -> None:
        self.address = address
        self.users = 0
        self._thread: Any = None
        try:
            # No SO_REUSEPORT (eventlet's default): a second process must not
            # share the port silently.
            self.socket = eventlet.listen(address, reuse_port=False)
        except OSError as exc:
            host, port = address
            raise MetricsAddressError(
                f"指标端口 {host}:{port} 无法监听 (cannot serve metrics on {host}:{port}: "
                f"{exc.strerror or exc}); another process may hold it — a copy of this "
                "service still running? Set METRICS_ADDRESS to a free host:port, or to "
                "empty to serve no metrics.") from exc

    @property
    def port(self) -> int:
        return self.socket.getsockname()[1]

    def start(self) -> None:
        if self._thread is None:
            self._thread = eventlet.spawn(eventlet.wsgi.server, self.socket, _app,
                                          log_output=False, max_size=16)
            log.info("metrics served at http://%s:%s/metrics", self.address[0], self.port)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.kill()
            self._thread = None
        self.socket.close()


def acquire(address: Address) -> MetricsServer:
    """The server of `address` (bound now, started by `start()`)."""
    server = _servers.get(address)
    if server is None:
        server = _servers[address] = MetricsServer(address)
    server.users += 1
    return server


def release(server: MetricsServer) -> None:
    server.users -= 1
    if server.users <= 0:
        _servers.pop(server.address, None)
        server.close()
