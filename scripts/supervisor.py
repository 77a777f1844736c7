"""The child processes of the local suite (scripts.run_local, scripts.suite):
each in its own process group, its output prefixed and logged, all of them
stopped together, groups included; and the SIGINT / SIGTERM handling that
turns a Ctrl-C into a clean stop, even when it arrives mid-start.

Standard library only.
"""
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TextIO

from scripts.local_settings import REPO_ROOT
from scripts.probes import Check


class StartFailed(Exception):
    """The suite could not come up; the message says which process and why."""


class Managed:
    """One child process in its own process group, its output prefixed and logged."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None,
                 log_dir: str | Path, echo: Callable[[str, str], None],
                 cwd: str | Path = REPO_ROOT) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = Path(log_dir) / f"{name}.log"
        self.tail: deque[str] = deque(maxlen=30)
        self._echo = echo
        self._log = open(self.log_path, "a", encoding="utf-8")
        self._log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(self.argv)}\n")
        self._log.flush()
        self.proc = subprocess.Popen(
            self.argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._pump, name=f"log-{name}", daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.tail.append(line)
            if not self._log.closed:
                self._log.write(line + "\n")
                self._log.flush()
            self._echo(self.name, line)
        self.proc.stdout.close()

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def signal_group(self, signum: int) -> None:
        """Signal the whole group: the process and anything it spawned."""
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def finish(self, timeout: float = 5.0) -> None:
        """Wait for the reader to drain the pipe, then close the log."""
        self._reader.join(timeout)
        self._log.close()

    def describe_exit(self) -> str:
        code = self.returncode
        if code is not None:
            self._reader.join(2.0)  # its last words are still in the pipe
        if code is not None and code < 0:
            how = f"was killed by signal {-code}"
        else:
            how = f"exited with status {code}"
        lines = "\n".join(f"    {line}" for line in self.tail) or "    (no output)"
        return (f"进程 {self.name} 已退出 (process '{self.name}' {how}).\n"
                f"  Last lines of {self.log_path}:\n{lines}")


class Supervisor:
    """Starts processes, prefixes their output, and stops them all, groups included."""

    def __init__(self, log_dir: str | Path, out: TextIO | None = None) -> None:
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.out = out or sys.stdout
        self.processes: list[Managed] = []
        self._lock = threading.Lock()
        self._width = 9

    def say(self, text: str) -> None:
        with self._lock:
            print(text, file=self.out, flush=True)

    def _echo(self, name: str, line: str) -> None:
        with self._lock:
            print(f"{name:<{self._width}}| {line}", file=self.out, flush=True)

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None) -> Managed:
        self._width = max(self._width, len(name))
        # A Ctrl-C arriving mid-start is held until the child is on the list,
        # so it cannot leave a process nobody will stop. (Not sigmask: a
        # blocked mask would be inherited by the child.)
        with _stop_deferred():
            process = Managed(name, argv, env, self.log_dir, self._echo)
            self.processes.append(process)
        return process

    def run_step(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None,
                 timeout: float = 300.0) -> Managed:
        """Run a set-up command to its end; raise StartFailed if it fails."""
        process = self.start(name, argv, env)
        try:
            process.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            process.signal_group(signal.SIGKILL)
            process.proc.wait()
            process.finish()
            raise StartFailed(f"'{name}' did not finish within {timeout:.0f}s.\n"
                              + process.describe_exit()) from None
        process.finish()
        self.processes.remove(process)
        if process.returncode != 0:
            raise StartFailed(process.describe_exit())
        return process

    def first_dead(self) -> Managed | None:
        for process in self.processes:
            if process.returncode is not None:
                return process
        return None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM every group, wait up to `grace`, then SIGKILL what is left."""
        running = [p for p in self.processes if p.returncode is None]
        for process in reversed(running):
            self.say(f"stopping {process.name} (pid {process.pid})")
            process.signal_group(signal.SIGTERM)
        limit = time.monotonic() + grace
        for process in running:
            try:
                process.proc.wait(max(0.0, limit - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{process.name} ignored SIGTERM for {grace:.0f}s: killing it")
        for process in self.processes:
            # Also reaches children left in a group whose leader already exited.
            process.signal_group(signal.SIGKILL)
            process.proc.wait()
            process.finish()
        self.processes = []


def wait_until(check: Check, supervisor: Supervisor, timeout: float, what: str,
               poll: float = 0.3) -> str:
    """Poll `check()` until it returns a true value; fail fast if a process dies."""
    limit = time.monotonic() + timeout
    last = None
    while time.monotonic() < limit:
        dead = supervisor.first_dead()
        if dead is not None:
            raise StartFailed(f"{what}: a process died while waiting.\n" + dead.describe_exit())
        ok, last = check()
        if ok:
            return last
        time.sleep(poll)
    tails = "\n".join(f"  {p.name}: log in {p.log_path}" for p in supervisor.processes)
    raise StartFailed(f"等待超时 (timed out after {timeout:.0f}s): {what}; "
                      f"last answer: {last}\n{tails}")


class _Stop(Exception):
    """Raised in the main thread by SIGINT / SIGTERM."""


_deferral: dict = {"depth": 0, "pending": None, "stopping": False}


@contextmanager
def _stop_deferred() -> Iterator[None]:
    _deferral["depth"] += 1
    try:
        yield
    finally:
        _deferral["depth"] -= 1
        if _deferral["depth"] == 0 and _deferral["pending"]:
            pending, _deferral["pending"] = _deferral["pending"], None
            _deferral["stopping"] = True
            raise _Stop(pending)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # Only the first signal stops the run; a second Ctrl-C (the terminal's and
    # make's both arrive) must not interrupt the clean-up it started.
    if _deferral["stopping"]:
        return
    name = signal.Signals(signum).name
    if _deferral["depth"]:
        _deferral["pending"] = name
        return
    _deferral["stopping"] = True
    raise _Stop(name)
