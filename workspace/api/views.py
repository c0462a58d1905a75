from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
    inline_serializer,
)

from switchyard.access import Principal
from switchyard.api.viewsets import ResourceViewSet
from workspace.api.serializers import WorkspaceCreateSerializer, WorkspaceSerializer
from workspace.models import Workspace
from workspace.services import workspaces as service


@extend_schema_view(
    list=extend_schema(
        summary="List Workspaces",
    ),
    retrieve=extend_schema(summary="Get Workspace"),
    create=extend_schema(
        summary="Create Workspace",
        request=inline_serializer("CreateWorkspace", {"workspace": WorkspaceCreateSerializer()}),
    ),
    partial_update=extend_schema(
        summary="Update Workspace",
        description="Only the fields named in update_mask.paths change; a named path "
        "without a value is cleared.",
    ),
    destroy=extend_schema(
        summary="Delete Workspace", responses={200: inline_serializer("Empty", {})}
    ),
)
class WorkspaceViewSet(ResourceViewSet):
    resource_key = "workspace"
    collection_key = "workspaces"
    serializer_class = WorkspaceSerializer
    create_serializer_class = WorkspaceCreateSerializer
    lookup_field = "workspace"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[Workspace]:
        return Workspace.objects.all()

    def lookup(self, queryset: models.QuerySet[Workspace], key: str) -> Workspace | None:
        return queryset.filter(slug=key).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Workspace:
        return service.do_create_workspace(
            principal=principal,
            slug=data["name"],
            display_name=data["display_name"],
            settings=data.get("settings"),
        )

    def update_resource(
        self, principal: Principal, obj: Workspace, changes: dict[str, Any]
    ) -> Workspace:
        return service.do_update_workspace(principal=principal, workspace=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: Workspace) -> None:
        service.do_delete_workspace(principal=principal, workspace=obj)
