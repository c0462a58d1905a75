"""Celery worker processes for tests: a real worker on the real broker, reading
the test database (through tests.connections.worker_settings), so it sees what a
transactional test commits."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def celery_worker(
    name: str = "test", *, loglevel: str = "WARNING", **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A solo-pool worker on the default queue, with ``env`` added to its environment;
    yielded once it answers a ping (by its own hostname, so another worker's answer
    cannot pass for it), terminated afterwards."""
    from switchyard.celery import app

    hostname = f"{name}-{uuid.uuid4().hex[:12]}@localhost"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.connections.worker_settings",
        "SWITCHYARD_TEST_DATABASE": str(connection.settings_dict["NAME"]),
        **env,
    }
    command = [sys.executable, "-m", "celery", "-A", "switchyard", "worker", "--pool", "solo"]
    command += ["--hostname", hostname, "--queues", settings.CELERY_TASK_DEFAULT_QUEUE]
    command += ["--loglevel", loglevel]
    process = subprocess.Popen(command, cwd=ROOT, env=environment)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[hostname], timeout=0.5):
            assert process.poll() is None, "the worker exited while starting"
            assert time.monotonic() < deadline, "the worker did not answer within 60 s"
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def celery_beat(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A beat process reading the test database's PeriodicTask rows (the project's
    DatabaseScheduler, checking for changed rows every second), stopped afterwards."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.connections.worker_settings",
        "SWITCHYARD_TEST_DATABASE": str(connection.settings_dict["NAME"]),
    }
    command = [sys.executable, "-m", "celery", "-A", "switchyard", "beat"]
    command += ["--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]
    command += ["--schedule", str(tmp_path / "beat-schedule"), "--max-interval", "1"]
    command += ["--pidfile", str(tmp_path / "beat.pid"), "--loglevel", "WARNING"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def eventually(check: Callable[[], Any], timeout: float = 60) -> Any:
    """``check()``'s first truthy value, polled every 0.1 s for up to ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)
    return value
