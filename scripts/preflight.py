"""Check that the servers CCRM needs answer, before tests or a local run.

Standard library only: `make` runs it before the project is installed.
`python -m scripts.preflight [--management]` exits 0 when PostgreSQL and
RabbitMQ answer (and, with --management, once RabbitMQ's management API,
which nameko's per-test vhosts need, answers too), else prints what to run.
"""
import argparse
import base64
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

PG_START = ("pg_ctlcluster --skip-systemctl-redirect "
            "$(ls /etc/postgresql) main start")
RABBIT_START = "rabbitmq-server -detached"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/ccrm"
DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
DEFAULT_MANAGEMENT_URL = "http://guest:guest@127.0.0.1:15672"


class NotReady(Exception):
    """A server does not answer; the message says how to start it."""


def _host_port(url, default_port):
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def check_postgres(url=DEFAULT_PG_URL, timeout=3.0):
    """PostgreSQL answers an SSLRequest with one byte, 'S' or 'N'."""
    host, port = _host_port(url, 5432)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"\x00\x00\x00\x08\x04\xd2\x16\x2f")
            answer = sock.recv(1)
    except OSError as exc:
        raise NotReady(
            f"PostgreSQL 没有响应 (PostgreSQL does not answer on {host}:{port}: {exc}).\n"
            f"  Start it with: {PG_START}") from exc
    if answer not in (b"S", b"N"):
        raise NotReady(f"{host}:{port} answered, but not as PostgreSQL does ({answer!r}).")
    return host, port


def check_rabbitmq(uri=DEFAULT_AMQP_URI, timeout=3.0):
    """RabbitMQ answers the AMQP 0-9-1 protocol header with a method frame."""
    host, port = _host_port(uri, 5672)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            answer = sock.recv(1)
    except OSError as exc:
        raise NotReady(
            f"RabbitMQ 没有响应 (RabbitMQ does not answer on {host}:{port}: {exc}).\n"
            f"  Start it with: {RABBIT_START}") from exc
    if answer != b"\x01":
        raise NotReady(f"{host}:{port} answered, but not as an AMQP 0-9-1 broker ({answer!r}).")
    return host, port


def management_answers(api_url=DEFAULT_MANAGEMENT_URL, timeout=3.0):
    parts = urlsplit(api_url)
    base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}"
    request = urllib.request.Request(base + "/api/overview")
    credentials = f"{parts.username or 'guest'}:{parts.password or 'guest'}".encode()
    request.add_header("Authorization", "Basic " + base64.b64encode(credentials).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def ensure_management(api_url=DEFAULT_MANAGEMENT_URL, wait_seconds=90.0, say=print):
    """Enable RabbitMQ's management plugin if its API is silent, then wait for it."""
    if management_answers(api_url):
        return
    plugins = shutil.which("rabbitmq-plugins") or "/usr/sbin/rabbitmq-plugins"
    if not os.path.exists(plugins):
        raise NotReady("RabbitMQ 管理插件未响应 (the management API does not answer and "
                       "rabbitmq-plugins is not installed here): enable rabbitmq_management.")
    say(f"enabling RabbitMQ's management plugin: {plugins} enable rabbitmq_management")
    result = subprocess.run([plugins, "enable", "rabbitmq_management"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode != 0:
        raise NotReady("无法启用 RabbitMQ 管理插件 (could not enable rabbitmq_management):\n"
                       + (result.stderr or result.stdout).strip())
    limit = time.monotonic() + wait_seconds
    while time.monotonic() < limit:
        if management_answers(api_url):
            say("RabbitMQ management API answers")
            return
        time.sleep(1)
    raise NotReady(f"RabbitMQ 管理接口在 {wait_seconds:.0f} 秒内未响应 "
                   f"(the management API did not answer within {wait_seconds:.0f}s at {api_url}).")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check PostgreSQL and RabbitMQ answer.")
    parser.add_argument("--management", action="store_true",
                        help="also enable and wait for RabbitMQ's management API")
    parser.add_argument("--database-url", default=os.environ.get(
        "CCRM_TEST_DATABASE_URL", os.environ.get("DATABASE_URL", DEFAULT_PG_URL)))
    parser.add_argument("--amqp-uri", default=os.environ.get("AMQP_URI", DEFAULT_AMQP_URI))
    parser.add_argument("--management-url", default=DEFAULT_MANAGEMENT_URL)
    args = parser.parse_args(argv)
    problems = []
    for check, target in ((check_postgres, args.database_url), (check_rabbitmq, args.amqp_uri)):
        try:
            host, port = check(target)
            print(f"ok: {check.__name__[6:]} answers on {host}:{port}")
        except NotReady as exc:
            problems.append(str(exc))
    if not problems and args.management:
        try:
            ensure_management(args.management_url)
            print("ok: rabbitmq management API answers")
        except NotReady as exc:
            problems.append(str(exc))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
