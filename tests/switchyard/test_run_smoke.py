"""``manage.py run`` from nothing: the embedded stack comes up healthy and goes away again.

Runs the real command in a subprocess against its own var folder, so it never
touches the database or Redis the rest of the suite uses.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HEALTHY_WITHIN = 120.0
STOPPED_WITHIN = 60.0
# AF_UNIX socket paths are limited to 108 bytes (Linux), terminator included.
MAX_SOCKET_PATH = 100


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(proc: psutil.Process) -> bool:
    # is_running() also notices a pid that was reused by another process.
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Stack:
    """One ``manage.py run`` process, its output in a file (no pipe to fill up)."""

    def __init__(self, var: Path, log: Path) -> None:
        self.var = var
        self.log = log
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env["SWITCHYARD_VAR_DIR"] = str(var)
        # Output goes to a file: unbuffered, so it is readable while the stack runs.
        env["PYTHONUNBUFFERED"] = "1"
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "manage.py", "run", "--port", str(self.port)],
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # Everything it started, for the "nothing left behind" check and cleanup.
        self.procs: dict[str, psutil.Process] = {}

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def fail(self, why: str) -> None:
        pytest.fail(f"{why}\n--- manage.py run output ---\n{self.output()}", pytrace=False)

    def wait_healthy(self) -> dict[str, str]:
        url = f"http://127.0.0.1:{self.port}/healthz"
        deadline = time.monotonic() + HEALTHY_WITHIN
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.fail(f"manage.py run exited early with code {self.proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=3) as response:
                    body = json.loads(response.read())
                    if response.status == 200 and all(v == "ok" for v in body.values()):
                        self._record_pids()
                        return dict(body)
                    last = f"{response.status} {body}"
            except urllib.error.HTTPError as exc:
                last = f"{exc.code} {exc.read()[:300]!r}"
            except (urllib.error.URLError, OSError, ValueError) as exc:
                last = repr(exc)
            time.sleep(0.5)
        self.fail(f"/healthz not healthy within {HEALTHY_WITHIN:.0f}s; last answer: {last}")
        raise AssertionError  # unreachable: fail() raises

    def _record_pids(self) -> None:
        run = psutil.Process(self.proc.pid)
        self.procs["manage.py run"] = run
        for child in run.children(recursive=True):
            # gunicorn's and celery's workers share their master's command line
            self.procs[f"{' '.join(child.cmdline()[1:5])} [{child.pid}]"] = child
        # Both servers daemonize, so they are nobody's children: take their pid files.
        postmaster = self.var / "pgdata" / "postmaster.pid"
        self.procs["postgres"] = psutil.Process(int(postmaster.read_text().splitlines()[0]))
        self._record_redis()

    def _record_redis(self) -> None:
        pid = int((self.var / "redis" / "redis.pid").read_text().strip())
        self.procs["redis-server"] = psutil.Process(pid)

    def stop(self) -> None:
        """Ctrl-C, as a person would, and expect a clean exit."""
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=STOPPED_WITHIN)
        except subprocess.TimeoutExpired:
            self.fail(f"manage.py run still running {STOPPED_WITHIN:.0f}s after SIGINT")
        if code != 0:
            self.fail(f"manage.py run exited with {code} after SIGINT")
        assert "Stopped." in self.output()

    def leftovers(self) -> list[str]:
        left = [f"{name} (pid {p.pid})" for name, p in self.procs.items() if _alive(p)]
        # The postmaster's command line names the pgdata folder; redis-server's does
        # not, but its pid was recorded above.
        for proc in psutil.process_iter(["pid", "cmdline", "username"]):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if str(self.var) in cmdline and proc.info["pid"] != os.getpid():
                left.append(f"pid {proc.info['pid']} ({proc.info['username']}): {cmdline}")
        return left

    def cleanup(self) -> None:
        """Whatever happened, leave no process behind."""
        if self.proc.poll() is None:
            with contextlib.suppress(psutil.Error, OSError, ValueError, IndexError):
                self._record_pids()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=STOPPED_WITHIN)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if (self.var / "pgdata" / "postmaster.pid").exists():
            from switchyard import embedded

            with contextlib.suppress(Exception):
                embedded.stop_postgres(self.var)
        with contextlib.suppress(psutil.Error, OSError, ValueError):
            self._record_redis()
        for proc in self.procs.values():
            with contextlib.suppress(psutil.Error):
                proc.kill()


@pytest.fixture
def stack_folder() -> Iterator[Path]:
    """A folder of its own in the system's temp folder, not under pytest's.

    The embedded PostgreSQL runs as another user, so the folders above its data are
    opened to others; every pytest session that starts on this machine closes pytest's
    own temp root again (0700), under a stack that is still starting.
    """
    path = Path(tempfile.mkdtemp(prefix="switchyard-smoke-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_run_starts_healthy_stops_cleanly_and_keeps_its_data(stack_folder: Path) -> None:
    var = stack_folder / "var"
    for longest in (var / "pgdata" / ".s.PGSQL.65535", var / "redis" / "redis.sock"):
        assert len(str(longest)) < MAX_SOCKET_PATH, f"tmp path too long for a socket: {longest}"

    # First start on an empty folder: a database is made and a superuser created.
    first = Stack(var, stack_folder / "run-1.log")
    try:
        assert first.wait_healthy() == {
            "status": "ok",
            "database": "ok",
            "broker": "ok",
            "worker": "ok",
        }
        output = first.output()
        assert re.search(r"First login: username 'admin', password '[^']{8,}'", output), output
        assert "Sign in with your existing account." not in output
        first.stop()
        left = first.leftovers()
        assert not left, "still running after 'Stopped.':\n" + "\n".join(left)
    finally:
        first.cleanup()

    # Second start on the same folder: the data, superuser included, is still there.
    second = Stack(var, stack_folder / "run-2.log")
    try:
        assert second.wait_healthy()["status"] == "ok"
        output = second.output()
        assert "Sign in with your existing account." in output, output
        assert "First login" not in output
        second.stop()
        left = second.leftovers()
        assert not left, "still running after 'Stopped.':\n" + "\n".join(left)
    finally:
        second.cleanup()
