from __future__ import annotations

from rest_framework import serializers

from switchyard.api import names
from workspace.models import Workspace


class WorkspaceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="resource_name", read_only=True, help_text="Resource name: workspaces/{slug}"
    )
    display_name = serializers.CharField(max_length=100, allow_blank=True)
    settings = serializers.DictField(required=False, help_text="Free-form workspace settings")

    class Meta:
        model = Workspace
        fields = ("name", "id", "display_name", "settings", "create_time", "update_time")
        read_only_fields = ("id", "create_time", "update_time")


class WorkspaceCreateSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="workspaces/{slug}; the slug cannot change later")
    display_name = serializers.CharField(max_length=100)
    settings = serializers.DictField(required=False, default=dict)

    def validate_name(self, value: str) -> str:
        (slug,) = names.parse(value, "workspaces")
        return names.validate_slug(slug)
