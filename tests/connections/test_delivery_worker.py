"""Delivery through Celery: a real worker process on the real broker, fed by the
real ingest path (the outbox row and its task, enqueued on commit), and a worker
killed in the middle of a delivery."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from django.contrib.auth.models import User
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
from tests.worker_support import celery_worker, eventually
from workspace.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def start_worker() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start Celery workers on the test database, with delivery settings from env."""
    with ExitStack() as stack:

        def start(**settings: str) -> subprocess.Popen[bytes]:
            env = {"DELIVERY_ALLOW_PRIVATE_NETWORKS": "true", **settings}
            return stack.enter_context(celery_worker("delivery", **env))

        yield start


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Setup:
    return make_setup(alice, make_workspace(alice, "acme"))


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
