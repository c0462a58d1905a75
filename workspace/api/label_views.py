from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)

from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from workspace.api.serializers import LabelCreateSerializer, LabelSerializer
from workspace.models import Label
from workspace.services import labels as service

_LABEL = OpenApiParameter(
    "label", str, OpenApiParameter.PATH, description="{key}:{value}, e.g. environment:prod"
)


@extend_schema_view(
    list=extend_schema(
        summary="List Labels",
        description="The workspace's label catalogue, ordered by key, then value. "
        "Anyone who can see the workspace can read it.",
    ),
    retrieve=extend_schema(summary="Get Label", parameters=[_LABEL]),
    create=extend_schema(
        summary="Create Label",
        description="Workspace Owners only. Key and value each begin with a letter and "
        "contain only letters, digits, hyphens or underscores (1-64 characters).",
        request=inline_serializer("CreateLabel", {"label": LabelCreateSerializer()}),
    ),
    partial_update=extend_schema(
        summary="Update Label (description)",
        parameters=[_LABEL],
        description="Workspace Owners only. Only the description changes: to rename a "
        "label, create the new one, reassign it and delete the old one.",
    ),
    destroy=extend_schema(
        summary="Delete Label",
        parameters=[_LABEL],
        description="Workspace Owners only. A label in use is refused (code 9) with "
        "the places that use it.",
        responses={200: inline_serializer("LabelDeleted", {})},
    ),
)
class LabelViewSet(WorkspaceResourceViewSet):
    resource_key = "label"
    collection_key = "labels"
    serializer_class = LabelSerializer
    create_serializer_class = LabelCreateSerializer
    list_ordering = ("key", "value", "pk")
    lookup_field = "label"
    lookup_value_regex = r"[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[Label]:
        return Label.objects.filter(workspace=self.workspace).select_related("workspace")

    def lookup(self, queryset: models.QuerySet[Label], key: str) -> Label | None:
        label_key, colon, value = key.partition(":")
        if not colon:
            return None
        return queryset.filter(key=label_key, value=value).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Label:
        return service.do_create_label(
            principal=principal,
            workspace=self.workspace,
            key=data["key"],
            value=data["value"],
            description=data.get("description", ""),
        )

    def update_resource(self, principal: Principal, obj: Label, changes: dict[str, Any]) -> Label:
        return service.do_update_label(principal=principal, label=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: Label) -> None:
        service.do_delete_label(principal=principal, label=obj)
