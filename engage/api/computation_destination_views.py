"""Config API: the event destinations connected to an audience or computed trait
(``.../audiences/{audience}/destinations``, ``.../computed-traits/{computed_trait}/
destinations``): list, get, connect, update the sync settings, disconnect."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer

from engage.api.computation_destination_serializers import (
    ComputationDestinationCreateSerializer,
    ComputationDestinationSerializer,
)
from engage.api.computation_views import _ComputationChildViewSet
from engage.models import ComputationDestination, ComputationKind
from engage.services import computation_destinations as service
from switchyard.access import Principal

DISCONNECTED = inline_serializer("ComputationDestinationDisconnected", {})


class _DestinationViewSet(_ComputationChildViewSet):
    resource_key = "destination"
    collection_key = "destinations"
    lookup_field = "destination"
    lookup_value_regex = r"[A-Za-z0-9_]+"
    serializer_class = ComputationDestinationSerializer
    create_serializer_class = ComputationDestinationCreateSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[ComputationDestination]:
        return ComputationDestination.objects.filter(computation=self.computation).select_related(
            "computation__space__workspace", "destination"
        )

    def lookup(
        self, queryset: models.QuerySet[ComputationDestination], key: str
    ) -> ComputationDestination | None:
        return queryset.filter(destination__key_id=key).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Any:
        destination = data.pop("destination_id")
        return service.do_connect_destination(
            principal=principal,
            computation=self.computation,
            destination=destination,
            settings=data,
        )

    def update_resource(
        self, principal: Principal, obj: ComputationDestination, changes: dict[str, Any]
    ) -> ComputationDestination:
        return service.do_update_destination(principal=principal, connection=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: ComputationDestination) -> None:
        service.do_disconnect_destination(principal=principal, connection=obj)

    def render(self, obj: ComputationDestination) -> dict[str, Any]:
        return super().render(self.base_queryset().get(pk=obj.pk))


def _docs(noun: str) -> dict[str, Any]:
    return {
        "list": extend_schema(
            summary=f"List {noun} Destinations",
            description="Event destinations connected, with their settings and sync status.",
        ),
        "retrieve": extend_schema(summary=f"Get {noun} Destination"),
        "create": extend_schema(
            summary=f"Connect {noun} Destination",
            description="Engage Users, Unify and Engage Admins and owners. The destination "
            "(of the workspace, on a source that feeds no space) first gets every current "
            "member / value (the backfill), then only changes. A batch one NOT_COMPUTING "
            "starts computing.",
            request=inline_serializer(
                f"Connect{noun.replace(' ', '')}Destination",
                {"destination": ComputationDestinationCreateSerializer()},
            ),
        ),
        "partial_update": extend_schema(
            summary=f"Update {noun} Destination",
            description="send_identify, send_track, the event names and include_anonymous "
            "(update mask); the next sync uses them.",
        ),
        "destroy": extend_schema(
            summary=f"Disconnect {noun} Destination",
            description="Syncing stops; a batch one left without destinations (and not "
            "computed without them) is NOT_COMPUTING.",
            responses={200: DISCONNECTED},
        ),
    }


@extend_schema_view(**_docs("Audience"))
class AudienceDestinationViewSet(_DestinationViewSet):
    kind = ComputationKind.AUDIENCE
    parent_kwarg = "audience"


@extend_schema_view(**_docs("Computed Trait"))
class TraitDestinationViewSet(_DestinationViewSet):
    kind = ComputationKind.TRAIT
    parent_kwarg = "computed_trait"
