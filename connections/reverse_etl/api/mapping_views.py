"""Config API: Reverse ETL mappings (model -> destination) and their sync runs."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from connections.models import Destination
from connections.reverse_etl.api.mapping_serializers import (
    MAPPING_KEY,
    SYNC_KEY,
    RetlMappingCreateSerializer,
    RetlMappingSerializer,
    RetlSyncSerializer,
)
from connections.reverse_etl.models import RetlMapping, RetlModel, RetlSync
from connections.reverse_etl.services import mappings as mapping_service
from connections.reverse_etl.services import syncs as sync_service
from switchyard import access
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import InvalidArgument, NotFound

DELETED = inline_serializer("RetlMappingDeleted", {})
IMMUTABLE = ("model", "destination", "action")


@extend_schema_view(
    list=extend_schema(summary="List Reverse ETL Mappings"),
    retrieve=extend_schema(summary="Get Reverse ETL Mapping"),
    create=extend_schema(
        summary="Create Reverse ETL Mapping",
        description="Needs edit rights on the model's source. Each change of the model "
        "that `record_selection` selects is mapped by `field_mappings` (default: the "
        "action's) onto the fields of `action` (an action of the destination; unknown "
        "actions are refused naming the offered ones) and delivered through it. The "
        "name defaults to the action's.",
        request=inline_serializer(
            "CreateReverseEtlMapping", {"reverse_etl_mapping": RetlMappingCreateSerializer()}
        ),
    ),
    partial_update=extend_schema(
        summary="Update Reverse ETL Mapping",
        description="The model, destination and action are immutable; "
        "`field_mappings` members may be masked one by one "
        "(`reverse_etl_mapping.field_mappings.<field>`).",
    ),
    destroy=extend_schema(summary="Delete Reverse ETL Mapping", responses={200: DELETED}),
)
class RetlMappingViewSet(WorkspaceResourceViewSet):
    resource_key = "reverse_etl_mapping"
    collection_key = "reverse_etl_mappings"
    serializer_class = RetlMappingSerializer
    create_serializer_class = RetlMappingCreateSerializer
    lookup_field = "retl_mapping"
    lookup_value_regex = MAPPING_KEY
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[RetlMapping]:
        return RetlMapping.objects.filter(workspace=self.workspace).select_related(
            "workspace", "model__workspace", "destination__source__workspace"
        )

    def lookup(self, queryset: models.QuerySet[RetlMapping], key: str) -> RetlMapping | None:
        return queryset.filter(key_id=key).first()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "workspace": self.workspace}

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> RetlMapping:
        models_seen = access.restrict(
            RetlModel.objects.filter(workspace=self.workspace), principal, "view"
        )
        model = models_seen.select_related("workspace").filter(slug=data.pop("model")).first()
        if model is None:
            raise NotFound("Reverse ETL model not found", field="model")
        destinations = access.restrict(
            Destination.objects.filter(source__workspace=self.workspace), principal, "view"
        )
        destination = (
            destinations.select_related("source").filter(key_id=data.pop("destination")).first()
        )
        if destination is None:
            raise NotFound("destination not found", field="destination")
        return mapping_service.do_create_mapping(
            principal=principal, model=model, destination=destination, **data
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        mask = request.data.get("update_mask") if isinstance(request.data, dict) else None
        paths = mask.get("paths") if isinstance(mask, dict) else None
        for field in IMMUTABLE:
            if isinstance(paths, list) and f"{self.resource_key}.{field}" in paths:
                self.get_object()
                raise InvalidArgument(
                    f"a Reverse ETL mapping's {field} cannot be changed",
                    field="update_mask.paths",
                )
        return super().partial_update(request, *args, **kwargs)

    def update_resource(
        self, principal: Principal, obj: RetlMapping, changes: dict[str, Any]
    ) -> RetlMapping:
        return mapping_service.do_update_mapping(principal=principal, mapping=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: RetlMapping) -> None:
        mapping_service.do_delete_mapping(principal=principal, mapping=obj)

    @extend_schema(
        summary="Duplicate Reverse ETL Mapping",
        description="POST .../mappings/{mapping}:duplicate. A copy with the same settings, "
        "disabled, with its own snapshot (its first run sends every row).",
        request=None,
        responses={200: RetlMappingSerializer},
    )
    def duplicate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        copy = mapping_service.do_duplicate_mapping(
            principal=self.principal, mapping=self.get_object()
        )
        return Response(self.render(copy))


@extend_schema_view(
    list=extend_schema(summary="List Reverse ETL Sync Runs", description="Oldest first."),
    retrieve=extend_schema(summary="Get Reverse ETL Sync Run"),
)
class RetlSyncViewSet(WorkspaceResourceViewSet):
    resource_key = "reverse_etl_sync"
    collection_key = "reverse_etl_syncs"
    serializer_class = RetlSyncSerializer
    lookup_field = "retl_sync"
    lookup_value_regex = SYNC_KEY
    # Runs are started by :run, never created directly; the custom methods' views
    # allow POST themselves (urls.py).
    http_method_names = ["get", "head", "options"]

    def mapping(self) -> RetlMapping:
        visible = access.restrict(
            RetlMapping.objects.filter(workspace=self.workspace), self.principal, "view"
        )
        found = (
            visible.select_related("workspace", "model__source")
            .filter(key_id=self.kwargs["retl_mapping"])
            .first()
        )
        if found is None:
            raise NotFound(f"reverse_etl_mapping {self.kwargs['retl_mapping']!r} not found")
        return found

    def base_queryset(self) -> models.QuerySet[RetlSync]:
        return RetlSync.objects.filter(mapping=self.mapping()).select_related("mapping__workspace")

    def list_items(self) -> models.QuerySet[RetlSync]:
        return self.get_queryset()

    def lookup(self, queryset: models.QuerySet[RetlSync], key: str) -> RetlSync | None:
        return queryset.filter(key_id=key).first()

    @extend_schema(
        summary="Run Reverse ETL Mapping Now",
        description="POST .../mappings/{mapping}/syncs:run. Starts a sync run (extract, "
        "load, commit) on a worker and answers it QUEUED; 409 while a run of the mapping "
        "is active.",
        request=None,
        responses={200: RetlSyncSerializer},
    )
    def run(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sync = sync_service.do_run_now(principal=self.principal, mapping=self.mapping())
        return Response(self.render(sync))

    @extend_schema(
        summary="Reset Reverse ETL Mapping",
        description="POST .../mappings/{mapping}/syncs:reset. Forgets what the mapping "
        "delivered: its next run sends every row as added. 409 while a run is active.",
        request=None,
        responses={200: inline_serializer("RetlMappingReset", {})},
    )
    def reset(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sync_service.do_reset_mapping(principal=self.principal, mapping=self.mapping())
        return Response({})

    @extend_schema(
        summary="Cancel Reverse ETL Sync Run",
        description='POST .../syncs/{sync}:cancel, optionally with `{"reason": "..."}` '
        "(at most 500 characters, kept on the run as `cancel_reason`). A running sync "
        "becomes CANCELING, stops at its next page, keeps what it delivered and ends "
        "CANCELED; a queued one is CANCELED at once.",
        request=inline_serializer(
            "RetlSyncCancel", {"reason": serializers.CharField(required=False, max_length=500)}
        ),
        responses={200: RetlSyncSerializer},
    )
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        sync = sync_service.do_cancel(
            principal=self.principal, sync=self.get_object(), reason=body.get("reason", "")
        )
        return Response(self.render(sync))
