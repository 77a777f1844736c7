"""Calls from the gateway to the services, each with a bounded wait.

nameko 2.14's RpcProxy waits forever by default (ARCHITECTURE, traps): a stuck
service would hold a request, and its green thread, for ever.
"""
import uuid

import eventlet
import kombu.exceptions

from shared.errors import Unavailable

SERVICE_NAMES_ZH = {"intake": "受理", "dispatch": "派单", "sla": "时限", "penalty": "考核",
                    "media": "文件", "gateway": "网关"}


def call(proxy, method, *args, timeout=15, **kwargs):
    service = getattr(proxy, "service_name", "?")
    try:
        with eventlet.Timeout(timeout):
            return getattr(proxy, method)(*args, **kwargs)
    except eventlet.Timeout:
        label = SERVICE_NAMES_ZH.get(service, service)
        raise Unavailable(f"{label}服务暂无响应，请稍后再试 ({service} did not answer in {timeout}s)")
    except (kombu.exceptions.OperationalError, ConnectionError) as exc:
        # The broker is down or restarting: the call never left, try again later.
        label = SERVICE_NAMES_ZH.get(service, service)
        raise Unavailable(f"{label}服务暂时无法连接，请稍后再试 "
                          f"(message broker unreachable calling {service}: {exc})") from None


def request_key(request):
    """What makes a creating step happen once: the caller's Idempotency-Key,
    else a key of this HTTP request (so an RPC redelivered to another instance
    after a crash or a broker restart still makes one record)."""
    return request.headers.get("Idempotency-Key") or f"http:{uuid.uuid4()}"
