from __future__ import annotations

from connections.services.event_store import do_maintain_event_store
from switchyard.celery import task


@task("connections.maintain_event_store")
def maintain_event_store() -> dict[str, object]:
    """Beat runs this hourly (a PeriodicTask row from migration 0004)."""
    return do_maintain_event_store()
