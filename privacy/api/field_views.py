"""``.../privacy/inbox`` (List) and ``.../privacy/inventory`` (+ ``:export``, CSV).

Workspace Owners only, as the Privacy Portal is: a member gets 403, a stranger 404.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.db import models
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from privacy.api.field_serializers import (
    InboxRowSerializer,
    InventoryFieldCreateSerializer,
    InventoryFieldSerializer,
)
from privacy.models import InventoryField, ObservedField
from privacy.selectors import fields as selectors
from privacy.services import fields as service
from switchyard.access import Principal
from switchyard.api.pagination import make_token, page_size_from, read_token
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import InvalidArgument

_OWNERS = "Workspace Owners only (the Privacy Portal is theirs)."
_FIELD = OpenApiParameter(
    "inventory_field", str, OpenApiParameter.PATH, description="the field's if_... id"
)
_SOURCE = OpenApiParameter("source", str, description="only fields this source (slug) sent")
_FILTERS = [
    OpenApiParameter(
        "classification", str, enum=list(service.CHOICES), description="only this classification"
    ),
    _SOURCE,
    OpenApiParameter(
        "environment",
        str,
        description="only fields sent by sources labelled environment:<value>",
    ),
]


def _classification_filter(params: Any) -> str:
    raw = params.get("classification") or ""
    return service.clean_classification(raw) if raw else ""


@extend_schema_view(
    list=extend_schema(
        summary="List Privacy Inbox",
        description="Every field path a source sent in the last 7 days, one row per "
        "(path, source), ordered by path then source, with the matchers' recommended "
        "classification (a path in the Inventory shows its classification). " + _OWNERS,
        parameters=[_SOURCE],
    ),
)
class InboxViewSet(WorkspaceResourceViewSet):
    resource_key = "field"
    collection_key = "fields"
    serializer_class = InboxRowSerializer
    http_method_names = ["get", "head", "options"]
    required_workspace_action = "administer"
    list_ordering = ("path", "source_id")

    def base_queryset(self) -> models.QuerySet[ObservedField]:
        return selectors.inbox_queryset(self.workspace, self.principal)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Rows are groups (path, source), so the page is cut in SQL by hand; the
        # token carries the last group's key, signed like every List's.
        params = request.query_params
        size = page_size_from(params)
        scope = f"{request.path}:{self.collection_key}"
        after = None
        if token := params.get("page_token"):
            path, source_id = read_token(scope, token, 2)
            if not isinstance(path, str) or not isinstance(source_id, int):
                raise InvalidArgument("invalid page_token", field="page_token")
            after = (path, source_id)
        rows = selectors.inbox_rows(
            self.workspace,
            self.principal,
            after=after,
            limit=size + 1,
            source=params.get("source") or "",
        )
        next_token = ""
        if len(rows) > size:
            rows = rows[:size]
            next_token = make_token(scope, [rows[-1].path, rows[-1].source_id])
        data = InboxRowSerializer(rows, many=True).data
        return Response({self.collection_key: data, "next_page_token": next_token})


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, context: Any = None) -> bytes:
        # Only errors come through here (the export answers its CSV itself).
        return data if isinstance(data, bytes) else orjson.dumps(data)


@extend_schema_view(
    list=extend_schema(
        summary="List Privacy Inventory",
        description="The fields an owner classified, oldest first, optionally filtered. " + _OWNERS,
        parameters=_FILTERS,
    ),
    retrieve=extend_schema(summary="Get Inventory Field", parameters=[_FIELD]),
    create=extend_schema(
        summary="Add Inventory Field",
        description="Classify a field path for the whole workspace: every source and event "
        "type that sends it. A path already in the Inventory is refused (code 6). " + _OWNERS,
        request=inline_serializer(
            "AddInventoryField", {"inventory_field": InventoryFieldCreateSerializer()}
        ),
    ),
    partial_update=extend_schema(
        summary="Update Inventory Field",
        parameters=[_FIELD],
        description="update_mask.paths: classification. GREEN after RED or YELLOW keeps "
        "restricted (the values stay masked). " + _OWNERS,
    ),
    destroy=extend_schema(
        summary="Remove Inventory Field",
        parameters=[_FIELD],
        description=_OWNERS,
        responses={200: inline_serializer("InventoryFieldRemoved", {})},
    ),
)
class InventoryViewSet(WorkspaceResourceViewSet):
    resource_key = "inventory_field"
    collection_key = "inventory_fields"
    serializer_class = InventoryFieldSerializer
    create_serializer_class = InventoryFieldCreateSerializer
    lookup_field = "inventory_field"
    lookup_value_regex = r"[a-zA-Z0-9_-]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_workspace_action = "administer"

    def base_queryset(self) -> models.QuerySet[InventoryField]:
        return InventoryField.objects.filter(workspace=self.workspace).select_related("workspace")

    def list_items(self) -> models.QuerySet[InventoryField]:
        params = self.request.query_params
        return selectors.inventory_queryset(
            self.workspace,
            self.principal,
            classification=_classification_filter(params),
            source=params.get("source") or "",
            environment=params.get("environment") or "",
        )

    def lookup(self, queryset: models.QuerySet[InventoryField], key: str) -> InventoryField | None:
        return queryset.filter(key_id=key).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> InventoryField:
        return service.do_add_inventory_field(principal=principal, workspace=self.workspace, **data)

    def update_resource(
        self, principal: Principal, obj: InventoryField, changes: dict[str, Any]
    ) -> InventoryField:
        return service.do_update_inventory_field(principal=principal, field=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: InventoryField) -> None:
        service.do_remove_inventory_field(principal=principal, field=obj)

    def handle_exception(self, exc: Exception) -> Response:
        # An error is JSON even to a client that asked for the CSV: rendered as
        # text/csv it would be replaced by the API's generic envelope, losing its
        # message and a 405's Allow header.
        request = self.request
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)

    @extend_schema(
        summary="Export Privacy Inventory",
        description="GET .../privacy/inventory:export: the whole Inventory as CSV "
        "(filters are ignored, as the docs say). " + _OWNERS,
        parameters=[],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV")},
    )
    def export(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        body = selectors.inventory_csv(self.workspace, self.principal)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        filename = f"{self.workspace.slug}-privacy-inventory.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
