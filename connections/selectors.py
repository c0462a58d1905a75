"""Reads for the debugger, the delivery overview and their API twins."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Sum
from django.utils import timezone

from connections.models import Destination, Event, PipelineCount, Source
from connections.models.delivery import Delivery
from switchyard.access import Principal
from switchyard.errors import InvalidArgument

EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")
DEBUGGER_LIMIT = 50
WINDOWS = {
    "1h": dt.timedelta(hours=1),
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
}
OUTCOMES = ("delivered", "filtered", "failed", "retrying")


def events_of(source: Source, *, event_type: str = "", name: str = "") -> models.QuerySet[Event]:
    """A source's stored events, newest first, optionally of one type or name.
    Bounded by the retention period so PostgreSQL only scans live partitions."""
    if event_type and event_type not in EVENT_TYPES:
        raise InvalidArgument(
            f"type must be one of {', '.join(EVENT_TYPES)}, got {event_type!r}", field="type"
        )
    rows = Event.objects.filter(source_id=source.pk)
    if event_type:
        rows = rows.filter(type=event_type)
    if name:
        rows = rows.filter(event_name=name)
    return rows.order_by("-received_at", "-id")


def recent_events(
    source: Source, *, event_type: str = "", name: str = "", after_id: int | None = None
) -> list[Event]:
    """The debugger's live view: the latest events, or those newer than ``after_id``."""
    rows = events_of(source, event_type=event_type, name=name)
    if after_id is not None:
        rows = rows.filter(id__gt=after_id)
    return list(rows[:DEBUGGER_LIMIT])


def visible_payload(principal: Principal, source: Source, payload: dict[str, Any]) -> Any:
    """The event as this principal may see it. The privacy issue masks PII here for
    those without PII access; until then everyone who sees the source sees it whole."""
    return payload


def window_from(value: str | None) -> str:
    window = value or "24h"
    if window not in WINDOWS:
        raise InvalidArgument(
            f"window must be one of {', '.join(WINDOWS)}, got {window!r}", field="window"
        )
    return window


def delivery_metrics(
    destination: Destination, window: str, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Counts per outcome over ``window`` and the reasons behind each, from the
    per-minute counters; ``pending_retries`` is what waits for a retry right now."""
    since = (now or timezone.now()) - WINDOWS[window]
    rows = (
        PipelineCount.objects.filter(
            destination_id=destination.pk, stage="delivery", bucket__gte=since
        )
        .values("outcome", "reason")
        .annotate(total=Sum("count"))
        .order_by("outcome", "-total", "reason")
    )
    totals = dict.fromkeys(OUTCOMES, 0)
    reasons = []
    for row in rows:
        totals[row["outcome"]] = totals.get(row["outcome"], 0) + row["total"]
        reasons.append({"outcome": row["outcome"], "reason": row["reason"], "count": row["total"]})
    return {
        "window": window,
        **totals,
        "pending_retries": Delivery.objects.filter(
            destination=destination, status=Delivery.Status.RETRYING
        ).count(),
        "reasons": reasons,
    }


def failed_deliveries(destination: Destination, *, limit: int = 50) -> list[Delivery]:
    """The drill-down: the latest failed deliveries with their code and samples."""
    return list(
        Delivery.objects.filter(destination=destination, status=Delivery.Status.FAILED)
        .select_related("subscription")
        .order_by("-update_time")[:limit]
    )
