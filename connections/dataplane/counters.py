"""Pipeline counters: one upsert per (minute, outcome) instead of a row per event."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone


@dataclass(frozen=True)
class Key:
    workspace_id: str
    source_id: int
    stage: str
    outcome: str
    reason: str = ""
    destination_id: int = 0


def add(counts: Counter[Key], *, at: dt.datetime | None = None) -> None:
    """Add ``counts`` to the minute ``at`` (now) falls in, in the current transaction."""
    if not counts:
        return
    bucket = (at or timezone.now()).replace(second=0, microsecond=0)
    rows = sorted(counts.items(), key=lambda item: repr(item[0]))  # fixed lock order
    with connection.cursor() as cursor:
        cursor.executemany(
            """
            INSERT INTO connections_pipelinecount
                (workspace_id, source_id, destination_id, bucket, stage, outcome, reason, count)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (source_id, destination_id, bucket, stage, outcome, reason)
            DO UPDATE SET count = connections_pipelinecount.count + EXCLUDED.count
            """,
            [
                (
                    k.workspace_id,
                    k.source_id,
                    k.destination_id,
                    bucket,
                    k.stage,
                    k.outcome,
                    k.reason,
                    n,
                )
                for k, n in rows
            ],
        )
