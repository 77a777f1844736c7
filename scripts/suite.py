"""The whole suite with several instances of every service, in its own
database and RabbitMQ vhost, for the fault test and the load benchmark.

Builds on scripts/run_local.py (the same set-up steps, the same per-process
settings, the same supervisor); adds instances, a process killed and
restarted by name, and a RabbitMQ restart. Given the fault test's own
servers (scripts.fault_servers) and TCP proxy (scripts.fault_proxy), every
service process reaches RabbitMQ, PostgreSQL and the object store through
links of its own, so the network of one process can be slowed or cut.
"""
import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg

from scripts import run_local
from scripts.run_local import (
    CONFIG_FILE,
    GATEWAY,
    Supervisor,
    discover_services,
    health_ready,
    instance_counts,
    nameko_command,
    setup_steps,
    storage_ready,
    wait_until,
)
from shared.db import admin_dsn

MANAGEMENT = "http://127.0.0.1:15672"
MANAGEMENT_AUTH = ("guest", "guest")


def management(method, path, body=None, timeout=10.0, base=MANAGEMENT):
    """A call to RabbitMQ's management API at `base`; (status, parsed body)."""
    request = urllib.request.Request(
        base + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json"})
    credentials = "{}:{}".format(*MANAGEMENT_AUTH)
    request.add_header("Authorization",
                       "Basic " + base64.b64encode(credentials.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def restart_rabbitmq(pause=3.0, say=print):
    """Stop and start the RabbitMQ application (every connection drops; durable
    queues and persistent messages come back from disk)."""
    say("rabbitmq: rabbitmqctl stop_app")
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=120)
    time.sleep(pause)
    say("rabbitmq: rabbitmqctl start_app")
    subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
    subprocess.run(["rabbitmqctl", "await_startup", "--timeout", "120"], check=True,
                   capture_output=True, timeout=150)


class Suite:
    """N instances of every service against database `database` and vhost
    `vhost`; `instances_of` ({service: N}) gives some services another count."""

    def __init__(self, var_dir, instances=2, database="ccrm_fault", vhost="ccrm-fault",
                 gateway_port=8110, s3_port=9110, metrics_port=9300, out=None,
                 pg_url="postgresql://postgres@127.0.0.1:5432", amqp_port=5672,
                 management_url=MANAGEMENT, rabbit=None, proxy=None, instances_of=None):
        self.var_dir = Path(var_dir)
        self.pg_url, self.amqp_port, self.management_url = pg_url, amqp_port, management_url
        self.rabbit, self.proxy = rabbit, proxy     # scripts.fault_servers / fault_proxy
        self.instances = instances
        self.database, self.vhost = database, vhost
        self.gateway_port, self.s3_port, self.metrics_port = gateway_port, s3_port, metrics_port
        self.owner_dsn = f"{pg_url}/{database}"
        self.amqp_uri = self.amqp_uri_at(amqp_port)
        self.supervisor = Supervisor(self.var_dir / "log", out=out)
        self.say = self.supervisor.say
        self.services = discover_services()
        self.counts = instance_counts(
            instances, [f"{name}={n}" for name, n in (instances_of or {}).items()],
            self.services)
        self.tokens_file = self.var_dir / "tokens.json"
        self.argv = {}     # process name -> (argv, env), to restart it
        self.gateway_urls = [f"http://127.0.0.1:{gateway_port + i}"
                             for i in range(self.counts[GATEWAY])]

    def amqp_uri_at(self, port):
        return f"pyamqp://guest:guest@127.0.0.1:{port}/{urllib.parse.quote(self.vhost, safe='')}"

    def management(self, method, path, body=None, timeout=10.0):
        return management(method, path, body, timeout, base=self.management_url)

    # -- set-up ------------------------------------------------------------------------

    def base_environment(self):
        settings = run_local.service_environment()
        settings.update({"AMQP_URI": self.amqp_uri, "DATABASE_URL": self.owner_dsn,
                         "MINIO_ENDPOINT": f"127.0.0.1:{self.s3_port}",
                         "CCRM_SIMULATION": "true"})
        # Twelve processes share PostgreSQL's 100 connections with whatever else runs.
        settings.setdefault("DB_POOL_SIZE", os.environ.get("DB_POOL_SIZE", "4"))
        return {**os.environ, **settings, "PYTHONUNBUFFERED": "1"}

    def process_environment(self, service, instance, base):
        """One process's settings as the local run gives them (its own database
        role, run_local.process_environment), with this suite's gateway and
        metrics ports."""
        env = run_local.process_environment(service, base, instance, self.services)
        index = self.services.index(service)
        env["METRICS_ADDRESS"] = f"127.0.0.1:{self.metrics_port + 10 * instance + index}"
        if service == GATEWAY:
            env["GATEWAY_ADDRESS"] = f"127.0.0.1:{self.gateway_port + instance}"
        if self.proxy is not None:
            name = f"{service}-{instance + 1}"
            env["AMQP_URI"] = self.amqp_uri_at(self.proxy.link(f"{name}.amqp",
                                                               self.amqp_port).port)
            db = urllib.parse.urlsplit(env["DATABASE_URL"])
            pg_link = self.proxy.link(f"{name}.pg", db.port or 5432)
            env["DATABASE_URL"] = urllib.parse.urlunsplit(db._replace(
                netloc=f"{db.netloc.rpartition('@')[0]}@127.0.0.1:{pg_link.port}"))
            env["MINIO_ENDPOINT"] = f"127.0.0.1:{self.proxy.link(f'{name}.s3', self.s3_port).port}"
        return env

    def fresh_database(self):
        with psycopg.connect(admin_dsn(self.owner_dsn), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def fresh_vhost(self):
        quoted = urllib.parse.quote(self.vhost, safe="")
        self.management("DELETE", f"/api/vhosts/{quoted}")
        status, body = self.management("PUT", f"/api/vhosts/{quoted}", {})
        if status not in (201, 204):
            raise RuntimeError(f"cannot create vhost {self.vhost}: {status} {body}")
        self.management("PUT", f"/api/permissions/{quoted}/guest",
                   {"configure": ".*", "write": ".*", "read": ".*"})

    def prepare(self):
        """A new, empty database and vhost (a subscriber can bind before start)."""
        self.fresh_database()
        self.fresh_vhost()

    def start(self, health_timeout=180.0):
        base = self.base_environment()
        python = sys.executable
        for label, module, args in setup_steps(self.tokens_file):
            self.say(f"{label}: python -m {module} {' '.join(args)}".rstrip())
            self.supervisor.run_step(label, [python, "-m", module, *args], base)
        self.supervisor.start("storage", [python, "-m", "scripts.local_s3", "--host",
                                          "127.0.0.1", "--port", str(self.s3_port)], base)
        wait_until(storage_ready(f"127.0.0.1:{self.s3_port}"), self.supervisor, 30, "local S3")
        for instance in range(max(self.counts.values())):
            for service in self.services:
                if instance >= self.counts[service]:
                    continue
                name = f"{service}-{instance + 1}"
                argv = [*nameko_command(python), "run", "--config", str(CONFIG_FILE),
                        f"services.{service}.service"]
                self.argv[name] = (argv, self.process_environment(service, instance, base))
                self.supervisor.start(name, *self.argv[name])
        for url in self.gateway_urls:
            wait_until(health_ready(url + "/api/health"), self.supervisor, health_timeout,
                       f"GET {url}/api/health to answer 200")

    # -- faults --------------------------------------------------------------------------

    def process(self, name):
        for process in self.supervisor.processes:
            if process.name == name:
                return process
        raise KeyError(name)

    def kill(self, name):
        """SIGKILL the process and everything it spawned; no clean-up runs."""
        process = self.process(name)
        process.signal_group(signal.SIGKILL)
        process.proc.wait()
        process.finish()
        self.supervisor.processes.remove(process)
        return process.pid

    def restart(self, name):
        argv, env = self.argv[name]
        return self.supervisor.start(name, argv, env)

    def dead(self):
        return [p.name for p in self.supervisor.processes if p.returncode is not None]

    def stop(self):
        self.supervisor.stop()

    def restart_rabbitmq(self, say=print):
        if self.rabbit is not None:
            return self.rabbit.restart()
        return restart_rabbitmq(say=say)

    def drop(self):
        self.management("DELETE", f"/api/vhosts/{urllib.parse.quote(self.vhost, safe='')}")

    def discard(self):
        """Stop every process, then remove the vhost and the database: a
        benchmark's private suite leaves nothing behind."""
        self.stop()
        self.drop()
        with psycopg.connect(admin_dsn(self.owner_dsn), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

