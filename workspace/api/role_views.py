from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from switchyard import names
from switchyard.access.roles import BY_SLUG, CATALOGUE, Role
from switchyard.api.permissions import TokenScopePermission
from switchyard.api.viewsets import list_response, principal_of
from switchyard.errors import NotFound
from workspace.selectors import workspace_for


class RoleSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="workspaces/{workspace}/roles/{role}")
    id = serializers.CharField()
    display_name = serializers.CharField()
    description = serializers.CharField()
    resource_type = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())
    scopes = serializers.ListField(child=serializers.CharField())


def _render(workspace_slug: str, role: Role) -> dict[str, Any]:
    return {
        "name": names.build(("workspaces", workspace_slug), ("roles", role.slug)),
        "id": role.slug,
        "display_name": role.name,
        "description": role.description,
        "resource_type": role.resource_type,
        "actions": sorted(role.actions),
        "scopes": [str(s) for s in role.scopes],
    }


class RoleViewSet(viewsets.ViewSet):
    """The role catalogue, read-only: it is code, not data a workspace edits."""

    permission_classes = (IsAuthenticated, TokenScopePermission)
    lookup_field = "role"
    lookup_value_regex = r"[a-z0-9-]+"

    def _workspace_slug(self, request: Request, workspace: str) -> str:
        from django.http import Http404

        try:
            return workspace_for(principal_of(request), workspace).slug
        except Http404 as exc:
            raise NotFound(f"workspace {workspace!r} not found") from exc

    @extend_schema(
        summary="List Roles",
        responses=list_response("ListRolesResponse", "roles", RoleSerializer(many=True)),
    )
    def list(self, request: Request, workspace: str) -> Response:
        slug = self._workspace_slug(request, workspace)
        return Response({"roles": [_render(slug, r) for r in CATALOGUE], "next_page_token": ""})

    @extend_schema(summary="Get Role", responses=RoleSerializer)
    def retrieve(self, request: Request, workspace: str, role: str) -> Response:
        slug = self._workspace_slug(request, workspace)
        if role not in BY_SLUG:
            raise NotFound(f"role {role!r} not found")
        return Response(_render(slug, BY_SLUG[role]))
