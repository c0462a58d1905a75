"""Store what the Tracking API accepted: one statement, one transaction.

``ingest`` runs a single SQL statement (data-modifying CTEs) inside one
transaction, so a request costs one round trip plus the commit:

1. ``src``: the source behind the write key, if the key is active (the
   authentication check: a revoked key finds nothing and stores nothing);
2. ``fresh``: the request's messageIds go into ``connections_eventmessage``
   (``ON CONFLICT``: a messageId the source sent in the last 24 hours is a
   duplicate; an older one is taken again and its time renewed), in sorted
   order so that concurrent requests lock them in the same order;
3. ``stored``: the events whose messageId was fresh, in request order;
4. ``batch``: the delivery outbox row naming the new event ids;
5. ``counted``: the per-minute ingest counters (accepted, duplicate, or
   dropped because the source is disabled); accepted events are counted per
   event type (the type as reason), for the source page's volume chart. The
   ingest gates' counts (``connections.dataplane.gates``: events a gate
   dropped, fields it blocked) are added here too, unless the source is disabled.

After the commit (``transaction.on_commit``) the delivery task is enqueued with
the batch id; if Redis is unreachable the sweeper finds the batch later, so a
lost enqueue is a delay, not lost data. A 200 is only answered after the
commit returned.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from django.db import connection, transaction

from connections import task_names
from connections.dataplane.tracking.validation import Row

logger = logging.getLogger("switchyard.tracking")

DELIVER_TASK = task_names.DELIVER_BATCH

# The source: behind an active write key (the Tracking API), or named by id (a
# producer inside Switchyard, ``ingest_for_source``). The rest of the statement is shared.
_SOURCE_BY_KEY = """
WITH src AS (
    SELECT s.id, s.workspace_id, s.enabled
    FROM connections_writekey k JOIN connections_source s ON s.id = k.source_id
    WHERE k.secret = %(key)b AND k.revoke_time IS NULL
),"""
_SOURCE_BY_ID = """
WITH src AS (
    SELECT s.id, s.workspace_id, s.enabled FROM connections_source s WHERE s.id = %(source)b
),"""

_STORE_REST = """
fresh AS (
    INSERT INTO connections_eventmessage (source_id, message_id, received_at)
    SELECT src.id, m.message_id, %(at)b
    FROM src CROSS JOIN unnest(%(sorted_ids)b::text[]) AS m(message_id)
    WHERE src.enabled
    ORDER BY m.message_id
    ON CONFLICT (source_id, message_id) DO UPDATE SET received_at = EXCLUDED.received_at
        WHERE connections_eventmessage.received_at < EXCLUDED.received_at - interval '24 hours'
    RETURNING message_id
),
stored AS (
    INSERT INTO connections_event (received_at, workspace_id, source_id, message_id, type,
        event_name, user_id, anonymous_id, timestamp, payload)
    SELECT %(at)b, src.workspace_id, src.id, r.message_id, r.type, r.event_name, r.user_id,
        r.anonymous_id, r.ts, r.payload::jsonb
    FROM unnest(
        %(ids)b::text[], %(types)b::text[], %(names)b::text[], %(user_ids)b::text[],
        %(anonymous_ids)b::text[], %(timestamps)b::timestamptz[], %(payloads)b::text[]
    ) WITH ORDINALITY AS r(message_id, type, event_name, user_id, anonymous_id, ts, payload, n)
    JOIN fresh ON fresh.message_id = r.message_id
    CROSS JOIN src
    ORDER BY r.n
    RETURNING id, type
),
batch AS (
    INSERT INTO connections_deliverybatch (source_id, received_at, event_ids, create_time, attempts)
    SELECT (SELECT id FROM src), %(at)b, array_agg(id ORDER BY id), now(), 0 FROM stored
    HAVING count(*) > 0
    RETURNING id
),
counted AS (
    INSERT INTO connections_pipelinecount
        (workspace_id, source_id, destination_id, bucket, stage, outcome, reason, count)
    SELECT src.workspace_id, src.id, 0, %(bucket)b, 'ingest', v.outcome, v.reason, v.n
    FROM src CROSS JOIN LATERAL (
        SELECT 'accepted', stored.type, count(*) FROM stored WHERE src.enabled GROUP BY stored.type
        UNION ALL VALUES
        ('dropped', 'source_disabled', CASE WHEN src.enabled THEN 0 ELSE %(total)b END),
        ('duplicate', '',
            CASE WHEN src.enabled THEN %(total)b - (SELECT count(*) FROM stored) ELSE 0 END)
        UNION ALL
        SELECT g.outcome, g.reason, g.n
        FROM unnest(%(gate_outcomes)b::text[], %(gate_reasons)b::text[], %(gate_counts)b::int8[])
            AS g(outcome, reason, n)
        WHERE src.enabled
    ) AS v(outcome, reason, n)
    WHERE v.n > 0
    ORDER BY v.outcome, v.reason
    ON CONFLICT (source_id, destination_id, bucket, stage, outcome, reason)
    DO UPDATE SET count = connections_pipelinecount.count + EXCLUDED.count
)
SELECT src.id, src.workspace_id, src.enabled, (SELECT id FROM batch),
    (SELECT count(*) FROM stored)
FROM src
"""

STORE = _SOURCE_BY_KEY + _STORE_REST
STORE_FOR_SOURCE = _SOURCE_BY_ID + _STORE_REST


@dataclass(frozen=True, slots=True)
class Ingested:
    source_id: int
    workspace_id: str
    enabled: bool
    batch_id: int | None
    stored: int  # new events
    duplicates: int  # messageIds seen before (in this request or the last 24 hours)


def ingest(
    write_key: str,
    rows: Sequence[Row],
    *,
    received_at: dt.datetime,
    counts: Sequence[tuple[str, str, int]] = (),
) -> Ingested | None:
    """Store ``rows`` for the source of ``write_key``; ``None`` when the key is unknown
    or revoked (nothing is stored then). Returns once the transaction committed.

    ``counts`` (``(outcome, reason, n)``, each pair once, none of ingest's own) are
    what the gates did to the request, counted in the same statement. ``rows`` may
    be empty (a gate dropped every message): the key is still authenticated."""
    if "\x00" in write_key:  # PostgreSQL text cannot hold NUL, so no key does
        return None
    return _store(STORE, {"key": write_key}, rows, received_at, counts)


def ingest_for_source(
    source_id: int, rows: Sequence[Row], *, received_at: dt.datetime
) -> Ingested | None:
    """Store ``rows`` for the source ``source_id`` as ``ingest`` does for a write key
    (same statement: 24-hour messageId dedupe, the delivery outbox, the counters),
    for messages a producer inside Switchyard makes rather than receives: Engage's
    audience and computed trait syncs (``engage.services.computation_sync``), which
    send through the source their destinations are connected to. ``None`` when the
    source does not exist; a disabled source stores nothing, as with a write key.
    ``rows`` come from ``tracking.validation.normalize``."""
    return _store(STORE_FOR_SOURCE, {"source": source_id}, rows, received_at, ())


def _store(
    statement: str,
    source: dict[str, object],
    rows: Sequence[Row],
    received_at: dt.datetime,
    counts: Sequence[tuple[str, str, int]],
) -> Ingested | None:
    first: dict[str, Row] = {}
    for row in rows:  # a messageId repeated within the request: the first one counts
        first.setdefault(row.message_id, row)
    unique = list(first.values())
    params = {
        **source,
        "at": received_at,
        "bucket": received_at.replace(second=0, microsecond=0),
        "total": len(rows),
        "sorted_ids": sorted(row.message_id for row in unique),
        "ids": [row.message_id for row in unique],
        "types": [row.type for row in unique],
        "names": [row.event_name for row in unique],
        "user_ids": [row.user_id for row in unique],
        "anonymous_ids": [row.anonymous_id for row in unique],
        "timestamps": [row.timestamp for row in unique],
        "payloads": [row.payload for row in unique],
        "gate_outcomes": [c[0] for c in counts],
        "gate_reasons": [c[1] for c in counts],
        "gate_counts": [c[2] for c in counts],
    }
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        assert raw is not None
        # Server-side binding in binary format (%b): the arrays travel as binary
        # parameters (text-format array quoting costs ~40x more), and the
        # statement is prepared once per connection.
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(statement, params, prepare=True)
            found = cursor.fetchone()
        if found is None:
            return None
        source_id, workspace_id, enabled, batch_id, stored = found
        if batch_id is not None:
            transaction.on_commit(lambda: _enqueue_after_commit(batch_id))
    return Ingested(
        source_id=source_id,
        workspace_id=workspace_id,
        enabled=enabled,
        batch_id=batch_id,
        stored=stored,
        duplicates=len(rows) - stored if enabled else 0,
    )


def enqueue_delivery(batch_id: int) -> None:
    from switchyard.celery import app

    app.send_task(DELIVER_TASK, args=[batch_id], queue="default")


def _enqueue_after_commit(batch_id: int) -> None:
    # The events are committed and the client gets its 200 whatever happens here:
    # a batch that could not be enqueued waits for the sweeper.
    try:
        enqueue_delivery(batch_id)
    except Exception:
        logger.exception("could not enqueue delivery batch %s; the sweeper will", batch_id)
