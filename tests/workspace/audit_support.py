"""Audit entry times for tests that check newest-first order."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Min

from workspace.models import AuditEntry


def stamp_in_insert_order() -> None:
    """Give every entry a time one second after the entry inserted before it.

    Listings order by time; entries recorded microseconds apart by a clock that may
    step back (or tie) are no order a test can rely on. Ids come from a sequence.
    """
    start = AuditEntry.objects.aggregate(start=Min("time"))["start"]
    pks = AuditEntry.objects.order_by("pk").values_list("pk", flat=True)
    for i, pk in enumerate(pks):
        AuditEntry.objects.filter(pk=pk).update(time=start + timedelta(seconds=i))
