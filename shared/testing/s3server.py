"""A real S3-compatible HTTP server for tests and local runs (moto's server mode).

It runs as a subprocess of this Python (`python -m moto.server`), so eventlet's
monkey-patching in the test process cannot reach it. Objects live in its
memory and are gone when it stops.

- pytest: the session fixture `s3_server` yields the MINIO config section
  (endpoint, access_key, secret_key, bucket, secure, region); `s3_config` is
  the same with a bucket of its own for one test.
- local run: `start_local_s3(9000)` starts one and returns a `LocalS3`
  (`.endpoint`, `.minio_config(bucket)`, `.stop()`, a context manager), or
  `python -m shared.testing.s3server --port 9000` in the foreground.

Note: moto does not check signatures nor the expiry of presigned URLs;
MinIO and S3 do. It keeps nothing on disk, which is why `make run` keeps
media in a local directory instead (services/media/local_store.py); the
media storage tests run against both (services/media/tests/conftest.py).
"""
import argparse
import atexit
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

ACCESS_KEY = "ccrm-test"
SECRET_KEY = "ccrm-test-secret"
REGION = "us-east-1"


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _die_with_parent():
    # Linux: the server gets SIGTERM when the process that started it dies,
    # even by SIGKILL, so a killed test run leaves no server behind.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class LocalS3:
    """A running moto S3 server subprocess."""

    def __init__(self, process, host, port):
        self.process = process
        self.host = host
        self.port = port

    @property
    def endpoint(self):
        return f"{self.host}:{self.port}"

    @property
    def url(self):
        return f"http://{self.endpoint}"

    def minio_config(self, bucket="ccrm-media", access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                     region=REGION):
        """The `MINIO` config section pointing at this server."""
        return {"endpoint": self.endpoint, "access_key": access_key, "secret_key": secret_key,
                "bucket": bucket, "secure": False, "region": region}

    def running(self):
        return self.process.poll() is None

    def stop(self, timeout=10):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _ready(url):
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_local_s3(port=None, host="127.0.0.1", wait_seconds=30, log_path=None,
                   stop_at_exit=True):
    """Start a moto S3 server on `host:port` (a free port if None) and wait
    until it answers. Returns a LocalS3; stop it with `.stop()`.

    Any access/secret key is accepted. `log_path` receives the server's
    request log (default: discarded). With `stop_at_exit` the server is
    stopped when this Python exits normally (and, on Linux, when it dies)."""
    port = port or free_port(host)
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT if log_path else subprocess.PIPE,
        stdin=subprocess.DEVNULL, env=env,
        preexec_fn=_die_with_parent if stop_at_exit and sys.platform == "linux" else None)
    if log_path:
        log.close()
    server = LocalS3(process, host, port)
    limit = time.monotonic() + wait_seconds
    while not _ready(server.url):
        if process.poll() is not None:
            output = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"S3 test server exited with {process.returncode}: {output[-2000:]}")
        if time.monotonic() > limit:
            server.stop()
            raise RuntimeError(f"S3 test server did not answer on {server.url} in {wait_seconds}s")
        time.sleep(0.1)
    if process.stderr is not None:
        # Not read from now on: close it so a chatty server cannot block on a full pipe.
        process.stderr.close()
        process.stderr = None
    if stop_at_exit:
        atexit.register(server.stop)
    return server


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server for the whole test session (stopped at its end)."""
    server = start_local_s3()
    try:
        yield server.minio_config(bucket="ccrm-test-media")
    finally:
        server.stop()


@pytest.fixture
def s3_config(s3_server):
    """The MINIO section with a bucket of its own for this test, so objects
    left by other tests cannot show up (the service creates the bucket)."""
    return dict(s3_server, bucket=f"ccrm-test-{uuid.uuid4().hex[:12]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run a local S3-compatible server (moto).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args(argv)
    server = start_local_s3(args.port, args.host, stop_at_exit=True)
    print(f"S3 server at {server.url} (any access key; objects are kept in memory)", flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        server.stop()
    return server.process.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
