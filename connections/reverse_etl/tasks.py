from __future__ import annotations

from typing import Any

from connections.reverse_etl import task_names
from connections.reverse_etl.services import syncs
from switchyard.celery import task


@task(task_names.RUN_SYNC, soft_time_limit=3600)
def run_sync(sync_id: int) -> dict[str, Any]:
    """``do_run_now`` enqueues this; a redelivered message resumes the run's steps."""
    return syncs.run_sync(sync_id)
