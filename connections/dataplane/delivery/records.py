"""Recording outcomes: results become Delivery rows and pipeline counters, one
transaction per flush; retries due soon are queued after the commit."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from connections import task_names
from connections.dataplane import counters
from connections.dataplane.counters import Key
from connections.dataplane.delivery import backoff, outcomes
from connections.dataplane.delivery.outcomes import Result
from connections.models import Delivery

STAGE = "delivery"
# Outcomes are written (and the claim renewed) at least every this many sends.
CHUNK = 500
# Retries due within this many seconds are queued at once with a countdown; later
# ones are found by the sweep (Celery holds countdown tasks in worker memory).
EAGER_RETRY_SECONDS = 300


@dataclass
class Outcome:
    """A result to record for (event, destination, subscription)."""

    workspace_id: str
    source_id: int
    destination_id: int
    subscription_id: int
    event_id: int
    received_at: dt.datetime
    message_id: str
    event_type: str
    event_name: str
    result: Result
    payload: dict[str, Any] | None
    attempts: int = 1
    row_id: int | None = None  # a retry's Delivery row
    batch_id: int | None = None  # the outbox batch of a first attempt


@dataclass
class Recorder:
    """Turns results into Delivery rows and counters, one transaction per flush."""

    counts: Counter[Key] = field(default_factory=Counter)

    def count(
        self, workspace: str, source: int, destination: int, outcome: str, reason: str = ""
    ) -> None:
        self.counts[Key(workspace, source, STAGE, outcome, reason, destination)] += 1

    def flush(self, items: list[Outcome], *, now: dt.datetime | None = None) -> None:
        if not items:
            return
        now = now or timezone.now()
        upserts: list[tuple[Outcome, str, dt.datetime | None, str]] = []
        delivered_retries: list[int] = []
        progress: dict[tuple[int, int, int], list[int]] = defaultdict(list)
        due: dict[dt.datetime, list[int]] = defaultdict(list)
        when_of: dict[tuple[int, float | None], dt.datetime | None] = {}
        counts: Counter[Key] = Counter()
        for item in items:
            result = item.result
            ws, src, dst = item.workspace_id, item.source_id, item.destination_id
            if result.delivered:
                counts[Key(ws, src, STAGE, "delivered", "", dst)] += 1
                if item.row_id is not None:
                    delivered_retries.append(item.row_id)
                elif item.batch_id is not None:
                    group = (item.batch_id, item.destination_id, item.subscription_id)
                    progress[group].append(item.event_id)
                else:
                    upserts.append((item, Delivery.Status.DELIVERED, None, ""))
                continue
            if result.status == outcomes.RETRY:
                # One backoff draw per (attempts, Retry-After) in a flush: what
                # failed together is retried together (and batched again).
                slot = (item.attempts, result.retry_after)
                if slot not in when_of:
                    when_of[slot] = backoff.next_attempt(
                        item.attempts, item.received_at, now, result.retry_after
                    )
                when = when_of[slot]
                window_end = item.received_at + dt.timedelta(seconds=settings.DELIVERY_RETRY_WINDOW)
                if when is not None and when <= window_end:
                    counts[Key(ws, src, STAGE, "retrying", result.code, dst)] += 1
                    upserts.append((item, Delivery.Status.RETRYING, when, ""))
                    continue
                note = f" (gave up after {item.attempts} attempt(s))"
                counts[Key(ws, src, STAGE, "failed", result.code, dst)] += 1
                upserts.append((item, Delivery.Status.FAILED, None, note))
                continue
            counts[Key(ws, src, STAGE, "failed", result.code, dst)] += 1
            upserts.append((item, Delivery.Status.FAILED, None, ""))
        with transaction.atomic():
            ids = self._upsert(upserts, now)
            with connection.cursor() as cursor:
                if delivered_retries:
                    cursor.execute(
                        "DELETE FROM connections_delivery WHERE id = ANY(%s)", [delivered_retries]
                    )
                if progress:
                    cursor.executemany(
                        """
                        INSERT INTO connections_deliveryprogress
                            (batch_id, destination_id, subscription_id, event_ids)
                        VALUES (%s, %s, %s, %s)
                        """,
                        [(*group, event_ids) for group, event_ids in progress.items()],
                    )
            counters.add(counts, at=now)
            for (_item, status, when, _note), row_id in zip(upserts, ids, strict=True):
                if status == Delivery.Status.RETRYING and when is not None:
                    due[when].append(row_id)
            for when, row_ids in due.items():
                delay = (when - now).total_seconds()
                if delay <= EAGER_RETRY_SECONDS:
                    transaction.on_commit(partial(_enqueue_retries, row_ids, delay), robust=True)

    @staticmethod
    def _upsert(
        upserts: list[tuple[Outcome, str, dt.datetime | None, str]], now: dt.datetime
    ) -> list[int]:
        if not upserts:
            return []

        def dumps(value: Any) -> str | None:
            return None if value is None else orjson.dumps(value).decode()

        columns: dict[str, list[Any]] = defaultdict(list)
        for item, status, when, note in upserts:
            keep = status != Delivery.Status.DELIVERED
            result = item.result
            columns["workspace"].append(item.workspace_id)
            columns["source"].append(item.source_id)
            columns["destination"].append(item.destination_id)
            columns["subscription"].append(item.subscription_id)
            columns["event"].append(item.event_id)
            columns["received"].append(item.received_at)
            columns["message"].append(item.message_id)
            columns["type"].append(item.event_type)
            columns["name"].append(item.event_name[:256])
            columns["status"].append(status)
            columns["attempts"].append(item.attempts)
            columns["code"].append(result.code[:64])
            columns["text"].append((result.message + note) if keep else "")
            keep_payload = status == Delivery.Status.RETRYING
            columns["payload"].append(dumps(item.payload) if keep_payload else None)
            columns["request"].append(dumps(result.request) if keep else None)
            columns["response"].append(dumps(result.response) if keep else None)
            columns["next"].append(when)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO connections_delivery (workspace_id, source_id, destination_id,
                    subscription_id, event_id, event_received_at, message_id, event_type,
                    event_name, status, attempts, code, message, payload, request, response,
                    next_attempt_at, claim_time, create_time, update_time)
                SELECT r.workspace, r.source, r.destination, r.subscription, r.event,
                    r.received, r.message, r.type, r.name, r.status, r.attempts, r.code,
                    r.text, r.payload::jsonb, r.request::jsonb, r.response::jsonb, r.next,
                    NULL, %s, %s
                FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[],
                    %s::bigint[], %s::timestamptz[], %s::text[], %s::text[], %s::text[],
                    %s::text[], %s::int[], %s::text[], %s::text[], %s::text[], %s::text[],
                    %s::text[], %s::timestamptz[])
                    AS r(workspace, source, destination, subscription, event, received, message,
                        type, name, status, attempts, code, text, payload, request, response,
                        next)
                ON CONFLICT (event_id, destination_id, subscription_id) DO UPDATE SET
                    status = EXCLUDED.status, attempts = EXCLUDED.attempts,
                    code = EXCLUDED.code, message = EXCLUDED.message,
                    payload = EXCLUDED.payload, request = EXCLUDED.request,
                    response = EXCLUDED.response, next_attempt_at = EXCLUDED.next_attempt_at,
                    claim_time = NULL, update_time = EXCLUDED.update_time
                RETURNING id
                """,
                [
                    now,
                    now,
                    *(
                        columns[name]
                        for name in (
                            "workspace",
                            "source",
                            "destination",
                            "subscription",
                            "event",
                            "received",
                            "message",
                            "type",
                            "name",
                            "status",
                            "attempts",
                            "code",
                            "text",
                            "payload",
                            "request",
                            "response",
                            "next",
                        )
                    ),
                ],
            )
            # RETURNING follows the order of the rows inserted from unnest().
            return [row[0] for row in cursor.fetchall()]


def _enqueue_retries(row_ids: list[int], delay: float) -> None:
    from switchyard.celery import app

    app.send_task(
        task_names.DELIVER_RETRIES, args=[row_ids], countdown=max(0.0, delay), queue="default"
    )


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
