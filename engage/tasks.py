"""The engage app's Celery tasks (entry points only: they take ids and call services)."""

from __future__ import annotations

from typing import Any

from engage import task_names
from engage.services import csv_upload
from switchyard.celery import task


@task(task_names.PROCESS_CSV_UPLOAD, soft_time_limit=3600)
def process_csv_upload(upload_id: int) -> dict[str, Any]:
    """Queued after the commit that stored a profiles CSV: validate every row, then
    apply the file through identity resolution unless a row is bad."""
    return csv_upload.process_upload(upload_id)
