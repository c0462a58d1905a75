"""Count what the Tracking API refused ("failed on ingest"), per source and reason.

A refused request is counted against the source of its write key when the key is
known (an unknown or missing key cannot be tied to a source, and answers 401
anyway): stage ``ingest``, outcome ``failed``, the refusal's code as reason
(``validation.REASON_LABELS``), beside the accepted/duplicate/dropped counters the
delivery overview reads. The events counted are the request's messages (a
refused batch refuses all of them).

The look-up of the key and the counter's upsert are one statement, the one
round trip a refused request already made to tell a 401 from a 400: accepted
requests pay nothing for it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.utils import timezone

FAILED = "failed"  # connections.selectors.INGEST_FAILED: the delivery overview's step

COUNT = """
WITH src AS (
    SELECT s.id, s.workspace_id
    FROM connections_writekey k JOIN connections_source s ON s.id = k.source_id
    WHERE k.secret = %(key)s AND k.revoke_time IS NULL
),
counted AS (
    INSERT INTO connections_pipelinecount
        (workspace_id, source_id, destination_id, bucket, stage, outcome, reason, count)
    SELECT src.workspace_id, src.id, 0, %(bucket)s, 'ingest', %(outcome)s, %(reason)s, %(n)s
    FROM src
    ON CONFLICT (source_id, destination_id, bucket, stage, outcome, reason)
    DO UPDATE SET count = connections_pipelinecount.count + EXCLUDED.count
)
SELECT count(*) FROM src
"""


def count_refused(
    write_key: str, reason: str, events: int = 1, *, at: dt.datetime | None = None
) -> bool:
    """Count ``events`` refused for ``reason`` against the source of ``write_key``;
    whether the key is active (False: nothing is counted)."""
    if not write_key or "\x00" in write_key:  # PostgreSQL text cannot hold NUL
        return False
    bucket = (at or timezone.now()).replace(second=0, microsecond=0)
    params: dict[str, Any] = {
        "key": write_key,
        "bucket": bucket,
        "outcome": FAILED,
        "reason": reason[:64],
        "n": max(events, 1),
    }
    with connection.cursor() as cursor:
        cursor.execute(COUNT, params)
        row = cursor.fetchone()
    return bool(row and row[0])
