from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connections.models import Destination, DestinationFilter, Source, Subscription, WriteKey
from connections.services.destinations import public_settings
from switchyard import names
from switchyard.api.schema import PatternCharField

WARNINGS_HELP = (
    "Filled in the answers of Create and Update (empty elsewhere): what the save "
    "accepted but delivery will refuse, e.g. a URL whose host is a loopback or private "
    "address while DELIVERY_ALLOW_PRIVATE_NETWORKS is off (the SSRF guard)."
)


class SaveWarningsMixin(serializers.Serializer):
    """``warnings``: the viewset fills it after a save (address_warnings)."""

    warnings = serializers.SerializerMethodField(help_text=WARNINGS_HELP)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, instance: Any) -> list[str]:
        return []


class SourceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name", read_only=True, help_text="workspaces/{workspace}/sources/{source}"
    )
    id = serializers.CharField(source="pk", read_only=True)
    display_name = serializers.CharField(max_length=100, allow_blank=True)
    source_type = serializers.CharField(read_only=True, help_text="a catalog source type slug")
    enabled = serializers.BooleanField(required=False)
    settings = serializers.JSONField(required=False)
    labels = serializers.ListField(
        child=serializers.CharField(),
        source="label_names",
        required=False,
        help_text='key:value labels, e.g. ["environment:prod"]',
    )

    class Meta:
        model = Source
        fields = (
            "name",
            "id",
            "display_name",
            "source_type",
            "enabled",
            "settings",
            "labels",
            "create_time",
            "update_time",
        )
        read_only_fields = ("create_time", "update_time")


class SourceCreateSerializer(serializers.Serializer):
    name = PatternCharField(
        pattern=names.name_pattern("workspaces", "sources"),
        help_text="workspaces/{workspace}/sources/{slug}, inside the workspace of the path",
    )
    display_name = serializers.CharField(max_length=100)
    source_type = serializers.CharField(default="http-api", help_text="a catalog source type slug")
    enabled = serializers.BooleanField(default=True)
    settings = serializers.JSONField(required=False, default=dict)
    labels = serializers.ListField(child=serializers.CharField(), required=False, default=list)

    def validate_name(self, value: str) -> str:
        workspace_slug, slug = names.parse(value, "workspaces", "sources")
        if workspace_slug != self.context["workspace"].slug:
            raise serializers.ValidationError("the source must be named inside this workspace")
        return names.validate_slug(slug)


class WriteKeySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="resource_name", read_only=True)
    id = serializers.CharField(source="key_id", read_only=True)
    write_key = serializers.SerializerMethodField(
        help_text="the key in full for those who may change the source; masked otherwise"
    )
    revoked = serializers.SerializerMethodField()

    class Meta:
        model = WriteKey
        fields = ("name", "id", "write_key", "description", "create_time", "revoked", "revoke_time")
        read_only_fields = fields

    def get_write_key(self, obj: WriteKey) -> str:
        return obj.secret if self.context.get("show_secrets") else obj.masked

    def get_revoked(self, obj: WriteKey) -> bool:
        return obj.revoke_time is not None


class WriteKeyCreateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=200, required=False, default="")


class DestinationSerializer(SaveWarningsMixin, serializers.ModelSerializer):
    name = serializers.CharField(source="resource_name", read_only=True)
    id = serializers.CharField(source="key_id", read_only=True)
    definition = serializers.CharField(read_only=True, help_text="catalog destination slug")
    display_name = serializers.CharField(max_length=100)
    enabled = serializers.BooleanField(required=False)
    settings = serializers.JSONField(
        required=False, help_text="secret settings are write-only: never returned"
    )

    class Meta:
        model = Destination
        fields = (
            "name",
            "id",
            "definition",
            "display_name",
            "enabled",
            "settings",
            "create_time",
            "update_time",
            "warnings",
        )
        read_only_fields = ("create_time", "update_time")

    def to_representation(self, instance: Destination) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["settings"] = public_settings(instance)
        return data


class DestinationCreateSerializer(serializers.Serializer):
    definition = serializers.CharField(help_text="catalog destination slug, e.g. actions-webhook")
    display_name = serializers.CharField(max_length=100, required=False, default="")
    enabled = serializers.BooleanField(default=False)
    settings = serializers.JSONField(required=False, default=dict)
    presets = serializers.JSONField(
        required=False,
        default=None,
        help_text="true for all of the definition's presets, or a list of preset names",
    )


class SubscriptionSerializer(SaveWarningsMixin, serializers.ModelSerializer):
    name = serializers.CharField(source="resource_name", read_only=True)
    id = serializers.CharField(source="key_id", read_only=True)
    display_name = serializers.CharField(source="name", max_length=100)
    action = serializers.CharField(max_length=64)
    enabled = serializers.BooleanField(required=False)
    trigger = serializers.CharField(allow_blank=True, help_text="an FQL expression")
    mapping = serializers.JSONField(help_text="action field -> value or directive")

    class Meta:
        model = Subscription
        fields = (
            "name",
            "id",
            "display_name",
            "action",
            "enabled",
            "trigger",
            "mapping",
            "position",
            "create_time",
            "update_time",
            "warnings",
        )
        read_only_fields = ("position", "create_time", "update_time")


class SubscriptionCreateSerializer(serializers.Serializer):
    action = serializers.CharField(help_text="an action key of the destination's definition")
    display_name = serializers.CharField(max_length=100, required=False, default="")
    enabled = serializers.BooleanField(default=False)
    trigger = serializers.CharField(
        required=False, default=None, allow_null=True, help_text="defaults to the action's"
    )
    mapping = serializers.JSONField(
        required=False, default=None, help_text="defaults to the action's default mapping"
    )


class FilterSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="resource_name", read_only=True)
    id = serializers.CharField(source="key_id", read_only=True)
    title = serializers.CharField(max_length=64, allow_blank=True)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    enabled = serializers.BooleanField(required=False)
    actions = serializers.JSONField()

    class Meta:
        model = DestinationFilter
        fields = (
            "name",
            "id",
            "title",
            "description",
            "actions",
            "enabled",
            "position",
            "create_time",
            "update_time",
        )
        read_only_fields = ("position", "create_time", "update_time")

    def get_fields(self) -> dict[str, serializers.Field]:
        # "if" is a Python keyword, so it cannot be declared as an attribute; the
        # stored column is ``condition``.
        fields = super().get_fields()
        ordered = {}
        for key, field in fields.items():
            ordered[key] = field
            if key == "description":
                ordered["if"] = serializers.CharField(
                    source="condition", help_text='an FQL expression or "all"'
                )
        return ordered


class FilterCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=64)
    description = serializers.CharField(max_length=500, required=False, default="")
    # Like a mapping (and as Segment's docs say of actions): off until the user has
    # finished configuring it and turns it on.
    enabled = serializers.BooleanField(default=False)
    actions = serializers.JSONField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["if"] = serializers.CharField(help_text='an FQL expression or "all"')
        return fields


class PreviewRequestSerializer(serializers.Serializer):
    event = serializers.JSONField(help_text="a sample event, as the Tracking API would store it")
