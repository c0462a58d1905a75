"""Config API: a space's identity resolution settings.

``workspaces/{w}/spaces/{space}/identifiers``: every identifier type the space
resolves with, highest priority first; custom ones are created and deleted, all
are updated (priority, limit, period, blocked values) with an update mask, and
``identifiers:import`` copies another space's settings. Changes apply only to
data that arrives afterwards.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework.request import Request
from rest_framework.response import Response

from engage.api.identity_serializers import (
    IdentifierCreateSerializer,
    IdentifierImportSerializer,
    IdentifierListSerializer,
    IdentifierSerializer,
)
from engage.models import IdentifierSetting, Space
from engage.services import identity_settings as service
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import NotFound

WHO = (
    "Read by whoever sees the space; written by Workspace Owners, the space's Unify and "
    "Engage Admins and Identity Admins. Changes apply only to new data."
)
_IDENTIFIER = OpenApiParameter(
    "identifier", str, OpenApiParameter.PATH, description="the identifier type, e.g. android.id"
)


@extend_schema_view(
    list=extend_schema(
        summary="List Identifiers",
        description="The space's identity resolution settings, highest priority first. " + WHO,
    ),
    retrieve=extend_schema(summary="Get Identifier", parameters=[_IDENTIFIER]),
    create=extend_schema(
        summary="Create Custom Identifier",
        description="A custom identifier: a lower-case name, a value limit and blocked "
        "values (the suggested ones when left out). " + WHO,
        request=inline_serializer("CreateIdentifier", {"identifier": IdentifierCreateSerializer()}),
    ),
    partial_update=extend_schema(
        summary="Update Identifier",
        parameters=[_IDENTIFIER],
        description="priority (the others shift to keep 1..n), limit, period, "
        "blocked_values. " + WHO,
    ),
    destroy=extend_schema(
        summary="Delete Custom Identifier",
        parameters=[_IDENTIFIER],
        description="Custom identifiers only: defaults cannot be removed. " + WHO,
        responses={200: inline_serializer("IdentifierDeleted", {})},
    ),
)
class IdentifierViewSet(WorkspaceResourceViewSet):
    resource_key = "identifier"
    collection_key = "identifiers"
    serializer_class = IdentifierSerializer
    create_serializer_class = IdentifierCreateSerializer
    lookup_field = "identifier"
    lookup_value_regex = r"[a-z0-9_.-]+"  # no ":": "identifiers:import" is a custom method
    list_ordering = ("priority", "pk")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @property
    def space(self) -> Space:
        cached: Space | None = getattr(self, "_space", None)
        if cached is None:
            cached = service.visible_space(self.principal, self.workspace, self.kwargs["space"])
            self._space = cached
        return cached

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _ = self.space

    def base_queryset(self) -> models.QuerySet[IdentifierSetting]:
        return IdentifierSetting.objects.filter(space=self.space).select_related("space__workspace")

    def lookup(
        self, queryset: models.QuerySet[IdentifierSetting], key: str
    ) -> IdentifierSetting | None:
        return queryset.filter(type=key).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> IdentifierSetting:
        blocked = data.get("blocked_values")
        return service.do_add_custom_identifier(
            principal=principal,
            space=self.space,
            type=data["type"],
            limit=data["limit"],
            period=data["period"],
            blocked_values=None if blocked is None else [dict(b) for b in blocked],
            priority=data.get("priority"),
        )

    def update_resource(
        self, principal: Principal, obj: IdentifierSetting, changes: dict[str, Any]
    ) -> IdentifierSetting:
        if "blocked_values" in changes:
            changes["blocked_values"] = [dict(b) for b in changes["blocked_values"] or []]
        return service.do_update_identifier(principal=principal, setting=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: IdentifierSetting) -> None:
        service.do_remove_custom_identifier(principal=principal, setting=obj)

    @extend_schema(
        summary="Import Identifiers",
        description="POST .../identifiers:import. Replaces this space's identity resolution "
        "settings with a copy of another space's in the workspace (its identifiers, "
        "priorities, limits, periods and blocked values). " + WHO,
        request=IdentifierImportSerializer,
        responses={200: IdentifierListSerializer},
    )
    def import_settings(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = IdentifierImportSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        slug = incoming.validated_data["from_space"]
        try:
            source = service.visible_space(self.principal, self.workspace, slug)
        except NotFound as exc:
            raise NotFound(f"space {slug!r} not found", field="from_space") from exc
        rows = service.do_import_identity_settings(
            principal=self.principal, from_space=source, to_space=self.space
        )
        return Response(IdentifierListSerializer({"identifiers": rows}).data)
