"""The feed from the data plane into a space's identity graph.

``EngageConfig.ready`` registers ``observe_batch`` with
``connections.dataplane.observers``: the delivery worker calls it once per
delivery batch, after the ingest commit. For every space the batch's source is
connected to, it queues the batch (event ids and their partition, never
payloads) as a ``PendingBatch`` row in the observer's transaction, and after
the commit a Celery task drains that (space, source) queue.

Order per profile key: a drain resolves one (space, source) queue oldest batch
first (by first event id: the ingest order) under an advisory lock on the pair,
so batches of one source never interleave or overtake each other, whatever
worker runs them; events within a batch keep their order. A backlog goes
through the resolver up to 1,000 events (consecutive batches) per call and
transaction: its cost is mostly per call. Different sources of one space (and
replays) run in parallel: the resolver's own advisory locks serialize them per
identifier. Idempotency is the resolver's (one ProfileEvent per space, source
and messageId), so a batch resolved twice (a worker that died after its
commit) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from connections.dataplane.delivery.claims import StoredEvent, load_events
from connections.dataplane.observers import BatchEvent
from engage import task_names
from engage.models import IdentityLog, InsightKind, PendingBatch, Space, SpaceSource
from engage.services import computation_runs, resolution

logger = logging.getLogger("engage.feed")

# pg_advisory_xact_lock(FEED_LOCK, hashtext(pair)): the two-key lock space, apart
# from the resolver's one-key identifier locks (no collision can deadlock them).
FEED_LOCK = 1_400_014
# A drain resolves a backlog in calls of up to this many events (the resolver's
# cost per call is mostly per statement, not per event: a backlog catches up
# faster), and runs this many transactions before it queues itself again
# (other queues' turn).
EVENTS_PER_TRANSACTION = 1000
BATCHES_PER_TRANSACTION = 100
TRANSACTIONS_PER_RUN = 10
RETRY_SECONDS = 5
# A queued batch older than this is swept (engage.sweep_feed, every 5 minutes):
# far longer than a drain's retry, so the sweep rarely queues a drain beside one.
STALLED_AFTER = dt.timedelta(minutes=2)


def observe_batch(workspace_id: str, source_id: int, events: Sequence[BatchEvent]) -> int:
    """Queue the batch for each space the source is connected to; returns how many."""
    space_ids = list(
        SpaceSource.objects.filter(source_id=source_id).values_list("space_id", flat=True)
    )
    if not space_ids:
        return 0
    parts: dict[dt.datetime, list[int]] = {}
    for event in events:  # one partition per delivery batch; grouped all the same
        parts.setdefault(event.received_at, []).append(event.id)
    PendingBatch.objects.bulk_create(
        PendingBatch(
            space_id=space_id,
            source_id=source_id,
            received_at=received_at,
            event_ids=ids,
            first_event_id=min(ids),
        )
        for space_id in space_ids
        for received_at, ids in parts.items()
    )
    for space_id in space_ids:
        transaction.on_commit(partial(enqueue_drain, space_id, source_id))
    return len(space_ids)


def enqueue_drain(space_id: int, source_id: int, countdown: float | None = None) -> None:
    from switchyard.celery import app

    try:
        app.send_task(
            task_names.DRAIN_FEED,
            args=[space_id, source_id],
            queue="default",
            countdown=countdown,
        )
    except Exception:
        # The rows stay queued: the source's next batch drains them.
        logger.exception("could not queue the feed of space %s source %s", space_id, source_id)


def requeue_stalled(older_than: dt.timedelta = STALLED_AFTER) -> int:
    """Queue a drain for every (space, source) whose oldest queued batch waited
    longer than ``older_than``: its task message was lost, or its worker died,
    and no batch of the source came since. Returns how many were queued."""
    cutoff = timezone.now() - older_than
    pairs = (
        PendingBatch.objects.filter(create_time__lt=cutoff)
        .values_list("space_id", "source_id")
        .distinct()
    )
    queued = 0
    for space_id, source_id in pairs:
        enqueue_drain(space_id, source_id)
        queued += 1
    return queued


def lock_pair(space_id: int, source_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            [FEED_LOCK, f"{space_id}:{source_id}"],
        )


def resolve(space: Space, source_id: int, stored: Sequence[StoredEvent]) -> Any:
    """The stored events, as the resolver takes them, resolved into ``space``."""
    return resolution.resolve_events(
        space,
        [
            resolution.ResolverEvent(
                event_id=e.id,
                received_at=e.received_at,
                source_id=source_id,
                message_id=e.message_id,
                type=e.type,
                event_name=e.event_name,
                payload=e.payload,
            )
            for e in stored
        ],
    )


def drain(
    space_id: int,
    source_id: int,
    *,
    max_transactions: int = TRANSACTIONS_PER_RUN,
    max_events: int = EVENTS_PER_TRANSACTION,
) -> dict[str, Any]:
    """Resolve the (space, source) queue in order: per transaction the oldest
    batches, up to ``max_events`` events (at least one batch), in one call."""
    space = Space.objects.filter(pk=space_id).first()
    if space is None:
        return {"space": space_id, "skipped": "space deleted"}
    batches = events = 0
    for _ in range(max_transactions):
        try:
            with transaction.atomic():
                lock_pair(space_id, source_id)
                taken = _oldest(space_id, source_id, max_events)
                if not taken:
                    return {"space": space_id, "batches": batches, "events": events}
                loaded = [(p, load_events(p.received_at, p.event_ids)) for p in taken]
                _resolve_or_log(space, source_id, loaded)
                PendingBatch.objects.filter(pk__in=[p.pk for p in taken]).delete()
        except OperationalError:
            # A deadlock, a lost connection: the batches are still queued; run again later.
            logger.warning(
                "feed of space %s source %s: retrying", space_id, source_id, exc_info=True
            )
            enqueue_drain(space_id, source_id, countdown=RETRY_SECONDS)
            return {"space": space_id, "batches": batches, "events": events, "retry": True}
        batches += len(taken)
        events += sum(len(stored) for _, stored in loaded)
        # Committed: the space's real-time audiences and traits, for those profiles.
        messages = [e.message_id for _, stored in loaded for e in stored]
        computation_runs.reevaluate_messages(space_id, source_id, messages)
    transaction.on_commit(lambda: enqueue_drain(space_id, source_id))
    return {"space": space_id, "batches": batches, "events": events, "more": True}


def _oldest(space_id: int, source_id: int, max_events: int) -> list[PendingBatch]:
    """The queue's oldest batches holding at most ``max_events`` events in all
    (the first one whatever its size)."""
    taken: list[PendingBatch] = []
    count = 0
    rows = PendingBatch.objects.filter(space_id=space_id, source_id=source_id).order_by(
        "first_event_id", "id"
    )
    for row in rows[:BATCHES_PER_TRANSACTION]:
        if taken and count + len(row.event_ids) > max_events:
            break
        taken.append(row)
        count += len(row.event_ids)
    return taken


def _resolve_or_log(
    space: Space, source_id: int, loaded: Sequence[tuple[PendingBatch, list[StoredEvent]]]
) -> None:
    """The batches' events in one call; if the resolver fails on them, each batch
    again alone, and one it still fails on is logged in Profiles Insights and
    dropped: one bad batch must not block the source's queue behind it."""
    stored = [event for _, events in loaded for event in events]
    if not stored:
        return
    try:
        with transaction.atomic():
            resolve(space, source_id, stored)
        return
    except OperationalError:
        raise
    except Exception:
        if len(loaded) == 1:
            _log_failure(space, source_id, *loaded[0])
            return
        logger.warning("resolving %d batches failed: one at a time", len(loaded), exc_info=True)
    for pending, events in loaded:
        _resolve_or_log(space, source_id, [(pending, events)])


def _log_failure(
    space: Space, source_id: int, pending: PendingBatch, stored: Sequence[StoredEvent]
) -> None:
    logger.exception("identity resolution failed on %d event(s)", len(stored))
    IdentityLog.objects.create(
        space=space,
        kind=InsightKind.ERROR,
        code="processing_failed",
        message=f"Identity resolution failed on a batch of {len(stored)} event(s).",
        message_id=stored[0].message_id,
        source_id=source_id,
        detail={"event_ids": list(pending.event_ids)[:100]},
        time=timezone.now(),
    )
