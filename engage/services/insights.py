"""Profiles Insights keep 30 days: older logs are deleted daily (beat's
``engage.prune_insights``, a PeriodicTask row from migration 0007)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from engage.models import IdentityLog, InsightKind, Space

RETENTION = dt.timedelta(days=30)
# Rows deleted per statement (and transaction): each one holds its row locks only
# briefly, so resolution writing new logs beside it never waits long.
BATCH = 5000


def prune_insights(*, now: dt.datetime | None = None, batch: int = BATCH) -> int:
    """Delete the logs older than 30 days, ``batch`` rows per transaction; returns
    how many went. Per space and kind, so each batch is found through the
    ``identity_log_recent`` index (space, kind, time) rather than a table scan."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted = 0
    space_ids = list(Space.objects.order_by("pk").values_list("pk", flat=True))
    for space_id in space_ids:
        for kind in InsightKind:
            while True:
                old = IdentityLog.objects.filter(space_id=space_id, kind=kind, time__lt=cutoff)
                with transaction.atomic():
                    count, _ = IdentityLog.objects.filter(
                        pk__in=old.order_by("time").values("pk")[:batch]
                    ).delete()
                deleted += count
                if count < batch:
                    break
    return deleted
