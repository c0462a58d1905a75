# ruff: noqa: S608 - SQL text holds only our table names; values are parameters.
"""Syncing audiences and computed traits to their connected destinations (issue 15,
engage.md §5.8), one connection (``ComputationDestination``) at a time.

What is sent is decided by a cursor over the computation's history: each
connection's ``synced_change_id`` is the newest ``ComputationChange`` it handed to
delivery.

- First sync (a new connection, or the first run's destinations): the backfill,
  every current member / value (``computation_sync.initial_changes``), read in
  one statement together with the newest history id, which becomes the cursor.
  History rows of one computation are written under its row lock, so their ids
  grow in commit order and nothing below the cursor can appear later.
- Afterwards: the history rows after the cursor, in id order and in chunks: a
  batch run's entries / exits / values (``run`` set) or real-time ones
  (``run`` null), so a real-time change is synced like a run's.

Each chunk is stored for delivery (``computation_sync.send``, the delivery outbox)
in the same transaction that moves the cursor, under the connection's row lock:
a retried or redelivered task resumes at the cursor, and a chunk is never stored
twice. The messageIds are deterministic (``run-<run id>`` or ``change-<history
id>``, or ``backfill-<connection>-<cursor>``, with the destination, profile,
identifier and call), so even a resend would be deduplicated by the pipeline.

``queue_sync`` (in the caller's transaction) queues the task after the commit;
``computation_runs.sync_changes`` calls ``changes_recorded`` for every run and
real-time update that changed something. A failed attempt is recorded on the
connection (``last_error``, ``attempts``) and audited like a compute failure;
after ``MAX_RETRIES`` retries the connection is FAILED until its next sync. The
beat's ``requeue_stalled`` queues again a sync pending for longer than
``STALE_AFTER`` (a lost task message, a dead worker)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection as db
from django.db import transaction
from django.utils import timezone

from engage import task_names
from engage.choices import AuditAction
from engage.models import (
    Computation,
    ComputationChange,
    ComputationDestination,
    ComputationKind,
    ComputationMember,
    SyncState,
)
from engage.services import computation_sync
from engage.services.computation_sync import Change, ComputationRef, SyncSettings
from switchyard.access import Principal
from workspace.services import audit

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
CHUNK = 2000  # history rows per transaction
STALE_AFTER = dt.timedelta(minutes=15)  # longer than a task's five retries' backoff

CHANGES = ComputationChange._meta.db_table
MEMBERS = ComputationMember._meta.db_table


# -- queueing ---------------------------------------------------------------------------------


def enqueue(connection_id: int) -> None:
    from switchyard.celery import app

    try:
        app.send_task(
            task_names.SYNC_COMPUTATION_DESTINATION, args=[connection_id], queue="default"
        )
    except Exception:
        # The connection stays PENDING; the next change (or run) queues it again.
        logger.exception("could not queue the sync of computation destination %s", connection_id)


def queue_sync(connection: ComputationDestination) -> None:
    """Mark the connection PENDING and queue its sync after the commit (call it
    inside the transaction that holds the connection's row)."""
    if connection.sync_state != SyncState.PENDING:
        connection.sync_state = SyncState.PENDING
        connection.save(update_fields=["sync_state", "update_time"])
    connection_id = connection.pk
    transaction.on_commit(lambda: enqueue(connection_id))


def changes_recorded(computation: Computation) -> None:
    """History rows were written for ``computation`` in the current transaction:
    its connections' syncs are queued after the commit. Rows a sync holds are
    left as they are (that sync, or the task queued here, picks the rows up)."""
    ids = list(
        ComputationDestination.objects.filter(computation=computation).values_list("pk", flat=True)
    )
    if not ids:
        return
    ComputationDestination.objects.filter(
        pk__in=ComputationDestination.objects.select_for_update(skip_locked=True)
        .filter(pk__in=ids)
        .exclude(sync_state=SyncState.PENDING)
        .values("pk")
    ).update(sync_state=SyncState.PENDING, update_time=timezone.now())
    transaction.on_commit(lambda: _enqueue_all(ids))


def _enqueue_all(ids: list[int]) -> None:
    for connection_id in ids:
        enqueue(connection_id)


def requeue_stalled(now: dt.datetime | None = None) -> int:
    """Queue again the syncs pending (or syncing) for longer than ``STALE_AFTER``:
    their task message was lost or their worker died (the beat calls this). A twin
    of a live sync waits for its row lock and finds nothing left to send."""
    moment = now or timezone.now()
    stale = list(
        ComputationDestination.objects.filter(
            sync_state__in=(SyncState.PENDING, SyncState.SYNCING),
            update_time__lte=moment - STALE_AFTER,
        ).values_list("pk", flat=True)
    )
    for connection_id in stale:
        enqueue(connection_id)
    return len(stale)


# -- a sync -----------------------------------------------------------------------------------


def ref_of(computation: Computation) -> ComputationRef:
    space = computation.space.key_id
    if computation.kind == ComputationKind.AUDIENCE:
        return ComputationRef("audience", computation.key_id, computation.key, space)
    return ComputationRef("trait", computation.key_id, computation.key, space)


def settings_of(connection: ComputationDestination) -> SyncSettings:
    return SyncSettings(
        destination_id=connection.destination_id,
        send_identify=connection.send_identify,
        send_track=connection.send_track,
        entered_event=connection.entered_event,
        exited_event=connection.exited_event,
        trait_event=connection.trait_event,
        include_anonymous=connection.include_anonymous,
    )


def _lock(connection_id: int) -> ComputationDestination | None:
    return (
        ComputationDestination.objects.select_for_update(of=("self",))
        .select_related("computation__space__workspace", "destination")
        .filter(pk=connection_id)
        .first()
    )


def sync(connection_id: int) -> dict[str, Any]:
    """One attempt at bringing a connection up to date (backfill first, then the
    history after its cursor). Raises the attempt's error while retries remain."""
    with transaction.atomic():
        connection = _lock(connection_id)
        if connection is None:
            return {"connection": connection_id, "skipped": True}
        connection.sync_state = SyncState.SYNCING
        connection.save(update_fields=["sync_state", "update_time"])
    profiles = messages = 0
    try:
        while True:
            with transaction.atomic():
                connection = _lock(connection_id)
                if connection is None:  # disconnected meanwhile
                    return {"connection": connection_id, "skipped": True}
                if connection.synced_change_id is None:
                    sent, more = _backfill(connection), False
                else:
                    sent, more = _changes(connection)
                profiles += sent[0]
                messages += sent[1]
                connection.profiles_synced += sent[0]
                connection.messages_sent += sent[1]
                fields = ["synced_change_id", "profiles_synced", "messages_sent", "update_time"]
                if connection.backfill_time is None:
                    connection.backfill_time = timezone.now()
                    fields.append("backfill_time")
                if not more:
                    connection.sync_state = SyncState.SYNCED
                    connection.last_sync_time = timezone.now()
                    connection.last_error, connection.attempts = "", 0
                    fields += ["sync_state", "last_sync_time", "last_error", "attempts"]
                connection.save(update_fields=fields)
            if not more:
                break
    except Exception as exc:
        if fail_attempt(connection_id, exc):
            return {"connection": connection_id, "failed": True}
        raise
    return {"connection": connection_id, "profiles": profiles, "messages": messages}


def _send(
    connection: ComputationDestination, batches: list[tuple[str, Any, list[Change]]]
) -> tuple[int, int]:
    """Build and store the messages of ``batches`` ((message id seed, timestamp,
    changes)); returns (profiles, messages)."""
    computation = connection.computation
    ref, settings = ref_of(computation), settings_of(connection)
    profile_ids = {c.profile_id for _, _, changes in batches for c in changes}
    if not profile_ids:
        return 0, 0
    identifiers = computation_sync.load_identifiers(computation.space_id, profile_ids)
    messages: list[dict[str, Any]] = []
    for seed, at, changes in batches:
        messages += computation_sync.messages_for(
            ref, settings, changes, identifiers, run_id=seed, timestamp=at
        )
    if messages:
        computation_sync.send(computation.space, [connection.destination_id], messages)
    return len(profile_ids), len(messages)


def _backfill(connection: ComputationDestination) -> tuple[int, int]:
    """Every current member / value; the cursor becomes the newest history row
    (read in the same statement, so the same snapshot)."""
    computation = connection.computation
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT coalesce(max(id), 0) FROM {CHANGES} WHERE computation_id = %(c)s), "
            "(SELECT coalesce(jsonb_agg(jsonb_build_array(profile_id, value)), '[]'::jsonb) "
            f"FROM {MEMBERS} WHERE computation_id = %(c)s)",
            {"c": computation.pk},
        )
        row = cursor.fetchone()
    assert row is not None
    newest, members = row[0], row[1]
    if isinstance(members, str):
        members = json.loads(members)
    ref = ref_of(computation)
    current: Any = (
        {pid for pid, _ in members}
        if ref.kind == computation_sync.AUDIENCE
        else {pid: value for pid, value in members}
    )
    changes = computation_sync.initial_changes(ref, current)
    seed = f"backfill-{connection.pk}-{newest}"
    sent = _send(connection, [(seed, timezone.now(), changes)])
    connection.synced_change_id = newest
    return sent


def _changes(connection: ComputationDestination) -> tuple[tuple[int, int], bool]:
    """The next chunk of history after the cursor; (sent, whether more remain)."""
    rows = list(
        ComputationChange.objects.filter(
            computation_id=connection.computation_id, pk__gt=connection.synced_change_id
        )
        .order_by("pk")
        .values_list("pk", "run_id", "profile_id", "old", "new", "time")[: CHUNK + 1]
    )
    more = len(rows) > CHUNK
    rows = rows[:CHUNK]
    if not rows:
        return (0, 0), False
    batches: list[tuple[str, Any, list[Change]]] = []
    for pk, run_id, profile_id, old, new, at in rows:
        seed = f"run-{run_id}" if run_id is not None else f"change-{pk}"
        change = Change(profile_id, old, new)
        if batches and batches[-1][0] == seed and run_id is not None:
            batches[-1][2].append(change)
        else:
            batches.append((seed, at, [change]))
    sent = _send(connection, batches)
    connection.synced_change_id = rows[-1][0]
    return sent, more


def fail_attempt(connection_id: int, exc: BaseException) -> bool:
    """Record a failed attempt (audited, as compute failures are); after
    ``MAX_RETRIES`` retries the connection is FAILED (True: do not retry)."""
    message = f"{type(exc).__name__}: {exc}"[:500]
    with transaction.atomic():
        connection = _lock(connection_id)
        if connection is None:
            return True
        connection.attempts += 1
        final = connection.attempts > MAX_RETRIES
        connection.last_error = message
        connection.sync_state = SyncState.FAILED if final else SyncState.PENDING
        connection.save(update_fields=["attempts", "last_error", "sync_state", "update_time"])
        if final:
            connection.attempts = 0  # the next sync starts a new series
            connection.save(update_fields=["attempts"])
        computation = connection.computation
        audit.record(
            Principal(AnonymousUser()),
            AuditAction.AUDIENCE_SYNC_FAILED
            if computation.kind == ComputationKind.AUDIENCE
            else AuditAction.COMPUTED_TRAIT_SYNC_FAILED,
            workspace=computation.space.workspace,
            resource_name=f"{computation.resource_name}/destinations/"
            f"{connection.destination.key_id}",
            after={"destination": connection.destination.key_id, "error": message, "final": final},
        )
    return final
