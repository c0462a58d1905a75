"""Claiming an outbox batch (one UPDATE; a dead worker's claim expires and the
sweep queues the batch again) and loading its events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.db import connection

# A batch claimed this many times without finishing is left alone by the sweep
# (it kills its worker every time); it stays in the outbox for a person to see.
MAX_BATCH_CLAIMS = 10


@dataclass(frozen=True)
class StoredEvent:
    id: int
    received_at: dt.datetime
    message_id: str
    type: str
    event_name: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Claimed:
    id: int
    source_id: int
    received_at: dt.datetime
    event_ids: list[int]
    attempts: int


def claim_batch(batch_id: int) -> Claimed | None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE connections_deliverybatch
            SET claim_time = statement_timestamp(), attempts = attempts + 1
            WHERE id = %s
              AND (claim_time IS NULL
                   OR claim_time < statement_timestamp() - make_interval(secs => %s))
            RETURNING id, source_id, received_at, event_ids, attempts
            """,
            [batch_id, settings.DELIVERY_CLAIM_SECONDS],
        )
        row = cursor.fetchone()
    return Claimed(*row) if row else None


def renew_claim(batch_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE connections_deliverybatch SET claim_time = statement_timestamp() WHERE id = %s",
            [batch_id],
        )


def load_events(received_at: dt.datetime, ids: Sequence[int]) -> list[StoredEvent]:
    """The batch's events, from the one partition ``received_at`` falls in."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, received_at, message_id, type, event_name, payload::text
            FROM connections_event WHERE received_at = %s AND id = ANY(%s) ORDER BY id
            """,
            [received_at, list(ids)],
        )
        rows = cursor.fetchall()
    return [StoredEvent(r[0], r[1], r[2], r[3], r[4], orjson.loads(r[5])) for r in rows]
