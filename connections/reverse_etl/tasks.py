from __future__ import annotations

from typing import Any

from connections.reverse_etl import task_names
from connections.reverse_etl.services import alerts, schedules, syncs
from switchyard.celery import task


@task(task_names.RUN_SYNC, soft_time_limit=3600)
def run_sync(sync_id: int) -> dict[str, Any]:
    """``do_run_now`` enqueues this; a redelivered message resumes the run's steps."""
    return syncs.run_sync(sync_id)


@task(task_names.SEND_ALERT, bind=True)
def send_alert(self: Any, alert_id: int) -> dict[str, Any]:
    """Slack and email of an alert, retried with backoff on transient failures;
    after the last retry the channels still pending are marked FAILED."""
    try:
        return alerts.deliver(alert_id)
    except alerts.DeliveryFailed:
        if self.request.retries >= self.max_retries:
            alerts.give_up(alert_id)
            return {"alert": alert_id, "gave_up": True}
        raise


@task(task_names.CHECK_DELIVERY_RATES)
def check_delivery_rates() -> dict[str, int]:
    """Beat (every 15 minutes): mappings' 24-hour successful delivery rate alerts."""
    return alerts.check_delivery_rates()


@task(task_names.SCHEDULED_SYNC)
def scheduled_sync(mapping_id: int) -> dict[str, Any]:
    """Beat sends this per scheduled mapping (its PeriodicTask rows, services.schedules)."""
    return schedules.run_scheduled(mapping_id)


@task(task_names.RESUME_STALE_SYNCS)
def resume_stale_syncs() -> list[str]:
    """Beat runs this every 5 minutes (a PeriodicTask row from migration 0005)."""
    return schedules.resume_stale_syncs()
