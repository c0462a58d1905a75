"""This test run's own default queue on the real broker (nobody consumes it in a
non-worker test): what a service queued, by task name and arguments."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from django.conf import settings


@contextmanager
def queued_tasks() -> Iterator[list[tuple[str, list[Any]]]]:
    """Empties the queue, and on exit fills the yielded list with the (task name,
    args) queued meanwhile, oldest first."""
    broker = redis.Redis.from_url(settings.REDIS_URL)
    queue = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] + "default"
    broker.delete(queue)
    found: list[tuple[str, list[Any]]] = []
    try:
        yield found
    finally:
        # LPUSH puts the newest first.
        for raw in reversed(broker.lrange(queue, 0, -1)):
            message = json.loads(raw)
            args = json.loads(base64.b64decode(message["body"]))[0]
            found.append((message["headers"]["task"], args))
        broker.delete(queue)
