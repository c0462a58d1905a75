"""Read-only shapes of the catalog: source types and destination definitions.

The top-level resources follow the Config API style of the other resources
(``name`` is the resource name, ``id`` the slug, ``display_name`` the human
name); nested parts keep the catalog's own keys.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from connections.catalog import DestinationDefinition, SourceType


class SourceTypeSerializer(serializers.Serializer):
    name = serializers.SerializerMethodField(help_text="catalog/sources/{source type}")
    id = serializers.CharField(source="slug", help_text="the source type's slug")
    display_name = serializers.CharField(source="name")
    category = serializers.CharField(help_text="website, server, mobile, ...")
    description = serializers.CharField()
    library_tier = serializers.CharField(help_text='flagship, maintenance, community or ""')

    def get_name(self, obj: SourceType) -> str:
        return f"catalog/sources/{obj.slug}"


class SettingDefSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="the key in a destination's settings object")
    label = serializers.CharField()  # type: ignore[assignment]  # DRF pops declared fields
    type = serializers.CharField(
        help_text="string, password, text, number, integer, boolean, select, array, map, text-map"
    )
    required = serializers.BooleanField()  # type: ignore[assignment]  # DRF pops declared fields
    default = serializers.JSONField(allow_null=True)
    secret = serializers.BooleanField(
        source="is_secret", help_text="secret values are never shown after they are set"
    )
    description = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField(), help_text="for select")


class FieldDefSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="the key in a subscription's mapping")
    label = serializers.CharField()  # type: ignore[assignment]  # DRF pops declared fields
    type = serializers.CharField(
        help_text="STRING, OBJECT, INTEGER, NUMBER, BOOLEAN, DATETIME, PASSWORD or TEXT"
    )
    required = serializers.BooleanField()  # type: ignore[assignment]  # DRF pops declared fields
    multiple = serializers.BooleanField(help_text="the value is a list")
    default = serializers.JSONField(
        allow_null=True, help_text='a mapping value, e.g. {"@path": "$.userId"}'
    )
    description = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())


class ActionDefSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    platform = serializers.CharField(help_text="cloud or device")
    default_trigger = serializers.CharField(help_text="an FQL condition")
    batching = serializers.BooleanField(help_text="the action can send events in batches")
    fields = FieldDefSerializer(many=True)  # type: ignore[assignment]  # DRF pops declared fields
    default_mapping = serializers.SerializerMethodField()

    def get_default_mapping(self, obj: Any) -> dict[str, Any]:
        return dict(obj.default_mapping())


class PresetDefSerializer(serializers.Serializer):
    name = serializers.CharField()
    action = serializers.CharField(help_text="the key of the preset's action")
    trigger = serializers.CharField(help_text="an FQL condition")
    mapping = serializers.JSONField()


class DestinationDefinitionSerializer(serializers.Serializer):
    """A destination definition as List shows it: what it is, without its schemas."""

    name = serializers.SerializerMethodField(help_text="catalog/destinations/{destination}")
    id = serializers.CharField(source="slug", help_text="the destination definition's slug")
    display_name = serializers.CharField(source="name")
    description = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    website = serializers.CharField(help_text="its documentation page")
    methods = serializers.ListField(
        child=serializers.CharField(), help_text="the event types it supports"
    )

    def get_name(self, obj: DestinationDefinition) -> str:
        return f"catalog/destinations/{obj.slug}"


class DestinationDefinitionDetailSerializer(DestinationDefinitionSerializer):
    """Get adds the settings schema, the actions with their fields, and the presets."""

    settings = SettingDefSerializer(many=True)
    actions = ActionDefSerializer(many=True)
    presets = PresetDefSerializer(many=True)
