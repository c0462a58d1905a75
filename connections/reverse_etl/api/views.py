"""Config API: Reverse ETL sources (warehouse connections) and models (SQL queries)."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework.request import Request
from rest_framework.response import Response

from connections.reverse_etl.api.serializers import (
    ConnectionReportSerializer,
    RetlModelCreateSerializer,
    RetlModelSerializer,
    RetlPreviewRequestSerializer,
    RetlPreviewSerializer,
    RetlSourceCreateSerializer,
    RetlSourceSerializer,
    report_data,
)
from connections.reverse_etl.models import RetlModel, RetlSource
from connections.reverse_etl.services import models as model_service
from connections.reverse_etl.services import sources as source_service
from switchyard import access
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import InvalidArgument, NotFound

DELETED = inline_serializer("RetlDeleted", {})
SLUG_LOOKUP = r"[a-z0-9-]+"  # no ":": "{slug}:test" is a custom method


def _immutable(request: Request, resource_key: str, fields: tuple[str, ...]) -> str | None:
    mask = request.data.get("update_mask") if isinstance(request.data, dict) else None
    paths = mask.get("paths") if isinstance(mask, dict) else None
    if not isinstance(paths, list):
        return None
    for field in fields:
        if f"{resource_key}.{field}" in paths:
            return field
    return None


@extend_schema_view(
    list=extend_schema(
        summary="List Reverse ETL Sources",
        description="Warehouse connections. Workspace Owners, and Source Admin or Source "
        "Read-only granted on all sources, see them.",
    ),
    retrieve=extend_schema(summary="Get Reverse ETL Source"),
    create=extend_schema(
        summary="Create Reverse ETL Source",
        description="Needs Workspace Owner or Source Admin on all sources. Give a `dsn`, or "
        "`host`, `database` and `username` (and `password`). Secrets are stored encrypted "
        "and never returned. Only implemented warehouses (postgres) can be created.",
        request=inline_serializer(
            "CreateReverseEtlSource", {"reverse_etl_source": RetlSourceCreateSerializer()}
        ),
    ),
    partial_update=extend_schema(
        summary="Update Reverse ETL Source",
        description="Connection settings and secrets (write-only). The slug and warehouse "
        "are immutable.",
    ),
    destroy=extend_schema(
        summary="Delete Reverse ETL Source",
        description="Deletes the source and its models. Bookkeeping tables stay in the "
        "warehouse's `__switchyard_retl` schema.",
        responses={200: DELETED},
    ),
)
class RetlSourceViewSet(WorkspaceResourceViewSet):
    resource_key = "reverse_etl_source"
    collection_key = "reverse_etl_sources"
    serializer_class = RetlSourceSerializer
    create_serializer_class = RetlSourceCreateSerializer
    lookup_field = "retl_source"
    lookup_value_regex = SLUG_LOOKUP
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[RetlSource]:
        return RetlSource.objects.filter(workspace=self.workspace).select_related("workspace")

    def lookup(self, queryset: models.QuerySet[RetlSource], key: str) -> RetlSource | None:
        return queryset.filter(slug=key).first()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "workspace": self.workspace}

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> RetlSource:
        return source_service.do_create_retl_source(
            principal=principal, workspace=self.workspace, slug=data.pop("name"), **data
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        field = _immutable(request, self.resource_key, ("name", "warehouse"))
        if field is not None:
            self.get_object()  # an unseen source is 404 first
            raise InvalidArgument(
                f"a Reverse ETL source's {field} cannot be changed", field="update_mask.paths"
            )
        return super().partial_update(request, *args, **kwargs)

    def update_resource(
        self, principal: Principal, obj: RetlSource, changes: dict[str, Any]
    ) -> RetlSource:
        return source_service.do_update_retl_source(
            principal=principal, source=obj, changes=changes
        )

    def delete_resource(self, principal: Principal, obj: RetlSource) -> None:
        source_service.do_delete_retl_source(principal=principal, source=obj)

    @extend_schema(
        summary="Test Reverse ETL Source Connection",
        description="POST .../reverse-etl/sources/{source}:test. Runs the setup guide's "
        "checks with the stored credentials and reports each: `connect`, `read` (tables "
        "the user can read) and `bookkeeping` (the user can create the `__switchyard_retl` "
        "schema; if not, bookkeeping lives in Switchyard's database). Needs edit rights "
        "(it may create that schema).",
        request=None,
        responses={200: ConnectionReportSerializer},
    )
    def test_connection(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = source_service.do_test_connection(
            principal=self.principal, source=self.get_object()
        )
        return Response(report_data(report))


@extend_schema_view(
    list=extend_schema(
        summary="List Reverse ETL Models",
        description="SQL models of the sources the caller may see.",
    ),
    retrieve=extend_schema(summary="Get Reverse ETL Model"),
    create=extend_schema(
        summary="Create Reverse ETL Model",
        description="Needs edit rights on the source. The query (one SELECT, at most 65,535 "
        "characters) is run read-only in the warehouse without fetching rows: it must run "
        "and return `identifier_column`.",
        request=inline_serializer(
            "CreateReverseEtlModel", {"reverse_etl_model": RetlModelCreateSerializer()}
        ),
    ),
    partial_update=extend_schema(
        summary="Update Reverse ETL Model",
        description="display_name, description, query, identifier_column, enabled; a "
        "changed query or identifier is checked in the warehouse again.",
    ),
    destroy=extend_schema(summary="Delete Reverse ETL Model", responses={200: DELETED}),
)
class RetlModelViewSet(WorkspaceResourceViewSet):
    resource_key = "reverse_etl_model"
    collection_key = "reverse_etl_models"
    serializer_class = RetlModelSerializer
    create_serializer_class = RetlModelCreateSerializer
    lookup_field = "retl_model"
    lookup_value_regex = SLUG_LOOKUP
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[RetlModel]:
        return RetlModel.objects.filter(workspace=self.workspace).select_related(
            "workspace", "source__workspace"
        )

    def lookup(self, queryset: models.QuerySet[RetlModel], key: str) -> RetlModel | None:
        return queryset.filter(slug=key).first()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "workspace": self.workspace}

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> RetlModel:
        visible = access.restrict(
            RetlSource.objects.filter(workspace=self.workspace), principal, "view"
        )
        source = visible.select_related("workspace").filter(slug=data.pop("source")).first()
        if source is None:
            raise NotFound("Reverse ETL source not found", field="source")
        return model_service.do_create_retl_model(
            principal=principal, source=source, slug=data.pop("name"), **data
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        field = _immutable(request, self.resource_key, ("name", "source"))
        if field is not None:
            self.get_object()
            raise InvalidArgument(
                f"a Reverse ETL model's {field} cannot be changed", field="update_mask.paths"
            )
        return super().partial_update(request, *args, **kwargs)

    def update_resource(
        self, principal: Principal, obj: RetlModel, changes: dict[str, Any]
    ) -> RetlModel:
        return model_service.do_update_retl_model(principal=principal, model=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: RetlModel) -> None:
        model_service.do_delete_retl_model(principal=principal, model=obj)

    @extend_schema(
        summary="Preview Reverse ETL Model",
        description="POST .../reverse-etl/models/{model}:preview. The first rows of the "
        "query (10 unless `limit`, at most 100), read-only and under a time limit, and "
        "whether the identifier is unique and non-null among them. An edited `query` or "
        "`identifier_column` may be previewed before saving (needs edit rights).",
        request=RetlPreviewRequestSerializer,
        responses={200: RetlPreviewSerializer},
    )
    def preview(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        model = self.get_object()
        body = request.data if request.data is not None else {}
        incoming = RetlPreviewRequestSerializer(data=body)
        incoming.is_valid(raise_exception=True)
        preview = model_service.preview_model(
            principal=self.principal, model=model, **incoming.validated_data
        )
        return Response(dataclasses.asdict(preview))
