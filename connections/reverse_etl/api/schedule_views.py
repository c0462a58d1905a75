"""``workspaces/{w}/reverse-etl/mappings/{mapping}/schedule``: one per mapping, Get
and Update (no List, Create or Delete: a mapping without one is MANUAL)."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view

from connections.reverse_etl.api.schedule_serializers import RetlScheduleSerializer
from connections.reverse_etl.api.singletons import MappingSingletonViewSet
from connections.reverse_etl.models.schedules import RetlSchedule
from connections.reverse_etl.services import schedules as service
from switchyard.access import Principal


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
class RetlScheduleViewSet(MappingSingletonViewSet):
    resource_key = "reverse_etl_schedule"
    collection_key = "reverse_etl_schedules"
    serializer_class = RetlScheduleSerializer

    def base_queryset(self) -> models.QuerySet[RetlSchedule]:
        return RetlSchedule.objects.filter(mapping=self.mapping)

    def get_object(self) -> RetlSchedule:
        return service.schedule_of(self.mapping)

    def update_resource(
        self, principal: Principal, obj: RetlSchedule, changes: dict[str, Any]
    ) -> RetlSchedule:
        return service.do_update_schedule(
            principal=principal, mapping=self.mapping, changes=changes
        )


schedule = RetlScheduleViewSet.singleton_view()
