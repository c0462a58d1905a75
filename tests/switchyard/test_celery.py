"""Tasks run on a real worker through the real broker (Redis), not eagerly."""

from __future__ import annotations

import importlib
import json
import queue
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings

from connections.tasks import deliver_batch
from switchyard import task_names
from switchyard.celery import app
from switchyard.tasks import ping

OUR_APPS = tuple(f"{app_name}." for app_name in ["switchyard", *settings.SWITCHYARD_APPS])


def test_task_round_trips_through_broker_and_worker() -> None:
    queues = [settings.CELERY_TASK_DEFAULT_QUEUE]
    with start_worker(app, perform_ping_check=False, queues=queues, pool="solo"):
        result = ping.delay("hello from the test")
        assert result.get(timeout=30) == "hello from the test"
        assert result.status == "SUCCESS"


@pytest.fixture
def finished() -> Iterator[queue.Queue[str]]:
    """Ids of the tasks the in-thread worker has finished (results already stored)."""
    ids: queue.Queue[str] = queue.Queue()

    def record(task_id: str, **kwargs: Any) -> None:
        ids.put(task_id)

    task_postrun.connect(record, weak=False)
    yield ids
    task_postrun.disconnect(record)


@pytest.mark.django_db(transaction=True)
def test_only_a_task_whose_result_is_read_leaves_one_in_redis(
    finished: queue.Queue[str],
) -> None:
    queues = [settings.CELERY_TASK_DEFAULT_QUEUE]
    with start_worker(app, perform_ping_check=False, queues=queues, pool="solo"):
        # What ingest queues for every stored request: a missing batch is skipped.
        delivery = deliver_batch.delay(2**62).id
        pinged = ping.delay("read").id
        # Earlier tests' requests may have left delivery tasks queued in this run:
        # the worker runs those too, so wait for these two by id, not for any two.
        done: set[str] = set()
        while not {delivery, pinged} <= done:
            done.add(finished.get(timeout=30))

    results = app.backend.client
    assert results.keys(f"*{delivery}*") == []
    assert len(results.keys(f"*{pinged}*")) == 1


def test_each_task_keeps_its_result_only_when_a_caller_reads_it() -> None:
    keeping = {name for name in registered_names() if not app.tasks[name].ignore_result}
    assert keeping == {task_names.PING}


def test_tasks_are_queued_under_this_runs_key_prefix() -> None:
    """Another run's worker on the same Redis database listens on other keys."""
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    assert prefix
    task_id = ping.delay("queued").id

    broker = redis.Redis.from_url(settings.REDIS_URL)
    ours = prefix + settings.CELERY_TASK_DEFAULT_QUEUE
    queued = [m for m in broker.lrange(ours, 0, -1) if json.loads(m)["headers"]["id"] == task_id]
    try:
        assert len(queued) == 1
        unprefixed = broker.lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)
        assert all(json.loads(m)["headers"]["id"] != task_id for m in unprefixed)
    finally:
        for message in queued:
            broker.lrem(ours, 0, message)


def registered_names() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if name.startswith(OUR_APPS)}


def test_every_task_is_named_in_its_apps_names_module() -> None:
    modules = [task_names] + [
        importlib.import_module(f"{app_name}.task_names") for app_name in settings.SWITCHYARD_APPS
    ]
    names = {value for module in modules for key, value in vars(module).items() if key.isupper()}
    assert registered_names() == names


@pytest.mark.django_db
def test_every_scheduled_task_is_registered() -> None:
    from django_celery_beat.models import PeriodicTask

    scheduled = set(PeriodicTask.objects.values_list("task", flat=True))
    assert scheduled
    assert scheduled <= registered_names()
