"""Reads for the debugger, the delivery overview and their API twins."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from copy import copy as shallow_copy
from typing import Any

from django.db import models
from django.db.models import DateTimeField, F, Func, Sum, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from connections.dataplane import gates
from connections.dataplane.tracking.validation import REASON_LABELS as INGEST_FAILURE_LABELS
from connections.models import Destination, Event, PipelineCount, Source
from connections.models.delivery import Delivery
from switchyard import masking
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
    mask: masking.Mask | None = None,
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
            if mask is not None and mask.active:
                rows = rows.filter(id__in=_matching_as_shown(rows, search, mask))
    return rows.order_by("-received_at", "-id")


def _matching_as_shown(rows: models.QuerySet[Event], search: str, mask: masking.Mask) -> list[int]:
    """The ids of ``rows`` whose payload, as ``mask`` shows it, holds ``search``: a
    search must not tell someone without PII Access what a masked value is. Rows
    are at most the source's latest SEARCH_SCOPE events already matching raw."""
    wanted = search.casefold()
    return [
        pk
        for pk, payload in rows.values_list("id", "payload")[:SEARCH_SCOPE]
        if wanted in json.dumps(mask.event(payload), ensure_ascii=False).casefold()
    ]


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
    mask: masking.Mask | None = None,
) -> list[Event]:
    """The debugger's live view: the latest events, or those newer than ``after_id``."""
    rows = events_of(
        source, event_type=event_type, name_contains=name_contains, search=search, mask=mask
    )
    if after_id is not None:
        rows = rows.filter(id__gt=after_id)
    return list(rows[:limit])


def event_of(source: Source, event_id: str) -> Event | None:
    """One of the source's stored events by id (a debugger row's "Validate"), or None."""
    if not (event_id.isascii() and event_id.isdigit()) or len(event_id) > 19:
        return None
    return Event.objects.filter(source_id=source.pk, id=int(event_id)).first()


def payload_mask(principal: Principal, source: Source) -> masking.Mask:
    """What this principal may see of the source's events (PII masked without PII
    Access): ask once per request, apply to every payload shown."""
    return masking.mask_for(principal, source.workspace_id)


def visible_payload(
    principal: Principal,
    source: Source,
    payload: dict[str, Any],
    mask: masking.Mask | None = None,
) -> Any:
    """The event as this principal may see it; pass ``mask`` when showing many."""
    return (mask or payload_mask(principal, source)).event(payload)


def visible_failures(
    principal: Principal, destination: Destination, limit: int = 50
) -> list[Delivery]:
    """``failed_deliveries`` with their request, response and message as this
    principal may see them: unsaved copies, masked with the events they came from
    (read only when something is masked)."""
    found = failed_deliveries(destination, limit=limit)
    mask = payload_mask(principal, destination.source)
    if not mask.active or not found:
        return found
    events = dict(
        Event.objects.filter(
            source_id=destination.source_id, id__in={d.event_id for d in found}
        ).values_list("id", "payload")
    )
    shown = []
    for delivery in found:
        seen = [events[delivery.event_id]] if delivery.event_id in events else []
        copy = shallow_copy(delivery)
        copy.request = mask.json(delivery.request, events=seen)
        copy.response = mask.json(delivery.response, events=seen)
        copy.message = mask.json(delivery.message, events=seen)
        copy.payload = mask.json(delivery.payload, events=seen)
        shown.append(copy)
    return shown


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


# --- the delivery overview (Segment's pipeline view) ------------------------------------

# One chart bar per this much of each window.
BIN_SIZES = {
    "1h": dt.timedelta(minutes=5),
    "24h": dt.timedelta(hours=1),
    "7d": dt.timedelta(hours=6),
}
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

# The hook for the per-source "failed on ingest" counters: the Tracking API's
# refusals it can tie to a source, counted as stage "ingest", this outcome, with
# the refusal's code as reason. The step shows whatever such counters exist.
INGEST_FAILED = "failed"

# Ingest counters of fields (not events) a gate removed: privacy's blocked fields.
GATE_BLOCKED = "blocked"

# (key, label, stage, outcomes), in the order events go through them.
PIPELINE_STEPS = (
    ("received", "Successfully received", "ingest", ("accepted",)),
    ("failed_on_ingest", "Failed on ingest", "ingest", (INGEST_FAILED,)),
    ("filtered_at_source", "Filtered at source", "ingest", ("dropped", "duplicate")),
    ("filtered_at_destination", "Filtered at destination", "delivery", ("filtered",)),
    ("failed_delivery", "Failed delivery", "delivery", ("failed",)),
    ("delivered", "Successful delivery", "delivery", ("delivered",)),
)
DISCARD_STEPS = frozenset(
    ("failed_on_ingest", "filtered_at_source", "filtered_at_destination", "failed_delivery")
)
# What a reason code means, where it is not self-explanatory.
REASON_LABELS = {
    ("dropped", "source_disabled"): "Source disabled",
    ("duplicate", ""): "Duplicate messageId (seen in the last 24 hours)",
    ("filtered", "FILTERED_BY_RULES"): "Dropped by a destination filter",
    ("filtered", "NO_MATCHING_MAPPING"): "No enabled mapping's trigger matched",
    ("filtered", "FILTERED_BY_INTEGRATIONS_OBJECT"): "Turned off in the integrations object",
    ("filtered", "UNKNOWN_INTEGRATION"): "Integrations object names no such destination",
    ("filtered", "FILTERED_AT_MAPPING"): "Mapping removed or disabled before a retry",
    ("filtered", "DESTINATION_DISABLED"): "Destination disabled before a retry",
    **{(INGEST_FAILED, code): label for code, label in INGEST_FAILURE_LABELS.items()},
}


def ingest_failures(
    source: Source, window: str, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The source's events refused by the Tracking API ("failed on ingest") over
    ``window``, in all and by reason (most first)."""
    since = (now or timezone.now()) - WINDOWS[window]
    rows = (
        PipelineCount.objects.filter(
            source_id=source.pk,
            destination_id=0,
            stage="ingest",
            outcome=INGEST_FAILED,
            bucket__gte=since,
        )
        .values("reason")
        .annotate(total=Sum("count"))
        .order_by("-total", "reason")
    )
    reasons = [
        {
            "reason": row["reason"],
            "label": REASON_LABELS.get((INGEST_FAILED, row["reason"]), row["reason"]),
            "count": row["total"],
        }
        for row in rows
    ]
    return {"window": window, "failed": sum(r["count"] for r in reasons), "reasons": reasons}


def _reason_label(outcome: str, reason: str) -> str:
    if outcome == "accepted":  # counted per event type; before that, without one
        return reason or "any type"
    label = REASON_LABELS.get((outcome, reason)) or gates.labels().get((outcome, reason))
    return label or reason or outcome


def ingest_outcomes(
    source_ids: Sequence[int],
    outcomes: Sequence[str],
    window: str = "24h",
    *,
    now: dt.datetime | None = None,
) -> dict[int, dict[tuple[str, str], int]]:
    """Per source, the ingest counters of ``outcomes`` over ``window`` by (outcome,
    reason): what the ingest gates dropped or blocked, for the privacy controls page."""
    since = (now or timezone.now()) - WINDOWS[window]
    rows = (
        PipelineCount.objects.filter(
            source_id__in=source_ids,
            destination_id=0,
            stage="ingest",
            outcome__in=outcomes,
            bucket__gte=since,
        )
        .values("source_id", "outcome", "reason")
        .annotate(total=Sum("count"))
    )
    found: dict[int, dict[tuple[str, str], int]] = {}
    for row in rows:
        found.setdefault(row["source_id"], {})[row["outcome"], row["reason"]] = row["total"]
    return found


class DateBin(Func):
    """PostgreSQL's date_bin(stride, source, origin): the start of the bin a time is in."""

    function = "date_bin"
    output_field = DateTimeField()


def floor_to(moment: dt.datetime, size: dt.timedelta) -> dt.datetime:
    """The start of the ``size`` bin ``moment`` falls in, as date_bin(size, moment, EPOCH)."""
    return EPOCH + ((moment - EPOCH) // size) * size


def bins_of(window: str, now: dt.datetime) -> list[dt.datetime]:
    """The chart's bin starts covering ``window`` up to ``now``, oldest first."""
    size = BIN_SIZES[window]
    first, last = floor_to(now - WINDOWS[window], size), floor_to(now, size)
    return [first + size * i for i in range((last - first) // size + 1)]


def bin_label(start: dt.datetime, window: str) -> str:
    local = timezone.localtime(start)
    return local.strftime("%m-%d %H:%M" if window == "7d" else "%H:%M")


def _binned(rows: models.QuerySet[PipelineCount], size: dt.timedelta, *group: str) -> Any:
    return (
        rows.annotate(bin=DateBin(Value(size), F("bucket"), Value(EPOCH)))
        .values("bin", *group)
        .annotate(total=Sum("count"))
        .order_by()
    )


def delivery_overview(
    destination: Destination, window: str, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The pipeline view of one connection (its source -> this destination) over
    ``window``: each step's count and its breakdown by reason, events waiting for a
    retry now, and per-bin counts of what reached the destination, for a chart."""
    now = now or timezone.now()
    since = now - WINDOWS[window]
    rows = PipelineCount.objects.filter(
        source_id=destination.source_id,
        destination_id__in=(0, destination.pk),
        bucket__gte=since,
    ).filter(
        models.Q(stage="ingest", destination_id=0)
        | models.Q(stage="delivery", destination_id=destination.pk)
    )
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows.values("stage", "outcome", "reason").annotate(total=Sum("count")):
        reasons = sums.setdefault((row["stage"], row["outcome"]), {})
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + row["total"]
    steps = []
    for key, label, stage, outcomes in PIPELINE_STEPS:
        breakdown: list[dict[str, Any]] = [
            {
                "outcome": outcome,
                "reason": reason,
                "label": _reason_label(outcome, reason),
                "count": n,
            }
            for outcome in outcomes
            for reason, n in sums.get((stage, outcome), {}).items()
        ]
        breakdown.sort(key=lambda r: (-r["count"], r["reason"]))
        steps.append(
            {
                "key": key,
                "label": label,
                "discard": key in DISCARD_STEPS,
                "count": sum(r["count"] for r in breakdown),
                "reasons": breakdown,
            }
        )
    # Fields an ingest gate removed from stored events (privacy controls): not events,
    # so no step counts them; the overview says so beside the steps.
    blocked = [
        {"reason": reason, "label": _reason_label(GATE_BLOCKED, reason), "count": n}
        for reason, n in sorted(sums.get(("ingest", GATE_BLOCKED), {}).items())
    ]
    return {
        "window": window,
        "steps": steps,
        "blocked_fields": blocked,
        "retrying": sum(sums.get(("delivery", "retrying"), {}).values()),
        "pending_retries": Delivery.objects.filter(
            destination=destination, status=Delivery.Status.RETRYING
        ).count(),
        "timeline": delivery_timeline(destination, window, now=now),
    }


def delivery_timeline(destination: Destination, window: str, *, now: dt.datetime) -> dict[str, Any]:
    """Delivered, filtered and failed events at the destination per bin of ``window``."""
    size = BIN_SIZES[window]
    bins = bins_of(window, now)
    rows = PipelineCount.objects.filter(
        destination_id=destination.pk, stage="delivery", bucket__gte=now - WINDOWS[window]
    )
    index = {start: i for i, start in enumerate(bins)}
    series = {outcome: [0] * len(bins) for outcome in ("delivered", "filtered", "failed")}
    for row in _binned(rows, size, "outcome"):
        i = index.get(row["bin"])
        if i is not None and row["outcome"] in series:
            series[row["outcome"]][i] += row["total"]
    return {"labels": [bin_label(b, window) for b in bins], "series": series}


# --- pictures: a source's event volume, each connection's health ----------------------

VOLUME_WINDOWS = ("24h", "7d")
HEALTH_WINDOW = dt.timedelta(hours=24)
# A connection failing at least this share of what it sends is failing, not degraded.
FAILING_RATE = 0.1


def event_volume(source: Source, window: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Accepted events per bin of ``window`` and per event type, from the ingest
    counters (which count accepted events with their type as reason)."""
    now = now or timezone.now()
    bins = bins_of(window, now)
    index = {start: i for i, start in enumerate(bins)}
    rows = PipelineCount.objects.filter(
        source_id=source.pk,
        destination_id=0,
        stage="ingest",
        outcome="accepted",
        bucket__gte=now - WINDOWS[window],
    )
    series: dict[str, list[int]] = {}
    for row in _binned(rows, BIN_SIZES[window], "reason"):
        i = index.get(row["bin"])
        if i is None:
            continue
        kind = row["reason"] if row["reason"] in EVENT_TYPES else "other"
        series.setdefault(kind, [0] * len(bins))[i] += row["total"]
    order = [*EVENT_TYPES, "other"]
    return {
        "labels": [bin_label(b, window) for b in bins],
        "series": {kind: series[kind] for kind in order if kind in series},
    }


def health_of(enabled: bool, delivered: int, failed: int) -> tuple[str, str]:
    """(key, words) for a connection: disabled, idle, healthy, degraded or failing."""
    if not enabled:
        return "disabled", "Disabled"
    if not delivered and not failed:
        return "idle", "Idle"
    if not failed:
        return "healthy", "Healthy"
    if failed / (delivered + failed) < FAILING_RATE:
        return "degraded", "Some deliveries failed"
    return "failing", "Failing"


def connection_health(
    destinations: Sequence[Destination], *, now: dt.datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Each destination's delivered and failed events in the last 24 hours and its
    health, in one query over the (destination_id, bucket) counter index."""
    since = (now or timezone.now()) - HEALTH_WINDOW
    totals: dict[tuple[int, str], int] = {}
    rows = (
        PipelineCount.objects.filter(
            stage="delivery",
            destination_id__in=[d.pk for d in destinations],
            outcome__in=("delivered", "failed"),
            bucket__gte=since,
        )
        .values("destination_id", "outcome")
        .annotate(total=Sum("count"))
        .order_by()
    )
    for row in rows:
        totals[row["destination_id"], row["outcome"]] = row["total"]
    health = {}
    for d in destinations:
        delivered, failed = totals.get((d.pk, "delivered"), 0), totals.get((d.pk, "failed"), 0)
        enabled = d.enabled and d.source.enabled
        key, words = health_of(enabled, delivered, failed)
        health[d.pk] = {"delivered": delivered, "failed": failed, "health": key, "words": words}
    return health
