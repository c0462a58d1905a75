from __future__ import annotations

from typing import Any

from connections import task_names
from connections.dataplane import event_store
from connections.dataplane.delivery import deliver, retries, sweep
from switchyard.celery import task


@task(task_names.MAINTAIN_EVENT_STORE)
def maintain_event_store() -> dict[str, object]:
    """Beat runs this hourly (a PeriodicTask row from migration 0004)."""
    return event_store.maintain_event_store()


@task(task_names.DELIVER_BATCH)
def deliver_batch(batch_id: int) -> dict[str, Any]:
    """Ingest enqueues this for each outbox batch it commits; the sweep again for
    batches whose worker died or whose message was lost."""
    return deliver.deliver_batch(batch_id)


@task(task_names.DELIVER_RETRIES)
def deliver_retries(delivery_ids: list[int]) -> dict[str, Any]:
    """Retries that came due (queued with a countdown, or by the sweep)."""
    return retries.deliver_retries(delivery_ids)


@task(task_names.SWEEP_DELIVERIES, soft_time_limit=50)
def sweep_deliveries() -> dict[str, int]:
    """Beat runs this every minute (a PeriodicTask row from migration 0005)."""
    return sweep.sweep_deliveries()
