"""The sweep (beat, every minute): batches nobody claimed in time or whose
worker died and retries that came due are queued again; old records pruned."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.db import connection

from connections import task_names
from connections.dataplane.delivery.claims import MAX_BATCH_CLAIMS
from connections.dataplane.delivery.records import chunks

logger = logging.getLogger("switchyard.delivery")

SWEEP_BATCHES = 500
SWEEP_RETRIES = 5000
RETRIES_PER_TASK = 500
PRUNE_ROWS = 10_000


def sweep_deliveries() -> dict[str, int]:
    """Queue again: batches nobody claimed in time (a lost enqueue) or whose claim
    expired (a dead worker), and retries that are due. Forget failed records older
    than the event retention."""
    from switchyard.celery import app

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id FROM connections_deliverybatch
            WHERE attempts < %s AND (
                (claim_time IS NULL
                 AND create_time < statement_timestamp() - make_interval(secs => %s))
                OR claim_time < statement_timestamp() - make_interval(secs => %s))
            ORDER BY id LIMIT %s
            """,
            [
                MAX_BATCH_CLAIMS,
                settings.DELIVERY_UNCLAIMED_SECONDS,
                settings.DELIVERY_CLAIM_SECONDS,
                SWEEP_BATCHES,
            ],
        )
        batches = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            """
            SELECT id, destination_id FROM connections_delivery
            WHERE status = 'retrying' AND next_attempt_at <= statement_timestamp()
              AND (claim_time IS NULL
                   OR claim_time < statement_timestamp() - make_interval(secs => %s))
            ORDER BY next_attempt_at LIMIT %s
            """,
            [settings.DELIVERY_CLAIM_SECONDS, SWEEP_RETRIES],
        )
        due: dict[int, list[int]] = defaultdict(list)
        for row_id, destination_id in cursor.fetchall():
            due[destination_id].append(row_id)
        cursor.execute(
            """
            DELETE FROM connections_delivery WHERE id IN (
                SELECT id FROM connections_delivery
                WHERE update_time < statement_timestamp() - make_interval(days => %s)
                  AND status <> 'retrying'
                LIMIT %s)
            """,
            [settings.EVENT_RETENTION_DAYS, PRUNE_ROWS],
        )
        pruned = cursor.rowcount
    for batch_id in batches:
        app.send_task(task_names.DELIVER_BATCH, args=[batch_id], queue="default")
    retry_tasks = 0
    for row_ids in due.values():
        for chunk in chunks(row_ids, RETRIES_PER_TASK):
            app.send_task(task_names.DELIVER_RETRIES, args=[list(chunk)], queue="default")
            retry_tasks += 1
    if batches:
        logger.info("delivery sweep: queued %d batch(es) again", len(batches))
    return {"batches": len(batches), "retry_tasks": retry_tasks, "pruned": pruned}
