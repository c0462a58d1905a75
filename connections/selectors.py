"""Reads for the debugger, the delivery overview and their API twins."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Sum, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from connections.models import Destination, Event, PipelineCount, Source
from connections.models.delivery import Delivery
from switchyard.access import Principal
from switchyard.errors import InvalidArgument

EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")
DEBUGGER_LIMIT = 50
# Substring filters look at this many of the newest events (Segment's debugger cap).
SEARCH_SCOPE = 500
WINDOWS = {
    "1h": dt.timedelta(hours=1),
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
}
OUTCOMES = ("delivered", "filtered", "failed", "retrying")


def events_of(
    source: Source,
    *,
    event_type: str = "",
    name: str = "",
    name_contains: str = "",
    search: str = "",
) -> models.QuerySet[Event]:
    """A source's stored events, newest first, optionally of one type or name.
    Bounded by the retention period so PostgreSQL only scans live partitions.

    ``name_contains`` (the event, page or screen name) and ``search`` (anywhere in
    the raw payload's JSON text) match case-insensitively, as substrings with
    ``%``/``_`` taken literally; both look only at the source's latest
    ``SEARCH_SCOPE`` events, as Segment's debugger holds a sample of 500, so a
    search that matches nothing never reads the whole retention period."""
    if event_type and event_type not in EVENT_TYPES:
        raise InvalidArgument(
            f"type must be one of {', '.join(EVENT_TYPES)}, got {event_type!r}", field="type"
        )
    rows = Event.objects.filter(source_id=source.pk)
    if event_type:
        rows = rows.filter(type=event_type)
    if name:
        rows = rows.filter(event_name=name)
    if name_contains or search:
        floor = _search_floor(source)
        if floor is not None:
            rows = rows.filter(received_at__gte=floor)
        if name_contains:
            rows = rows.filter(event_name__icontains=name_contains)
        if search:
            # Django escapes the LIKE wildcards of icontains: "100%" is no pattern.
            rows = rows.annotate(payload_text=Cast("payload", TextField())).filter(
                payload_text__icontains=search
            )
    return rows.order_by("-received_at", "-id")


def _search_floor(source: Source) -> dt.datetime | None:
    """The receive time of the source's ``SEARCH_SCOPE``-th newest event (None
    when it has fewer): one short walk down the (source_id, received_at) index."""
    oldest = (
        Event.objects.filter(source_id=source.pk)
        .order_by("-received_at")
        .values_list("received_at", flat=True)[SEARCH_SCOPE - 1 : SEARCH_SCOPE]
    )
    found = list(oldest)
    return found[0] if found else None


def recent_events(
    source: Source,
    *,
    event_type: str = "",
    name_contains: str = "",
    search: str = "",
    after_id: int | None = None,
    limit: int = DEBUGGER_LIMIT,
) -> list[Event]:
    """The debugger's live view: the latest events, or those newer than ``after_id``."""
    rows = events_of(source, event_type=event_type, name_contains=name_contains, search=search)
    if after_id is not None:
        rows = rows.filter(id__gt=after_id)
    return list(rows[:limit])


def event_of(source: Source, event_id: str) -> Event | None:
    """One of the source's stored events by id (a debugger row's "Validate"), or None."""
    if not (event_id.isascii() and event_id.isdigit()) or len(event_id) > 19:
        return None
    return Event.objects.filter(source_id=source.pk, id=int(event_id)).first()


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
