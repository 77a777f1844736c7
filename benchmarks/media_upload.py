"""Media upload throughput: the raw object store against the whole path.

In one run it measures
  (a) raw `put_object` of JPEG-headed payloads (200 KB by default) to the S3
      server the media service uses, and
  (b) uploads through the gateway, `POST {gateway}/api/media` multipart
      (file, kind=photo, stage=before) with `Authorization: Bearer TOKEN`,
      which go gateway (a place media reserved, `reserve_uploads`, a few at a
      time) -> the gateway PUTs the file to the store with its Content-MD5 ->
      media `confirm_upload` (one RPC: the object's size, ETag and first bytes
      by one ranged GET, not read back whole; row + event in one round trip),
with N requests from C concurrent clients each, and prints a markdown table.
The difference between the two rows is what the service path costs.

    python benchmarks/media_upload.py --gateway http://127.0.0.1:8000 \\
        --token "$CCRM_TOKEN" --count 200 --concurrency 8
    python -m benchmarks.media_upload --suite --count 300 --concurrency 8

`--suite` starts a private suite first (scripts/suite.py: one instance of
each service, database `ccrm_upbench`, vhost `ccrm-upbench`, gateway on 8150,
its S3 server on 9150, DB_POOL_SIZE 2; `--suite-database`, `--suite-vhost`,
`--suite-*-port` change them), measures (a) against that suite's S3
server and (b) through its gateway as a specialist, then stops it and drops
its database and vhost.

S3 settings default to the MINIO section of the deployment config
(`CCRM_CONFIG` or config.yaml); `--local-s3` starts a throwaway moto server
for (a) instead. Objects written by (a) are removed at the end; uploads made
through the gateway are real media rows and stay.
"""
import argparse
import io
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
import urllib3  # noqa: E402

from benchmarks.load_cpu import cpu_between, describe_per_unit  # noqa: E402
from benchmarks.load_driver import suite_cpu_probe  # noqa: E402

# A real JPEG start (SOI + JFIF APP0): the media service sniffs the content.
JPEG_HEAD = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")


def jpeg_payload(size):
    """`size` bytes starting like a JPEG; random after that, so every upload
    differs (no store can deduplicate or compress it away)."""
    return JPEG_HEAD + os.urandom(max(size - len(JPEG_HEAD), 0))


@dataclass
class Result:
    name: str
    count: int
    concurrency: int
    size: int
    wall: float = 0.0
    latencies: list = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)

    @property
    def ok(self):
        return len(self.latencies)

    def row(self):
        def pct(p):
            if not self.latencies:
                return "–"
            ordered = sorted(self.latencies)
            return f"{ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000:.0f}"
        rate = self.ok / self.wall if self.wall else 0.0
        mb = rate * self.size / 1e6
        median = f"{statistics.median(self.latencies) * 1000:.0f}" if self.latencies else "–"
        return (f"| {self.name} | {self.count} | {self.concurrency} | {self.size // 1000} KB | "
                f"{self.ok} | {sum(self.failures.values())} | {self.wall:.2f} | {rate:.1f} | "
                f"{mb:.2f} | {median} | {pct(95)} | {pct(99)} |")


def run(name, count, concurrency, size, one_upload, warmup=0):
    """Call `one_upload(payload)` `count` times from `concurrency` threads.
    It returns None on success or a short failure description."""
    result = Result(name, count, concurrency, size)
    payloads = [jpeg_payload(size) for _ in range(count + warmup)]
    lock = threading.Lock()

    def task(payload, counted=True):
        started = time.perf_counter()
        try:
            failure = one_upload(payload)
        except Exception as exc:  # noqa: BLE001 - a benchmark counts failures, it does not stop
            failure = f"{type(exc).__name__}: {str(exc)[:120]}"
        elapsed = time.perf_counter() - started
        if counted:
            with lock:
                if failure is None:
                    result.latencies.append(elapsed)
                else:
                    result.failures[failure] += 1

    for payload in payloads[:warmup]:
        task(payload, counted=False)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(task, payloads[warmup:]))
    result.wall = time.perf_counter() - started
    return result


# -- (a) raw object store ------------------------------------------------------

def s3_client(args):
    from minio import Minio
    http = urllib3.PoolManager(maxsize=max(args.concurrency, 10),
                               timeout=urllib3.Timeout(connect=5, read=60),
                               retries=urllib3.Retry(total=0))
    return Minio(args.s3_endpoint, access_key=args.s3_access_key, secret_key=args.s3_secret_key,
                 secure=args.s3_secure, region=args.s3_region, http_client=http)


def bench_s3(args):
    client = s3_client(args)
    if not client.bucket_exists(args.s3_bucket):
        client.make_bucket(args.s3_bucket, location=args.s3_region)
    prefix = f"benchmark/{uuid.uuid4().hex}/"
    written = []

    def put(payload):
        key = prefix + uuid.uuid4().hex
        client.put_object(args.s3_bucket, key, io.BytesIO(payload), len(payload),
                          content_type="image/jpeg")
        written.append(key)
        return None

    try:
        return run("(a) S3 put_object", args.count, args.concurrency, args.size, put, args.warmup)
    finally:
        for key in list(written):
            try:
                client.remove_object(args.s3_bucket, key)
            except Exception:  # noqa: BLE001 - cleanup is best effort
                pass


# -- (b) through the gateway ---------------------------------------------------

def bench_gateway(args):
    url = args.gateway.rstrip("/") + "/api/media"
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    local = threading.local()
    data = {"kind": "photo", "stage": "before"}
    if args.complaint_id:
        data["complaint_id"] = args.complaint_id

    def post(payload):
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        response = session.post(url, headers=headers, data=data, timeout=args.timeout,
                                files={"file": ("benchmark.jpg", payload, "image/jpeg")})
        if response.status_code in (200, 201):
            return None
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = response.text[:80]
        return f"HTTP {response.status_code} {code}"

    return run("(b) gateway POST /api/media", args.count, args.concurrency, args.size, post,
               args.warmup)


def table(results):
    lines = ["| path | requests | concurrency | size | ok | failed | wall s | uploads/s | MB/s "
             "| p50 ms | p95 ms | p99 ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [r.row() for r in results]
    for r in results:
        for failure, n in r.failures.most_common(5):
            lines.append(f"\n{r.name}: {n} × {failure}")
    return "\n".join(lines)


def parse_args(argv=None):
    try:
        from shared.config import as_bool, load_config
        minio = load_config().get("MINIO") or {}
    except Exception:  # noqa: BLE001 - no config: flags must be given
        minio, as_bool = {}, lambda v: str(v).lower() in {"1", "true", "yes", "on"}
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", default=os.environ.get("CCRM_GATEWAY", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("CCRM_TOKEN"),
                        help="bearer token of a staff member (default: $CCRM_TOKEN)")
    parser.add_argument("--complaint-id", help="complaint the gateway uploads belong to")
    parser.add_argument("--s3-endpoint", default=minio.get("endpoint", "127.0.0.1:9000"))
    parser.add_argument("--s3-access-key", default=minio.get("access_key", "ccrm-local"))
    parser.add_argument("--s3-secret-key", default=minio.get("secret_key", "ccrm-local-secret"))
    parser.add_argument("--s3-bucket", default=minio.get("bucket", "ccrm-media"))
    parser.add_argument("--s3-region", default=minio.get("region", "us-east-1"))
    parser.add_argument("--s3-secure", action="store_true",
                        default=as_bool(minio.get("secure", False)))
    parser.add_argument("--local-s3", action="store_true",
                        help="start a throwaway moto S3 server for (a)")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--size", type=int, default=200_000, help="payload bytes (200 KB)")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted requests first")
    parser.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--skip-gateway", action="store_true")
    parser.add_argument("--suite", action="store_true",
                        help="start a private suite (one instance each) and measure against it")
    # The private suite's names and ports: give others when several people
    # run the benchmark on one machine (the defaults would collide).
    parser.add_argument("--suite-database", default="ccrm_upbench")
    parser.add_argument("--suite-vhost", default="ccrm-upbench")
    parser.add_argument("--suite-gateway-port", type=int, default=8150)
    parser.add_argument("--suite-s3-port", type=int, default=9150)
    parser.add_argument("--suite-metrics-port", type=int, default=9350)
    parser.add_argument("--suite-dir", default=None,
                        help="its var directory (default var/upbench, or var/<database>)")
    args = parser.parse_args(argv)
    if args.count < 1 or args.concurrency < 1 or args.size < len(JPEG_HEAD):
        parser.error("--count and --concurrency must be >= 1, --size >= 20")
    return args


def start_suite(args):
    """A private suite (see the module doc); points args at it."""
    import json

    from scripts.suite import Suite

    os.environ.setdefault("DB_POOL_SIZE", "2")
    root = Path(__file__).resolve().parent.parent
    default_dir = "upbench" if args.suite_database == "ccrm_upbench" else args.suite_database
    suite = Suite(Path(args.suite_dir) if args.suite_dir else root / "var" / default_dir,
                  instances=1, database=args.suite_database, vhost=args.suite_vhost,
                  gateway_port=args.suite_gateway_port, s3_port=args.suite_s3_port,
                  metrics_port=args.suite_metrics_port,
                  out=open(os.devnull, "w", encoding="utf-8"))
    suite.prepare()
    suite.start()
    people = json.loads(suite.tokens_file.read_text(encoding="utf-8"))
    args.token = next(p["token"] for p in people if "specialist" in p["roles"])
    args.gateway = suite.gateway_urls[0]
    args.s3_endpoint, args.s3_secure = f"127.0.0.1:{suite.s3_port}", False
    return suite


def main(argv=None):
    args = parse_args(argv)
    local = suite = None
    if args.suite:
        suite = start_suite(args)
    if args.local_s3:
        from shared.testing.s3server import start_local_s3
        local = start_local_s3()
        args.s3_endpoint, args.s3_secure = local.endpoint, False
    results = []
    try:
        if not args.skip_s3:
            results.append(bench_s3(args))
        if not args.skip_gateway:
            if not args.token:
                print("warning: no --token / $CCRM_TOKEN; the gateway will answer 401",
                      file=sys.stderr)
            probe = suite_cpu_probe(suite) if suite else None
            before = probe.snapshot() if probe else None
            results.append(bench_gateway(args))
            if probe:
                cpu = cpu_between(before, probe.snapshot(), lives=max(results[-1].ok, 1))
                print("CPU ms per upload during (b) (benchmarks.load_cpu; RabbitMQ is the "
                      "whole broker): " + describe_per_unit(cpu))
    finally:
        if local is not None:
            local.stop()
        if suite is not None:
            suite.discard()
    print(f"S3 endpoint: {args.s3_endpoint} (bucket {args.s3_bucket}); gateway: {args.gateway}\n")
    print(table(results))
    if len(results) == 2 and results[0].wall and results[1].wall:
        raw, path = (r.ok / r.wall for r in results)
        print(f"\n(b) / (a): {path / raw:.0%}")
    return 0 if all(not r.failures for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
