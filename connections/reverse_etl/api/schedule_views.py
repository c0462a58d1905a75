"""``workspaces/{w}/reverse-etl/mappings/{mapping}/schedule``: one per mapping, Get
and Update (no List, Create or Delete: a mapping without one is MANUAL)."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request

from connections.reverse_etl.api.schedule_serializers import RetlScheduleSerializer
from connections.reverse_etl.models import RetlMapping
from connections.reverse_etl.models.schedules import RetlSchedule
from connections.reverse_etl.services import schedules as service
from switchyard import access
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import NotFound


@extend_schema_view(
    retrieve=extend_schema(summary="Get Reverse ETL Mapping Schedule"),
    partial_update=extend_schema(
        summary="Update Reverse ETL Mapping Schedule",
        description="`update_mask.paths` of `reverse_etl_schedule.kind`, `.interval`, `.days`, "
        "`.times`, `.cron`, `.timezone`. Applies without a restart (beat reads its rows "
        "from the database). Switching to INTERVAL starts a sync at once; a schedule "
        "firing more often than every 15 minutes is refused.",
    ),
)
class RetlScheduleViewSet(WorkspaceResourceViewSet):
    resource_key = "reverse_etl_schedule"
    collection_key = "reverse_etl_schedules"
    serializer_class = RetlScheduleSerializer
    http_method_names = ["get", "patch", "head", "options"]

    @property
    def mapping(self) -> RetlMapping:
        cached: RetlMapping | None = getattr(self, "_mapping", None)
        if cached is None:
            visible = access.restrict(
                RetlMapping.objects.filter(workspace=self.workspace), self.principal, "view"
            )
            cached = (
                visible.select_related("workspace", "model")
                .filter(key_id=self.kwargs["retl_mapping"])
                .first()
            )
            if cached is None:
                raise NotFound(f"reverse_etl_mapping {self.kwargs['retl_mapping']!r} not found")
            self._mapping = cached
        return cached

    def base_queryset(self) -> models.QuerySet[RetlSchedule]:
        return RetlSchedule.objects.filter(mapping=self.mapping)

    def get_object(self) -> RetlSchedule:
        return service.schedule_of(self.mapping)

    def update_resource(
        self, principal: Principal, obj: RetlSchedule, changes: dict[str, Any]
    ) -> RetlSchedule:
        mapping = self.mapping
        return service.do_update_schedule(principal=principal, mapping=mapping, changes=changes)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _ = self.mapping


schedule = RetlScheduleViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update"}, http_method_names=["get", "patch", "options"]
)
