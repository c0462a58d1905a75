from __future__ import annotations

from rest_framework import serializers

from connections.models import Source
from switchyard.api import names


class SourceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name", read_only=True, help_text="workspaces/{workspace}/sources/{source}"
    )
    id = serializers.CharField(source="pk", read_only=True)
    display_name = serializers.CharField(max_length=100, allow_blank=True)
    labels = serializers.ListField(
        child=serializers.CharField(),
        source="label_names",
        required=False,
        help_text='key:value labels, e.g. ["environment:prod"]',
    )

    class Meta:
        model = Source
        fields = ("name", "id", "display_name", "labels", "create_time")
        read_only_fields = ("create_time",)


class SourceCreateSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="workspaces/{workspace}/sources/{slug}")
    display_name = serializers.CharField(max_length=100)
    labels = serializers.ListField(child=serializers.CharField(), required=False, default=list)

    def validate_name(self, value: str) -> str:
        workspace_slug, slug = names.parse(value, "workspaces", "sources")
        if workspace_slug != self.context["workspace"].slug:
            raise serializers.ValidationError("the source must be named inside this workspace")
        return names.validate_slug(slug)
