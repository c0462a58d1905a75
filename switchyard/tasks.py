from __future__ import annotations

from switchyard import task_names
from switchyard.celery import task


# The one task whose caller reads the result, so the one that keeps it.
@task(task_names.PING, ignore_result=False)
def ping(value: str = "pong") -> str:
    """Proves the broker, a worker and the result backend are wired together."""
    return value
