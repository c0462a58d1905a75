"""Tasks run on a real worker through the real broker (Redis), not eagerly."""

from __future__ import annotations

from celery.contrib.testing.worker import start_worker

from switchyard.celery import app
from switchyard.tasks import ping


def test_task_round_trips_through_broker_and_worker() -> None:
    with start_worker(app, perform_ping_check=False, queues=["default"], pool="solo"):
        result = ping.delay("hello from the test")
        assert result.get(timeout=30) == "hello from the test"
        assert result.status == "SUCCESS"
