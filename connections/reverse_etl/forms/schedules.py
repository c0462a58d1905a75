"""A mapping's schedule form: manual, an interval, days and times, or cron."""

from __future__ import annotations

from typing import Any

from django import forms

from connections.reverse_etl.models.schedules import RetlSchedule

INTERVAL_CHOICES = (
    ("15m", "15 minutes"),
    ("30m", "30 minutes"),
    ("1h", "1 hour"),
    ("2h", "2 hours"),
    ("4h", "4 hours"),
    ("6h", "6 hours"),
    ("8h", "8 hours"),
    ("12h", "12 hours"),
    ("1d", "1 day"),
)
DAY_CHOICES = tuple(
    (day, day.title())
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)
KIND_CHOICES = (
    (RetlSchedule.Kind.MANUAL, "Manual (Sync now only)"),
    (RetlSchedule.Kind.INTERVAL, "Interval"),
    (RetlSchedule.Kind.DAY_AND_TIME, "Day and time"),
    (RetlSchedule.Kind.CRON, "Cron expression"),
)
# The settings each kind reads (the service refuses the others' when not empty).
USES = {
    RetlSchedule.Kind.MANUAL: (),
    RetlSchedule.Kind.INTERVAL: ("interval",),
    RetlSchedule.Kind.DAY_AND_TIME: ("days", "times", "timezone"),
    RetlSchedule.Kind.CRON: ("cron", "timezone"),
}


class ScheduleForm(forms.Form):
    kind = forms.ChoiceField(
        label="Schedule",
        choices=KIND_CHOICES,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    interval = forms.ChoiceField(
        choices=(("", "—"), *INTERVAL_CHOICES),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        help_text="Interval: the first sync starts at once.",
    )
    days = forms.MultipleChoiceField(
        choices=DAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    times = forms.CharField(
        required=False,
        max_length=200,
        help_text="Day and time: HH:MM on a 24-hour clock, separated by commas.",
    )
    cron = forms.CharField(
        label="Cron expression",
        required=False,
        max_length=200,
        help_text="minute hour day-of-month month day-of-week, at most every 15 minutes.",
    )
    timezone = forms.CharField(
        label="Time zone",
        required=False,
        max_length=64,
        initial="UTC",
        help_text="For day and time, and cron: an IANA name such as Europe/Paris.",
    )

    def changes(self) -> dict[str, Any]:
        """The whole schedule for the service: the chosen kind's settings, the other
        kinds' emptied."""
        data = self.cleaned_data
        kind = data["kind"]
        values: dict[str, Any] = {
            "kind": kind,
            "interval": data["interval"],
            "days": list(data["days"]),
            "times": [t.strip() for t in data["times"].split(",") if t.strip()],
            "cron": data["cron"].strip(),
            "timezone": data["timezone"].strip() or "UTC",
        }
        used = USES[RetlSchedule.Kind(kind)]
        empty: dict[str, Any] = {"interval": "", "days": [], "times": [], "cron": ""}
        for field, blank in empty.items():
            if field not in used:
                values[field] = blank
        if "timezone" not in used:
            del values["timezone"]
        return values
