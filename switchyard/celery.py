"""The Celery app, and ``task``: the one decorator every Switchyard task uses."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchyard.settings")

app = Celery("switchyard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _start_embedded_broker(sender: Celery, **kwargs: Any) -> None:
    """With REDIS_URL unset the broker is the embedded Redis: make sure it runs."""
    from django.conf import settings

    if settings.EMBEDDED_REDIS:
        from switchyard import embedded

        embedded.ensure_redis()


# Transient failures worth a retry; anything else is a bug and fails loudly.
RETRY_ON: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)


def task(
    name: str, *, queue: str | None = None, soft_time_limit: int = 300, **options: Any
) -> Callable[[Callable[..., Any]], Any]:
    """Register a task by a stable name (from a ``task_names`` module), with a time limit
    and retries with backoff for transient errors. Tasks take ids and call services;
    nothing more.

    Without ``queue`` the task goes to CELERY_TASK_DEFAULT_QUEUE. Results are not kept
    (CELERY_TASK_IGNORE_RESULT) unless the task passes ``ignore_result=False`` because a
    caller reads them.
    """
    if queue is not None:
        options["queue"] = queue
    return app.task(
        name=name,
        soft_time_limit=soft_time_limit,
        time_limit=soft_time_limit + 30,
        autoretry_for=RETRY_ON,
        retry_backoff=True,
        retry_jitter=True,
        max_retries=5,
        **options,
    )
