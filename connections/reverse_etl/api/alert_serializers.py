"""Config API shapes of Reverse ETL alerts and consent."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from connections.reverse_etl.models import (
    RetlAlert,
    RetlAlertSettings,
    RetlConsentCategory,
    RetlMappingAlert,
    RetlModelConsent,
)

ALERT_KEY = r"ralt_[a-z0-9]+"


class RetlAlertSettingsSerializer(serializers.Serializer):
    """The workspace's Reverse ETL alerts and the channels all of them use."""

    name = serializers.SerializerMethodField(
        help_text="workspaces/{workspace}/reverse-etl/alert-settings"
    )
    sync_failed = serializers.BooleanField(help_text="Alert when a sync fails (default on)")
    sync_partial_success = serializers.BooleanField(
        help_text="Alert when some records of a sync fail (default off)"
    )
    in_app = serializers.BooleanField(help_text="List alerts in the app (default on)")
    slack_webhook_url = serializers.CharField(
        allow_blank=True, help_text="A Slack (or Slack-compatible) incoming webhook URL"
    )
    slack_channel = serializers.CharField(allow_blank=True, help_text="e.g. #data-alerts")
    emails = serializers.ListField(
        child=serializers.CharField(),
        help_text="Addresses alerted by email; needs an SMTP server (email_available)",
    )
    email_available = serializers.SerializerMethodField(
        help_text="Whether this install sends email (an SMTP backend is configured)"
    )
    update_time = serializers.DateTimeField(read_only=True)

    def get_name(self, obj: RetlAlertSettings) -> str:
        return f"workspaces/{obj.workspace.slug}/reverse-etl/alert-settings"

    def get_email_available(self, obj: RetlAlertSettings) -> bool:
        from connections.reverse_etl.services.alerts import email_configured

        return email_configured()


class RetlMappingAlertSerializer(serializers.Serializer):
    """A mapping's successful delivery rate alert (channels: the workspace's settings)."""

    name = serializers.SerializerMethodField(
        help_text="workspaces/{workspace}/reverse-etl/mappings/{mapping}/alert"
    )
    threshold = serializers.IntegerField(
        help_text="Percent (1-100): alert when the last 24 hours' successful delivery "
        "rate falls below it"
    )
    enabled = serializers.BooleanField()
    firing = serializers.BooleanField(
        read_only=True, help_text="Below the threshold and alerted; clears on recovery"
    )
    last_rate = serializers.FloatField(read_only=True, allow_null=True)
    last_check_time = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_name(self, obj: RetlMappingAlert) -> str:
        return f"{obj.mapping.resource_name}/alert"


class RetlAlertSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name",
        read_only=True,
        help_text="workspaces/{workspace}/reverse-etl/alerts/{alert}",
    )
    id = serializers.CharField(source="key_id", read_only=True)
    mapping = serializers.SerializerMethodField()
    sync = serializers.SerializerMethodField()
    read = serializers.SerializerMethodField()
    slack = serializers.CharField(read_only=True, help_text="NONE, PENDING, SENT or FAILED")
    email = serializers.CharField(read_only=True, help_text="NONE, PENDING, SENT or FAILED")

    class Meta:
        model = RetlAlert
        fields = (
            "name",
            "id",
            "kind",
            "title",
            "text",
            "mapping",
            "sync",
            "read",
            "read_time",
            "slack",
            "email",
            "create_time",
        )
        read_only_fields = fields

    def get_mapping(self, obj: RetlAlert) -> str | None:
        return obj.mapping.resource_name if obj.mapping is not None else None

    def get_sync(self, obj: RetlAlert) -> str | None:
        return obj.sync.resource_name if obj.sync is not None else None

    def get_read(self, obj: RetlAlert) -> bool:
        return obj.read_time is not None


class ConsentCategorySerializer(serializers.Serializer):
    category_id = serializers.CharField(help_text="The key in categoryPreferences")
    display_name = serializers.CharField()
    destinations = serializers.ListField(
        child=serializers.CharField(),
        help_text="workspaces/{w}/sources/{s}/destinations/{d} that need this consent",
    )


class RetlConsentCategoriesSerializer(serializers.Serializer):
    """The workspace's consent categories (Workspace Owners edit them)."""

    name = serializers.SerializerMethodField(
        help_text="workspaces/{workspace}/reverse-etl/consent-categories"
    )
    categories = serializers.ListField(child=serializers.DictField())

    def get_name(self, obj: dict[str, Any]) -> str:
        return f"workspaces/{obj['workspace'].slug}/reverse-etl/consent-categories"

    def to_representation(self, instance: Any) -> dict[str, Any]:
        rows: list[RetlConsentCategory] = instance["categories"]
        return {
            "name": self.get_name(instance),
            "categories": [
                {
                    "category_id": c.category_id,
                    "display_name": c.display_name,
                    "destinations": sorted(d.resource_name for d in c.destinations.all()),
                }
                for c in rows
            ],
        }


class RetlModelConsentSerializer(serializers.Serializer):
    """A model's consent columns: category_id -> the model's boolean column."""

    name = serializers.SerializerMethodField(
        help_text="workspaces/{workspace}/reverse-etl/models/{model}/consent"
    )
    columns = serializers.DictField(child=serializers.CharField())
    update_time = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_name(self, obj: RetlModelConsent) -> str:
        return f"{obj.model.resource_name}/consent"
