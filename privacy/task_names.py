"""Names of the privacy app's Celery tasks (stored in queued messages and beat rows:
never rename)."""

from __future__ import annotations

from typing import Final

PROCESS_REGULATION: Final = "privacy.process_regulation"
SWEEP_REGULATIONS: Final = "privacy.sweep_regulations"
