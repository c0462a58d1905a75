from __future__ import annotations

from switchyard.celery import task
from workspace import task_names
from workspace.services.audit import do_prune_audit_entries


@task(task_names.PRUNE_AUDIT_ENTRIES)
def prune_audit_entries() -> int:
    """Beat runs this daily (a PeriodicTask row, editable in the admin)."""
    return do_prune_audit_entries()
