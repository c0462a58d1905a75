"""The privacy app's Celery tasks: entry points that call services."""

from __future__ import annotations

from typing import Any

from privacy import task_names
from privacy.services import regulations
from switchyard.celery import task


# The sweep's bound for a dead run (RUNNING_STALE_AFTER) is reckoned from this limit.
@task(
    task_names.PROCESS_REGULATION,
    soft_time_limit=int(regulations.RUN_TIME_LIMIT.total_seconds()),
)
def process_regulation(regulation_id: int) -> dict[str, Any]:
    """Queued after the commit that created a deletion regulation (and by the sweep
    when that message was lost or its worker died): erase the users' stored data."""
    return regulations.process_regulation(regulation_id)


@task(task_names.SWEEP_REGULATIONS)
def sweep_regulations() -> dict[str, int]:
    """Beat runs this every 5 minutes (a PeriodicTask row from a privacy migration):
    queues again regulations whose message was lost or whose worker died."""
    return regulations.requeue_stalled_regulations()
