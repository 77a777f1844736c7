"""Container health check: `python -m scripts.healthcheck <service>`.

Exits 0 when the service is healthy, 1 otherwise, with one line saying why.
The gateway is asked over HTTP (`GET /api/health`); it counts as healthy when
its own part is ok, even if it reports another service down (that service's
own check says so). Every other service is asked `health()` over RPC, with a
bounded wait, and must answer status "ok".
"""
import argparse
import json
import sys
import urllib.error
import urllib.request

GATEWAY = "gateway"


def gateway_health(address, timeout):
    host, _, port = address.rpartition(":")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    url = f"http://{host}:{port}/api/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        return False, f"{url} does not answer: {getattr(exc, 'reason', exc)}"
    try:
        own = json.loads(body)["services"][GATEWAY]["status"]
    except (ValueError, KeyError, TypeError):
        return False, f"{url} answered {status} without the health body"
    return own == "ok", f"{url} answered {status}; gateway itself: {own}"


def rpc_health(service, config, timeout):
    import eventlet
    from nameko.standalone.rpc import ClusterRpcProxy

    try:
        with eventlet.Timeout(timeout):
            with ClusterRpcProxy(config, timeout=timeout) as cluster:
                detail = getattr(cluster, service).health()
    except BaseException as exc:  # noqa: BLE001 - any failure means unhealthy
        return False, f"{service}.health() failed: {type(exc).__name__}: {exc}"
    return detail.get("status") == "ok", f"{service}: {json.dumps(detail, default=str)}"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Is this CCRM service healthy?")
    parser.add_argument("service")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)

    import shared  # noqa: F401  (psycopg wait function, warning filters)
    from shared.config import load_config

    config = load_config()
    if args.service == GATEWAY:
        ok, why = gateway_health(str(config["WEB_SERVER_ADDRESS"]), args.timeout)
    else:
        ok, why = rpc_health(args.service, config, args.timeout)
    print(("healthy: " if ok else "UNHEALTHY: ") + why)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
