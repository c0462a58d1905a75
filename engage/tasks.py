"""The engage app's Celery tasks (entry points only: they take ids and call services)."""

from __future__ import annotations

from typing import Any

from engage import task_names
from engage.services import (
    computation_exports,
    computation_runs,
    computation_windows,
    csv_upload,
    destination_syncs,
    feed,
    insights,
    replay,
    spaces,
)
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


@task(task_names.DRAIN_FEED)
def drain_feed(space_id: int, source_id: int) -> dict[str, Any]:
    """Queued after a delivery batch of a connected source was observed: resolve
    the (space, source) queue into the space's identity graph, in order."""
    return feed.drain(space_id, source_id)


@task(task_names.SWEEP_FEED)
def sweep_feed() -> int:
    """Beat runs this every 5 minutes (a PeriodicTask row from an engage migration):
    drains queues, and queues again CSV uploads and replays, whose task message was
    lost or whose worker died."""
    return feed.requeue_stalled() + csv_upload.requeue_stalled() + replay.requeue_stalled()


@task(task_names.PRUNE_INSIGHTS, soft_time_limit=3600)
def prune_insights() -> int:
    """Beat runs this daily (a PeriodicTask row from an engage migration): Profiles
    Insights keep 30 days."""
    return insights.prune_insights()


@task(task_names.REPLAY_SOURCE)
def replay_source(
    space_source_id: int,
    since: str,
    until: str,
    after_time: str | None = None,
    after_id: int | None = None,
) -> dict[str, Any]:
    """One chunk of a source's replay into a space; queues the next chunk itself."""
    return replay.replay_chunk(space_source_id, since, until, after_time, after_id)


@task(task_names.PROCESS_CSV_UPLOAD, soft_time_limit=3600)
def process_csv_upload(upload_id: int) -> dict[str, Any]:
    """Queued after the commit that stored a profiles CSV: validate every row, then
    apply the file through identity resolution unless a row is bad."""
    return csv_upload.process_upload(upload_id)


@task(task_names.COMPUTE_COMPUTATION, bind=True, soft_time_limit=3600)
def compute_computation(self: Any, run_id: int) -> dict[str, Any]:
    """One attempt at an audience or computed trait run, resuming at its first step
    not done. A failed attempt is retried with backoff up to 5 times, then the run
    is FAILED (the service records each error and the final state)."""
    try:
        return computation_runs.execute(run_id)
    except computation_runs.Waiting:
        # A referenced audience or trait is computed first: not an attempt.
        computation_runs.enqueue(run_id, countdown=computation_runs.WAIT_SECONDS)
        return {"run": run_id, "waiting": True}
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


@task(task_names.SCHEDULE_COMPUTATIONS)
def schedule_computations() -> int:
    """Beat runs this every 5 minutes (a PeriodicTask row from migration 0009): a run
    for each batch audience and trait due by its space's cadence; and destination
    syncs whose task message was lost (or whose worker died) queued again."""
    runs = computation_runs.schedule_due()
    destination_syncs.requeue_stalled()
    return len(runs)


@task(task_names.EXPORT_COMPUTATION, soft_time_limit=3600)
def export_computation(export_id: int) -> dict[str, Any]:
    """Queued after the commit that asked for an audience's or trait's CSV: write the
    snapshot of its current members into the export's row."""
    return computation_exports.build_export(export_id)


@task(task_names.SYNC_COMPUTATION_DESTINATION, bind=True, soft_time_limit=3600)
def sync_computation_destination(self: Any, connection_id: int) -> dict[str, Any]:
    """Queued after a commit that connected a destination to an audience or trait, or
    recorded changes of one: send the backfill or the history after the connection's
    cursor. A failed attempt is retried with backoff up to 5 times, then the
    connection is FAILED (the service records each error and audits it)."""
    try:
        return destination_syncs.sync(connection_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


@task(task_names.CHECK_WINDOWS, soft_time_limit=600)
def check_windows() -> int:
    """Beat runs this every minute (a PeriodicTask row from an engage migration):
    real-time audiences and traits whose time windows moved members in or out
    with no new event; returns how many computations changed."""
    return sum(len(s.changed) for s in computation_windows.check_windows())
