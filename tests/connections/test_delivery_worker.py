"""Delivery through Celery: a real worker process on the real broker, fed by the
real ingest path (the outbox row and its task, enqueued on commit), and a worker
killed in the middle of a delivery."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from connections.dataplane.delivery import sweep
from connections.models import Delivery, DeliveryBatch
from tests.connections.delivery_support import (
    Reply,
    Server,
    Setup,
    delivery_counts,
    make_setup,
    track,
)
from workspace.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def start_worker() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start Celery workers on the test database, with delivery settings from env."""
    from switchyard.celery import app

    started: list[subprocess.Popen[bytes]] = []

    def start(**settings: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.connections.worker_settings",
            "SWITCHYARD_TEST_DATABASE": str(connection.settings_dict["NAME"]),
            "DELIVERY_ALLOW_PRIVATE_NETWORKS": "true",
            **settings,
        }
        command = [sys.executable, "-m", "celery", "-A", "switchyard", "worker"]
        command += ["--pool", "solo", "--queues", "default", "--loglevel", "WARNING"]
        worker = subprocess.Popen(command, cwd=ROOT, env=env)
        started.append(worker)
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            assert worker.poll() is None, "the worker exited while starting"
            assert time.monotonic() < deadline, "the worker did not answer within 60 s"
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Setup:
    return make_setup(alice, make_workspace(alice, "acme"))


def eventually(check: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def test_ingest_to_delivery_through_the_worker_with_a_retry(
    web: Setup, server: Server, start_worker: Callable[..., Any]
) -> None:
    start_worker(DELIVERY_RETRY_BASE_SECONDS="0.2")
    destination, _ = web.webhook(f"{server.url}/hook")
    server.reply(Reply(503, b"warming up"))

    web.track(track(messageId="w-1"))  # the commit enqueues connections.deliver_batch

    first, second = server.wait_for(2)
    assert first.json()["messageId"] == second.json()["messageId"] == "w-1"
    eventually(lambda: not Delivery.objects.exists() and not DeliveryBatch.objects.exists())
    assert delivery_counts(destination) == {
        ("retrying", "errors.awaiting-retry.5xx"): 1,
        ("delivered", ""): 1,
    }


def test_a_worker_killed_mid_delivery_loses_nothing(
    web: Setup, server: Server, start_worker: Callable[..., Any], settings: Any
) -> None:
    claim = {"DELIVERY_CLAIM_SECONDS": "1"}
    worker = start_worker(**claim)
    destination, _ = web.webhook(f"{server.url}/hook")
    stuck = threading.Event()
    server.reply(Reply(200, hold=stuck))  # the first request hangs

    stored = web.track(track(messageId="k-1"))
    server.wait_for(1)
    worker.send_signal(signal.SIGKILL)  # in the middle of the HTTP call
    worker.wait(timeout=30)
    stuck.set()
    batch = DeliveryBatch.objects.get(pk=stored.batch_id)
    assert batch.claim_time is not None and batch.attempts == 1
    assert delivery_counts(destination) == {}

    start_worker(**claim)
    # The dead worker's claim expires (set in the past rather than waited for).
    expired = timezone.now() - dt.timedelta(seconds=settings.DELIVERY_CLAIM_SECONDS + 60)
    DeliveryBatch.objects.filter(pk=stored.batch_id).update(claim_time=expired)
    assert sweep.sweep_deliveries()["batches"] == 1  # beat's sweep queues the batch again

    _, again = server.wait_for(2)
    assert again.json()["messageId"] == "k-1"  # the same message, at least once
    eventually(lambda: not DeliveryBatch.objects.exists())
    assert delivery_counts(destination) == {("delivered", ""): 1}
    assert not Delivery.objects.exists()
