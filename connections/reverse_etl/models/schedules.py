"""When a Reverse ETL mapping syncs on its own (the docs' schedule settings).

A mapping without a row here is MANUAL: it syncs only when asked (``syncs:run``).
The schedule itself lives in django-celery-beat (``services.schedules`` writes the
mapping's PeriodicTask rows in the same transaction as this row), so beat's
DatabaseScheduler picks an edit up without a restart; this row keeps what the
user chose, in the user's terms, and what the latest scheduled trigger did.
"""

from __future__ import annotations

from django.db import models

from connections.reverse_etl.models.syncs import RetlMapping


class RetlSchedule(models.Model):
    class Kind(models.TextChoices):
        MANUAL = "MANUAL"
        INTERVAL = "INTERVAL"  # every 15m ... 1d (the nine documented choices)
        DAY_AND_TIME = "DAY_AND_TIME"  # specific times on selected weekdays
        CRON = "CRON"  # a 5-field cron expression, no more often than every 15 minutes

    mapping = models.OneToOneField(RetlMapping, on_delete=models.CASCADE, related_name="schedule")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    interval = models.CharField(max_length=8, blank=True, default="")  # "15m" ... "1d"
    days = models.JSONField(default=list)  # ["monday", ...] (DAY_AND_TIME)
    times = models.JSONField(default=list)  # ["09:00", "17:30"] (DAY_AND_TIME)
    cron = models.CharField(max_length=200, blank=True, default="")
    timezone = models.CharField(max_length=64, default="UTC")  # DAY_AND_TIME and CRON
    # What the latest scheduled trigger did: "started rsyn_...", or why it skipped.
    last_trigger_time = models.DateTimeField(null=True, blank=True)
    last_trigger = models.CharField(max_length=200, blank=True, default="")
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.mapping_id}: {self.kind}"

    @property
    def resource_name(self) -> str:
        return f"{self.mapping.resource_name}/schedule"
