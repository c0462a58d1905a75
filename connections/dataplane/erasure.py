"""Erasing end users' stored data: their events and every delivery record that
points at them (the Privacy Portal's deletion regulations call this).

What holds a user's data here, and what happens to it:

- ``connections_event``: the events whose ``userId`` is one of them, in the
  workspace, on every partition (anonymous events are kept: Segment deletes by
  userId, and an anonymousId is not tied to a user here);
- ``connections_delivery``: what was sent for those events (mapped payload,
  request, response excerpt): deleted;
- ``connections_deliverybatch`` (the outbox) and ``connections_deliveryprogress``:
  only event ids, removed from their arrays (a batch or progress row left empty
  is deleted), so a pending delivery cannot send an erased event;
- ``connections_eventmessage`` keeps (source, messageId, time) for dedupe and no
  user data: a retried copy of an erased message stays a duplicate for a day;
- ``connections_pipelinecount``: counts only.

Deletes go in batches of ``BATCH`` events, each batch one short transaction, so
a user with millions of events neither holds locks for long nor makes one huge
transaction. A delivery already running for an event when it is erased may still
send it and record its outcome afterwards (the send was already under way).

Stores of higher layers (Engage's profiles) register an eraser here
(``register``, from their AppConfig.ready); the regulation service, which may not
import them, runs them all with ``erase_elsewhere`` after the events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

BATCH = 1000
USERS_PER_QUERY = 1000

# One statement per batch: pick up to %(limit)s of the users' events (through the
# partial index on (workspace_id, user_id, received_at)) and delete them, with the
# partition key, so each partition prunes to its own rows.
_DELETE_EVENTS = """
DELETE FROM connections_event e
USING (
    SELECT id, received_at FROM connections_event
    WHERE workspace_id = %(workspace)s AND user_id = ANY(%(users)s) AND user_id <> ''
    LIMIT %(limit)s
) doomed
WHERE e.id = doomed.id AND e.received_at = doomed.received_at
RETURNING e.id
"""

_DELETE_DELIVERIES = """
DELETE FROM connections_delivery
WHERE event_id = ANY(%(ids)s::bigint[]) AND workspace_id = %(workspace)s
"""

# The outbox and progress rows hold ids only; drop the erased ones, keep the order.
_STRIP = """
UPDATE {table} SET event_ids = ARRAY(
    SELECT x FROM unnest(event_ids) WITH ORDINALITY AS t(x, n)
    WHERE x <> ALL(%(ids)s::bigint[]) ORDER BY n
)
WHERE event_ids && %(ids)s::bigint[]
RETURNING id, cardinality(event_ids)
"""

_ARRAY_TABLES = {
    "delivery_batches": "connections_deliverybatch",
    "delivery_progress": "connections_deliveryprogress",
}

COUNTED = ("events", "deliveries", *_ARRAY_TABLES)


def _strip_ids(cursor: CursorWrapper, table: str, ids: list[int]) -> int:
    """Remove ``ids`` from ``table``'s arrays; rows changed (emptied ones deleted)."""
    cursor.execute(_STRIP.format(table=table), {"ids": ids})
    changed = cursor.fetchall()
    emptied = [row_id for row_id, left in changed if left == 0]
    if emptied:
        cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [emptied])  # noqa: S608
    return len(changed)


def erase_users(
    workspace_id: str, user_ids: Sequence[str], *, batch: int = BATCH
) -> dict[str, int]:
    """Delete every stored event of ``user_ids`` in the workspace and what refers to
    them; how many rows each table lost (``delivery_*``: rows changed)."""
    counts = dict.fromkeys(COUNTED, 0)
    wanted = [u for u in dict.fromkeys(user_ids) if u]
    for start in range(0, len(wanted), USERS_PER_QUERY):
        users = wanted[start : start + USERS_PER_QUERY]
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    _DELETE_EVENTS, {"workspace": workspace_id, "users": users, "limit": batch}
                )
                ids = [row[0] for row in cursor.fetchall()]
                if not ids:
                    break
                counts["events"] += len(ids)
                cursor.execute(_DELETE_DELIVERIES, {"ids": ids, "workspace": workspace_id})
                counts["deliveries"] += cursor.rowcount
                for key, table in _ARRAY_TABLES.items():
                    counts[key] += _strip_ids(cursor, table, ids)
            if len(ids) < batch:
                break
    return counts


# (workspace id, user ids) -> rows removed per store
Eraser = Callable[[str, Sequence[str]], Mapping[str, int]]

_erasers: list[Eraser] = []


def register(eraser: Eraser) -> None:
    """Called from an AppConfig.ready; registering the same eraser twice is one."""
    if eraser not in _erasers:
        _erasers.append(eraser)


def erase_elsewhere(workspace_id: str, user_ids: Sequence[str]) -> dict[str, int]:
    """Run every registered eraser; their counts together. An eraser's error
    propagates: a regulation that could not erase everything must not finish."""
    counts: dict[str, int] = {}
    for eraser in _erasers:
        for key, value in eraser(workspace_id, user_ids).items():
            counts[key] = counts.get(key, 0) + value
    return counts
