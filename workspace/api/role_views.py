from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from switchyard import names
from switchyard.access.roles import BY_SLUG, CATALOGUE, Role
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import NotFound


class RoleSerializer(serializers.Serializer):
    name = serializers.SerializerMethodField(help_text="workspaces/{workspace}/roles/{role}")
    id = serializers.CharField(source="slug")
    display_name = serializers.CharField(source="name")
    description = serializers.CharField()
    resource_type = serializers.CharField()
    actions = serializers.SerializerMethodField()
    scopes = serializers.ListField(child=serializers.CharField())

    def get_name(self, role: Role) -> str:
        return names.build(("workspaces", self.context["workspace_slug"]), ("roles", role.slug))

    def get_actions(self, role: Role) -> list[str]:
        return sorted(role.actions)


@extend_schema_view(
    list=extend_schema(summary="List Roles"),
    retrieve=extend_schema(summary="Get Role"),
)
class RoleViewSet(WorkspaceResourceViewSet):
    """The role catalogue, read-only: it is code, not data a workspace edits."""

    resource_key = "role"
    collection_key = "roles"
    serializer_class = RoleSerializer
    lookup_field = "role"
    lookup_value_regex = r"[a-z0-9-]+"
    list_ordering = ("slug",)
    http_method_names = ["get", "head", "options"]

    def list_items(self) -> tuple[Role, ...]:
        return CATALOGUE

    def get_object(self) -> Role:
        key = self.kwargs[self.lookup_field]
        if key not in BY_SLUG:
            raise NotFound(f"role {key!r} not found")
        return BY_SLUG[key]

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "workspace_slug": self.workspace.slug}
