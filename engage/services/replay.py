"""Replay (backfill): a source's stored events resolved into a space it was
connected to, oldest to newest, by a self-continuing Celery task.

``start_replay`` (called by the space connection service, in its transaction)
marks the SpaceSource QUEUED and, after the commit, queues the first chunk:
events received in the last ``days`` (default 30, the event store's retention)
up to the moment of the request; events received later reach the space through
the feed. Each chunk is one transaction under the feed's lock on (space,
source), so it never interleaves with a live batch of the source; it adds to
``replayed`` and queues the next chunk after its commit. Resolution is
idempotent on messageId, so an event both replayed and fed changes nothing in
the graph.

The row keeps the replay's window and the last event applied: a chunk whose
starting point is no longer the stored one (a redelivered or duplicated task)
does nothing, and beat's ``engage.sweep_feed`` queues a replay that made no
progress for ``STALLED_AFTER`` again from where it got to (a lost task message,
a dead worker), ``MAX_RESTARTS`` times in a row at most before it marks it
FAILED. A chunk that fails otherwise (not a deadlock or lost connection) rolls
back and marks the replay FAILED with the reason: what was replayed stays.
"""

from __future__ import annotations

import datetime as dt
import logging
from enum import StrEnum
from typing import Any

from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from connections.dataplane.event_store import source_events
from engage import task_names
from engage.models import SpaceSource
from engage.services import computation_runs, feed

logger = logging.getLogger("engage.replay")

REPLAY_DAYS = 30
CHUNK = 1000
# A chunk commits in seconds: a replay without one for this long lost its task
# message or its worker. Restarted this many times in a row without progress, it fails.
STALLED_AFTER = dt.timedelta(minutes=15)
MAX_RESTARTS = 3


class ReplayStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"


ACTIVE = (ReplayStatus.QUEUED, ReplayStatus.RUNNING)


def start_replay(space_source: SpaceSource, *, days: int = REPLAY_DAYS) -> None:
    """Backfill the space with the source's events of the last ``days`` days."""
    until = timezone.now()
    since = until - dt.timedelta(days=days)
    SpaceSource.objects.filter(pk=space_source.pk).update(
        replay_status=ReplayStatus.QUEUED,
        replayed=0,
        replay_since=since,
        replay_until=until,
        replay_after_time=None,
        replay_after_id=None,
        replay_progress_time=until,
        replay_restarts=0,
        replay_failure="",
    )
    space_source.replay_status, space_source.replayed = ReplayStatus.QUEUED, 0
    args = [space_source.pk, since.isoformat(), until.isoformat(), None, None]
    transaction.on_commit(lambda: _enqueue(args))


def _enqueue(args: list[Any]) -> None:
    from switchyard.celery import app

    try:
        app.send_task(task_names.REPLAY_SOURCE, args=args, queue="default")
    except Exception:
        logger.exception("could not queue the replay of space source %s", args[0])


def replay_chunk(
    space_source_id: int,
    since: str,
    until: str,
    after_time: str | None = None,
    after_id: int | None = None,
    *,
    chunk: int = CHUNK,
) -> dict[str, Any]:
    """Resolve the next ``chunk`` events; queues the following chunk if any are left."""
    after = (dt.datetime.fromisoformat(after_time), after_id) if after_time and after_id else None
    try:
        with transaction.atomic():
            space_source = (
                SpaceSource.objects.select_related("space").filter(pk=space_source_id).first()
            )
            if space_source is None:  # disconnected (or the space deleted): stop
                return {"space_source": space_source_id, "skipped": "disconnected"}
            feed.lock_pair(space_source.space_id, space_source.source_id)
            # Under the pair lock no other chunk of this replay runs: the row read
            # now says whether this chunk is still the one to run.
            space_source = (
                SpaceSource.objects.select_related("space").filter(pk=space_source_id).first()
            )
            if space_source is None:
                return {"space_source": space_source_id, "skipped": "disconnected"}
            stored = (space_source.replay_after_time, space_source.replay_after_id)
            if space_source.replay_status not in ACTIVE or stored != (after or (None, None)):
                # Finished, failed, or this chunk already ran (a redelivered message,
                # a restart beside a run that was only slow): running it again would
                # count its events twice.
                return {"space_source": space_source_id, "skipped": "superseded"}
            events = source_events(
                space_source.source_id,
                since=dt.datetime.fromisoformat(since),
                until=dt.datetime.fromisoformat(until),
                after=after,
                limit=chunk,
            )
            if events:
                feed.resolve(space_source.space, space_source.source_id, events)
            more = len(events) == chunk
            last = events[-1] if more else None
            SpaceSource.objects.filter(pk=space_source_id).update(
                replayed=F("replayed") + len(events),
                replay_status=ReplayStatus.RUNNING if more else ReplayStatus.FINISHED,
                replay_after_time=last.received_at if last else None,
                replay_after_id=last.id if last else None,
                replay_progress_time=timezone.now(),
                replay_restarts=0,
            )
            after_next = [last.received_at.isoformat(), last.id] if last else None
            if after_next is not None:
                args = [space_source_id, since, until, *after_next]
                transaction.on_commit(lambda: _enqueue(args))
    except OperationalError:
        # A deadlock or a lost connection: nothing of the chunk stayed; the sweep
        # queues it again from the stored position.
        raise
    except Exception as exc:
        logger.exception("replay of space source %s failed", space_source_id)
        reason = (
            f"Identity resolution failed on a chunk of the source's events "
            f"({type(exc).__name__}); the events before it were replayed, the rest were not."
        )
        _fail(space_source_id, reason)
        return {"space_source": space_source_id, "failed": reason}
    # Committed: the space's real-time audiences and traits, for the profiles the
    # chunk's events reached (as the feed does; never raises).
    computation_runs.reevaluate_messages(
        space_source.space_id, space_source.source_id, [e.message_id for e in events]
    )
    return {"space_source": space_source_id, "events": len(events), "next": after_next}


def _fail(space_source_id: int, reason: str) -> None:
    SpaceSource.objects.filter(pk=space_source_id, replay_status__in=ACTIVE).update(
        replay_status=ReplayStatus.FAILED, replay_failure=reason[:500]
    )


def _position_args(row: SpaceSource) -> list[Any]:
    """The task's arguments that go on from where ``row``'s replay got to."""
    until = row.replay_until or row.create_time
    since = row.replay_since or until - dt.timedelta(days=REPLAY_DAYS)
    after_time = row.replay_after_time.isoformat() if row.replay_after_time else None
    return [row.pk, since.isoformat(), until.isoformat(), after_time, row.replay_after_id]


def requeue_stalled(
    *, now: dt.datetime | None = None, older_than: dt.timedelta = STALLED_AFTER
) -> int:
    """Queue again, from where it got to, every replay that made no progress for
    ``older_than`` (its task message was lost or its worker died); one restarted
    ``MAX_RESTARTS`` times in a row without progress is marked FAILED instead.
    Returns how many were queued."""
    now = now or timezone.now()
    cutoff = now - older_than
    stalled = Q(replay_status__in=ACTIVE) & (
        Q(replay_progress_time__lt=cutoff)
        | Q(replay_progress_time__isnull=True, create_time__lt=cutoff)
    )
    queued = 0
    for row_id in SpaceSource.objects.filter(stalled).values_list("pk", flat=True):
        with transaction.atomic():
            row = (
                SpaceSource.objects.select_for_update(skip_locked=True)
                .filter(stalled, pk=row_id)
                .first()
            )
            if row is None:  # it moved on meanwhile
                continue
            if row.replay_restarts >= MAX_RESTARTS:
                _fail(
                    row.pk,
                    f"The replay stopped making progress (its task was lost or its worker "
                    f"stopped) and was restarted {MAX_RESTARTS} times without progress; gave up "
                    f"after {row.replayed:,} events. Disconnect and connect the source again to "
                    f"replay it.",
                )
                continue
            SpaceSource.objects.filter(pk=row.pk).update(
                replay_restarts=F("replay_restarts") + 1, replay_progress_time=now
            )
            args = _position_args(row)
        logger.warning("replay of space source %s stalled: queued again", row_id)
        _enqueue(args)
        queued += 1
    return queued
