"""The fault test's own PostgreSQL cluster and RabbitMQ node.

The machine's servers (5432, 5672) are shared with other work, so the fault
test never restarts or alarms them: it brings a cluster and a broker node of
its own on spare ports, under `var/fault/`, and removes both at the end. A
run that crashed leaves them behind; the next run's `start()` stops and
removes the leftovers first.

Standard library only; PostgreSQL 15's binaries, run as the `postgres` user
(initdb refuses root), and RabbitMQ's scripts with a node name of its own.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"
RABBIT_USER = "rabbitmq"
RABBIT_NODE = "ccrmfault@localhost"
Say = Callable[[str], None]


def _run(argv: Sequence[str], timeout: float = 120.0, check: bool = True,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: "
                           f"{(done.stderr or done.stdout).strip()[-800:]}")
    return done


class OwnPostgres:
    """A throw-away PostgreSQL 15 cluster on 127.0.0.1:`port`, trust auth."""

    def __init__(self, base_dir: Path, port: int, say: Say = print) -> None:
        self.base = Path(base_dir).resolve() / "postgres"
        self.data, self.socket_dir = self.base / "data", self.base / "socket"
        self.log_file = self.base / "postgres.log"
        self.port, self.say = port, say
        self.url = f"postgresql://postgres@127.0.0.1:{port}"
        self.restarts: list[float] = []

    def _as_postgres(self, *argv: str, timeout: float = 120.0,
                     check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run(["runuser", "-u", PG_USER, "--", *argv], timeout=timeout, check=check)

    def _options(self) -> str:
        # Twelve services' pools, the relays, the test's own connections.
        return (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
                "-c max_connections=300 -c shared_buffers=64MB")

    def clean_up(self) -> None:
        """Stop and remove a cluster a crashed run left behind."""
        if (self.data / "postmaster.pid").exists():
            self.say(f"postgres: stopping the cluster a crashed run left in {self.data}")
            self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "stop",
                              "-m", "immediate", "-w", check=False)
        shutil.rmtree(self.base, ignore_errors=True)

    def start(self) -> None:
        self.clean_up()
        self.socket_dir.mkdir(parents=True)
        shutil.chown(self.base, PG_USER, PG_USER)
        shutil.chown(self.socket_dir, PG_USER, PG_USER)
        self.say(f"postgres: a cluster of the test's own on 127.0.0.1:{self.port} ({self.data})")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                          "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
                          str(self.log_file), "-o", self._options(), "start", "-w", "-t", "60")

    def restart(self) -> float:
        """`pg_ctl restart -m fast`: every connection is cut at once (a
        managed database's maintenance, a failover); seconds without a server."""
        began = time.monotonic()
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
                          str(self.log_file), "-o", self._options(), "restart", "-m", "fast",
                          "-w", "-t", "60")
        seconds = time.monotonic() - began
        self.restarts.append(seconds)
        return seconds

    def pause(self) -> None:
        """`pg_ctl stop -m fast`, keeping the data: the first half of a restart."""
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "stop", "-m", "fast",
                          "-w", "-t", "60")

    def resume(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
                          str(self.log_file), "-o", self._options(), "start", "-w", "-t", "60")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "stop", "-m", "fast",
                              "-w", check=False)
        shutil.rmtree(self.base, ignore_errors=True)


class OwnRabbit:
    """A second RabbitMQ node, `ccrmfault@localhost`, on spare ports, with the
    management plugin; controlled with `rabbitmqctl -n ccrmfault@localhost`."""

    def __init__(self, base_dir: Path, port: int, management_port: int, dist_port: int,
                 say: Say = print, node: str = RABBIT_NODE) -> None:
        self.base = Path(base_dir).resolve() / "rabbitmq"
        self.port, self.management_port, self.dist_port = port, management_port, dist_port
        self.node, self.say = node, say
        self.management_url = f"http://127.0.0.1:{management_port}"
        self.restarts: list[float] = []

    def env(self) -> dict[str, str]:
        b = self.base
        return {**os.environ,
                "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_MNESIA_BASE": str(b / "mnesia"), "RABBITMQ_LOG_BASE": str(b / "log"),
                "RABBITMQ_PID_FILE": str(b / "rabbit.pid"),
                "RABBITMQ_CONFIG_FILE": str(b / "rabbitmq.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(b / "advanced.config"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(b / "enabled_plugins"),
                # Not the machine's rabbitmq-env.conf (its NODENAME is the shared node's).
                "RABBITMQ_CONF_ENV_FILE": str(b / "rabbitmq-env.conf"),
                "ERL_EPMD_ADDRESS": "127.0.0.1", "ERL_CRASH_DUMP": str(b / "erl_crash.dump")}

    def ctl(self, *args: str, timeout: float = 120.0,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run(["rabbitmqctl", "-n", self.node, *args], timeout=timeout, check=check,
                    env=self.env())

    def running(self) -> bool:
        return self.ctl("status", timeout=30, check=False).returncode == 0

    def clean_up(self) -> None:
        if self.running():
            self.say(f"rabbitmq: stopping node {self.node} a crashed run left behind")
            self.ctl("shutdown", check=False)
        shutil.rmtree(self.base, ignore_errors=True)

    def start(self) -> None:
        self.clean_up()
        (self.base / "log").mkdir(parents=True)
        (self.base / "mnesia").mkdir()
        (self.base / "rabbitmq-env.conf").write_text("", encoding="utf-8")
        (self.base / "enabled_plugins").write_text("[rabbitmq_management].\n", encoding="utf-8")
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            f"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {self.management_port}\n"
            "loopback_users.guest = true\n", encoding="utf-8")
        # Debian's rabbitmq-server drops to the rabbitmq user.
        for path in (self.base, *self.base.rglob("*")):
            shutil.chown(path, RABBIT_USER, RABBIT_USER)
        self.say(f"rabbitmq: node {self.node} of the test's own on 127.0.0.1:{self.port} "
                 f"(management {self.management_port})")
        _run(["rabbitmq-server", "-detached"], env=self.env())
        limit = time.monotonic() + 120
        while not self.running():
            if time.monotonic() > limit:
                raise RuntimeError(f"rabbitmq node {self.node} did not start; logs in "
                                   f"{self.base / 'log'}")
            time.sleep(1.0)
        self.ctl("await_startup", "--timeout", "120", timeout=150)

    def restart(self, pause: float = 3.0) -> float:
        """stop_app / start_app: every connection drops; durable queues and
        persistent messages come back from disk. Seconds without a broker."""
        began = time.monotonic()
        self.say(f"rabbitmq: rabbitmqctl -n {self.node} stop_app")
        self.ctl("stop_app")
        time.sleep(pause)
        self.say(f"rabbitmq: rabbitmqctl -n {self.node} start_app")
        self.ctl("start_app")
        self.ctl("await_startup", "--timeout", "120", timeout=150)
        seconds = time.monotonic() - began
        self.restarts.append(seconds)
        return seconds

    def raise_disk_alarm(self) -> int:
        """A disk free limit above the free space: the node blocks publishers."""
        limit = shutil.disk_usage(self.base).free * 2 + 10 ** 9
        self.ctl("set_disk_free_limit", str(limit))
        return limit

    def clear_disk_alarm(self) -> None:
        self.ctl("set_disk_free_limit", "50MB")

    def alarms(self) -> str:
        return self.ctl("eval", "rabbit_alarm:get_alarms().", check=False).stdout.strip()

    def stop(self) -> None:
        if self.running():
            self.ctl("shutdown", check=False)
        shutil.rmtree(self.base, ignore_errors=True)
