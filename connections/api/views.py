from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer

from connections.api.serializers import SourceCreateSerializer, SourceSerializer
from connections.models import Source
from connections.services import sources as service
from switchyard.api.viewsets import PAGE_PARAMETERS, WorkspaceResourceViewSet, list_response
from workspace.access import Principal


@extend_schema_view(
    list=extend_schema(
        summary="List Sources",
        description="Only the sources the caller may see: owners see all; others through "
        "their role grants (all, specific or labelled sources).",
        parameters=PAGE_PARAMETERS,
        responses=list_response("ListSourcesResponse", "sources", SourceSerializer(many=True)),
    ),
    retrieve=extend_schema(summary="Get Source"),
    create=extend_schema(
        summary="Create Source",
        description="Needs Workspace Owner or Source Admin on all sources.",
        request=inline_serializer("CreateSource", {"source": SourceCreateSerializer()}),
    ),
    partial_update=extend_schema(summary="Update Source"),
    destroy=extend_schema(
        summary="Delete Source", responses={200: inline_serializer("DeletedSource", {})}
    ),
)
class SourceViewSet(WorkspaceResourceViewSet):
    resource_key = "source"
    collection_key = "sources"
    serializer_class = SourceSerializer
    create_serializer_class = SourceCreateSerializer
    lookup_field = "source"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[Source]:
        return (
            Source.objects.filter(workspace=self.workspace)
            .select_related("workspace")
            .prefetch_related("labels")
        )

    def lookup(self, queryset: models.QuerySet[Source], key: str) -> Source | None:
        return queryset.filter(slug=key).first()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "workspace": self.workspace}

    def render(self, obj: Source) -> dict[str, Any]:
        return super().render(self.base_queryset().get(pk=obj.pk))

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Source:
        return service.do_create_source(
            principal=principal,
            workspace=self.workspace,
            slug=data["name"],
            display_name=data["display_name"],
            labels=data.get("labels", []),
        )

    def update_resource(self, principal: Principal, obj: Source, changes: dict[str, Any]) -> Source:
        if "label_names" in changes:
            changes["labels"] = changes.pop("label_names")
        return service.do_update_source(principal=principal, source=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: Source) -> None:
        service.do_delete_source(principal=principal, source=obj)
