"""Config API shape of a Reverse ETL mapping's schedule."""

from __future__ import annotations

from rest_framework import serializers


class RetlScheduleSerializer(serializers.Serializer):
    """When the mapping syncs on its own (Update: ``update_mask.paths`` of ``kind``,
    ``interval``, ``days``, ``times``, ``cron``, ``timezone``; the settings of the
    other kinds are cleared)."""

    name = serializers.CharField(
        source="resource_name",
        read_only=True,
        help_text="workspaces/{workspace}/reverse-etl/mappings/{mapping}/schedule",
    )
    mapping = serializers.CharField(source="mapping.resource_name", read_only=True)
    kind = serializers.CharField(
        help_text="MANUAL (only syncs:run), INTERVAL, DAY_AND_TIME or CRON; at most every "
        "15 minutes"
    )
    interval = serializers.CharField(
        allow_blank=True,
        help_text="INTERVAL: 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h or 1d; the first sync starts "
        "when the schedule is saved",
    )
    days = serializers.ListField(
        child=serializers.CharField(),
        help_text="DAY_AND_TIME: weekdays, e.g. ['monday', 'thursday']",
    )
    times = serializers.ListField(
        child=serializers.CharField(), help_text="DAY_AND_TIME: times as HH:MM, e.g. ['09:00']"
    )
    cron = serializers.CharField(
        allow_blank=True,
        help_text="CRON: minute hour day-of-month month day-of-week (day-of-week 0-6 from "
        "Sunday, or names); a day must match both day fields",
    )
    timezone = serializers.CharField(
        allow_blank=True, help_text="DAY_AND_TIME and CRON: an IANA time zone (default UTC)"
    )
    last_trigger_time = serializers.DateTimeField(read_only=True, allow_null=True)
    last_trigger = serializers.CharField(
        read_only=True,
        help_text="What the latest scheduled trigger did: the run it started, or why it "
        "skipped (say, a sync was already running)",
    )
    update_time = serializers.DateTimeField(read_only=True, allow_null=True)
