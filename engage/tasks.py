"""The engage app's Celery tasks (entry points only: they take ids and call services)."""

from __future__ import annotations

from engage import task_names
from engage.services import spaces
from switchyard.celery import task


@task(task_names.DELETE_SPACE)
def delete_space(space_id: int) -> bool:
    """Delete a space whose deletion grace period is over, with all its data."""
    return spaces.delete_space(space_id)


@task(task_names.SWEEP_SPACE_DELETIONS)
def sweep_space_deletions() -> int:
    """Beat runs this every 15 minutes (a PeriodicTask row from an engage migration):
    one task per space whose grace period is over."""
    due = spaces.due_for_deletion()
    for space_id in due:
        delete_space.delay(space_id)
    return len(due)
