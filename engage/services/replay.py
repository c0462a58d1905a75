"""Replay (backfill): a source's stored events resolved into a space it was
connected to, oldest to newest, by a self-continuing Celery task.

``start_replay`` (called by the space connection service, in its transaction)
marks the SpaceSource QUEUED and, after the commit, queues the first chunk:
events received in the last ``days`` (default 30, the event store's retention)
up to the moment of the request; events received later reach the space through
the feed. Each chunk is one transaction under the feed's lock on (space,
source), so it never interleaves with a live batch of the source; it adds to
``replayed`` and queues the next chunk after its commit. Resolution is
idempotent on messageId, so an event both replayed and fed, or a chunk run
twice (a worker that died after its commit), changes nothing in the graph (a
chunk run twice counts twice in ``replayed``).
"""

from __future__ import annotations

import datetime as dt
import logging
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connections.dataplane.event_store import source_events
from engage import task_names
from engage.models import SpaceSource
from engage.services import feed

logger = logging.getLogger("engage.replay")

REPLAY_DAYS = 30
CHUNK = 1000


class ReplayStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"


def start_replay(space_source: SpaceSource, *, days: int = REPLAY_DAYS) -> None:
    """Backfill the space with the source's events of the last ``days`` days."""
    until = timezone.now()
    since = until - dt.timedelta(days=days)
    SpaceSource.objects.filter(pk=space_source.pk).update(
        replay_status=ReplayStatus.QUEUED, replayed=0
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
    with transaction.atomic():
        space_source = (
            SpaceSource.objects.select_related("space").filter(pk=space_source_id).first()
        )
        if space_source is None:  # disconnected (or the space deleted): stop
            return {"space_source": space_source_id, "skipped": "disconnected"}
        feed.lock_pair(space_source.space_id, space_source.source_id)
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
        after_next = [events[-1].received_at.isoformat(), events[-1].id] if more else None
        SpaceSource.objects.filter(pk=space_source_id).update(
            replayed=F("replayed") + len(events),
            replay_status=ReplayStatus.RUNNING if more else ReplayStatus.FINISHED,
        )
        if after_next is not None:
            args = [space_source_id, since, until, *after_next]
            transaction.on_commit(lambda: _enqueue(args))
    return {"space_source": space_source_id, "events": len(events), "next": after_next}
