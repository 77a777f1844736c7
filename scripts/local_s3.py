"""A throwaway S3-compatible server for the multi-instance runs (scripts.suite:
the load and fault tests), which want media on S3 as in production.

moto's server (shared.testing.s3server, the one the tests use), in memory:
objects do not survive a restart, so `make run` does not use it (its default
is a local directory, scripts.storage_choice). Runs in the foreground until
SIGTERM or Ctrl-C, so the runner stops it like any service.
"""
import argparse
import signal
import sys
import threading

from shared.testing.s3server import start_local_s3


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve a local in-memory S3 API (moto).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--request-log", help="file for the server's request log")
    args = parser.parse_args(argv)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    server = start_local_s3(args.port, args.host, log_path=args.request_log)
    print(f"local S3 (moto, in memory) at {server.url}; any access key is accepted", flush=True)
    while not stopped.wait(1.0):
        if not server.running():
            print(f"local S3 server exited with status {server.process.returncode}", flush=True)
            return 1
    server.stop()
    print("local S3 stopped; its objects are gone", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
