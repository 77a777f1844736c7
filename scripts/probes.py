"""Is anything listening, and does it answer? Address parsing, a free-port
check and HTTP GET probes for the local suite (scripts.run_local,
scripts.suite). Standard library only.
"""
import socket
import urllib.error
import urllib.request
from collections.abc import Callable

# A readiness check: (ready, last answer, for the time-out message).
Check = Callable[[], tuple[bool, str]]


def host_port(address: str, default_port: int) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return (host or "127.0.0.1"), int(port or default_port)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def http_status(url: str, timeout: float = 2.0) -> tuple[int | None, str]:
    """(status, body) of a GET, or (None, reason) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))


def storage_ready(endpoint: str) -> Check:
    def check() -> tuple[bool, str]:
        status, body = http_status(f"http://{endpoint}/", timeout=1.0)
        return status is not None, f"{status} {body[:80]}" if status else body
    return check


def health_ready(url: str) -> Check:
    def check() -> tuple[bool, str]:
        status, body = http_status(url)
        return status == 200, (f"HTTP {status}: {body[:300]}" if status else body)
    return check
