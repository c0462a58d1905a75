"""Reverse ETL alerts: the workspace's alert settings (which sync outcomes alert,
and the channels every alert of the workspace uses), a mapping's successful
delivery rate alert, and the alerts raised (listed in-app, sent to Slack / email)."""

from __future__ import annotations

from django.db import models

from connections.reverse_etl.models.syncs import RetlMapping, RetlSync
from workspace.models import Workspace

SLACK_URL_MAX = 2000
SLACK_CHANNEL_MAX = 80
EMAILS_MAX = 20


class RetlAlertSettings(models.Model):
    """One per workspace (created by the first update; absent: the defaults).
    Segment: "The notification channels that you select for one alert will apply
    to all alerts in your workspace", so the channels live here and the mapping
    alerts use them too."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="reverse_etl_alert_settings"
    )
    # The FAQ: every failed sync alerts; partial success only when asked for.
    sync_failed = models.BooleanField(default=True)
    sync_partial_success = models.BooleanField(default=False)
    in_app = models.BooleanField(default=True)
    slack_webhook_url = models.CharField(max_length=SLACK_URL_MAX, blank=True, default="")
    slack_channel = models.CharField(max_length=SLACK_CHANNEL_MAX, blank=True, default="")
    emails = models.JSONField(default=list)  # addresses; used when email is configured
    update_time = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"alert settings of {self.workspace_id}"


class RetlMappingAlert(models.Model):
    """A mapping's successful delivery rate alert: alerts once when the last 24
    hours' successful / (successful + failed) records fall below ``threshold``
    percent, and again only after the rate recovered (``firing`` remembers)."""

    mapping = models.OneToOneField(RetlMapping, on_delete=models.CASCADE, related_name="alert")
    threshold = models.PositiveSmallIntegerField(default=99)  # percent, 1-100
    enabled = models.BooleanField(default=False)
    firing = models.BooleanField(default=False)
    last_rate = models.FloatField(null=True, blank=True)  # percent, at the last check
    last_check_time = models.DateTimeField(null=True, blank=True)
    update_time = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"delivery rate alert of {self.mapping_id}"


class RetlAlert(models.Model):
    """An alert raised: listed in-app when the in-app channel was on, and sent to
    the Slack webhook and email addresses the settings named at that moment."""

    class Kind(models.TextChoices):
        SYNC_FAILED = "SYNC_FAILED"
        SYNC_PARTIAL_SUCCESS = "SYNC_PARTIAL_SUCCESS"
        DELIVERY_RATE = "DELIVERY_RATE"

    class Delivery(models.TextChoices):
        NONE = "NONE"  # the channel was off
        PENDING = "PENDING"
        SENT = "SENT"
        FAILED = "FAILED"

    key_id = models.CharField(max_length=32, unique=True)  # ralt_...
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="reverse_etl_alerts"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    mapping = models.ForeignKey(
        RetlMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    sync = models.ForeignKey(
        RetlSync, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    title = models.CharField(max_length=200)
    text = models.TextField()
    in_app = models.BooleanField(default=True)
    read_time = models.DateTimeField(null=True, blank=True)
    slack_webhook_url = models.CharField(max_length=SLACK_URL_MAX, blank=True, default="")
    slack_channel = models.CharField(max_length=SLACK_CHANNEL_MAX, blank=True, default="")
    slack = models.CharField(max_length=8, choices=Delivery.choices, default=Delivery.NONE)
    emails = models.JSONField(default=list)
    email = models.CharField(max_length=8, choices=Delivery.choices, default=Delivery.NONE)
    delivery_error = models.TextField(blank=True, default="")
    create_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = (
            models.Index(fields=("workspace", "create_time", "id"), name="retl_alert_keyset"),
        )

    def __str__(self) -> str:
        return self.title

    @property
    def resource_name(self) -> str:
        return f"workspaces/{self.workspace.slug}/reverse-etl/alerts/{self.key_id}"
