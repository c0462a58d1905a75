"""Names of the engage app's Celery tasks (stored in queued messages: never rename)."""

from __future__ import annotations

from typing import Final

PROCESS_CSV_UPLOAD: Final = "engage.process_csv_upload"
