from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from connections import selectors
from connections.api.serializers import (
    DestinationCreateSerializer,
    DestinationSerializer,
    FilterCreateSerializer,
    FilterSerializer,
    PreviewRequestSerializer,
    SourceCreateSerializer,
    SourceSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSerializer,
    WriteKeyCreateSerializer,
    WriteKeySerializer,
)
from connections.models import Destination, DestinationFilter, Source, Subscription, WriteKey
from connections.services import address_warnings
from connections.services import delivery as delivery_service
from connections.services import destinations as destination_service
from connections.services import filters as filter_service
from connections.services import preview as preview_service
from connections.services import sources as service
from connections.services import subscriptions as subscription_service
from connections.services import write_keys as write_key_service
from switchyard import access
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import NotFound

DELETED = inline_serializer("Deleted", {})


@extend_schema_view(
    list=extend_schema(
        summary="List Sources",
        description="Only the sources the caller may see: owners see all; others through "
        "their role grants (all, specific or labelled sources).",
    ),
    retrieve=extend_schema(summary="Get Source"),
    create=extend_schema(
        summary="Create Source",
        description="Needs Workspace Owner or Source Admin on all sources. The source is "
        "created with one write key (see its write-keys collection).",
        request=inline_serializer("CreateSource", {"source": SourceCreateSerializer()}),
    ),
    partial_update=extend_schema(summary="Update Source"),
    destroy=extend_schema(
        summary="Delete Source",
        description="Also disconnects (deletes) the source's destinations.",
        responses={200: DELETED},
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
            source_type=data["source_type"],
            enabled=data["enabled"],
            settings=data["settings"],
            labels=data.get("labels", []),
        )

    def update_resource(self, principal: Principal, obj: Source, changes: dict[str, Any]) -> Source:
        if "label_names" in changes:
            changes["labels"] = changes.pop("label_names")
        return service.do_update_source(principal=principal, source=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: Source) -> None:
        service.do_delete_source(principal=principal, source=obj)

    @extend_schema(
        summary="Get Source Ingest Failures",
        description="Events the Tracking API refused for this source (a request whose "
        "write key is the source's) over the last hour, day or 7 days: in all, and by "
        "reason (invalid_json, too_large, missing_user_id, invalid_timestamp, ...), "
        "most first. Segment's delivery overview calls this step 'Failed on ingest'.",
        parameters=[OpenApiParameter("window", str, description="1h, 24h (default) or 7d")],
        responses={
            200: inline_serializer(
                "IngestFailures",
                {
                    "window": serializers.CharField(),
                    "failed": serializers.IntegerField(),
                    "reasons": inline_serializer(
                        "IngestFailureReason",
                        {
                            "reason": serializers.CharField(),
                            "label": serializers.CharField(),
                            "count": serializers.IntegerField(),
                        },
                        many=True,
                    ),
                },
            )
        },
    )
    @action(detail=True, methods=["get"], url_path="ingest-failures")
    def ingest_failures(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        source = self.get_object()
        window = selectors.window_from(request.query_params.get("window"))
        return Response(selectors.ingest_failures(source, window))


class SourceChildViewSet(WorkspaceResourceViewSet):
    """A collection inside a source (``.../sources/{source}/<collection>``): the
    source must be visible to the caller or the answer is 404."""

    lookup_value_regex = r"[a-z0-9_]+"

    @property
    def source(self) -> Source:
        cached: Source | None = getattr(self, "_source", None)
        if cached is None:
            visible = access.restrict(
                Source.objects.filter(workspace=self.workspace), self.principal, "view"
            )
            cached = visible.select_related("workspace").filter(slug=self.kwargs["source"]).first()
            if cached is None:
                raise NotFound(f"source {self.kwargs['source']!r} not found")
            self._source = cached
        return cached

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _ = self.source


@extend_schema_view(
    list=extend_schema(
        summary="List Write Keys",
        description="Keys are shown in full to those who may change the source, masked "
        "to others. Revoked keys are listed with their revoke_time.",
    ),
    retrieve=extend_schema(summary="Get Write Key"),
    create=extend_schema(
        summary="Create Write Key",
        request=inline_serializer("CreateWriteKey", {"write_key": WriteKeyCreateSerializer()}),
    ),
    destroy=extend_schema(
        summary="Revoke Write Key",
        description="The key stops authenticating at once; it stays listed as revoked.",
        responses={200: DELETED},
    ),
)
class WriteKeyViewSet(SourceChildViewSet):
    resource_key = "write_key"
    collection_key = "write_keys"
    serializer_class = WriteKeySerializer
    create_serializer_class = WriteKeyCreateSerializer
    lookup_field = "write_key"
    http_method_names = ["get", "post", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[WriteKey]:
        return WriteKey.objects.filter(source=self.source).select_related("source__workspace")

    def lookup(self, queryset: models.QuerySet[WriteKey], key: str) -> WriteKey | None:
        return queryset.filter(key_id=key).first()

    def get_serializer_context(self) -> dict[str, Any]:
        show = write_key_service.can_read_secret(self.principal, self.source)
        return {**super().get_serializer_context(), "show_secrets": show}

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> WriteKey:
        return write_key_service.do_create_write_key(
            principal=principal, source=self.source, description=data["description"]
        )

    def delete_resource(self, principal: Principal, obj: WriteKey) -> None:
        write_key_service.do_revoke_write_key(principal=principal, key=obj)


@extend_schema_view(
    list=extend_schema(
        summary="List Destinations",
    ),
    retrieve=extend_schema(summary="Get Destination"),
    create=extend_schema(
        summary="Create Destination",
        description="Connects a catalog destination to the source. Settings are checked "
        "against the definition's schema; `presets: true` also creates its preset mappings. "
        "Destinations start disabled unless `enabled` is true.",
        request=inline_serializer(
            "CreateDestination", {"destination": DestinationCreateSerializer()}
        ),
    ),
    partial_update=extend_schema(
        summary="Update Destination",
        description="Secret settings left out of `settings` keep their value; null clears one.",
    ),
    destroy=extend_schema(summary="Delete Destination", responses={200: DELETED}),
)
class DestinationViewSet(SourceChildViewSet):
    resource_key = "destination"
    collection_key = "destinations"
    serializer_class = DestinationSerializer
    create_serializer_class = DestinationCreateSerializer
    lookup_field = "destination"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[Destination]:
        return Destination.objects.filter(source=self.source).select_related("source__workspace")

    def lookup(self, queryset: models.QuerySet[Destination], key: str) -> Destination | None:
        return queryset.filter(key_id=key).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Destination:
        return destination_service.do_create_destination(
            principal=principal, source=self.source, **data
        )

    def update_resource(
        self, principal: Principal, obj: Destination, changes: dict[str, Any]
    ) -> Destination:
        return destination_service.do_update_destination(
            principal=principal, destination=obj, changes=changes
        )

    def delete_resource(self, principal: Principal, obj: Destination) -> None:
        destination_service.do_delete_destination(principal=principal, destination=obj)

    def render(self, obj: Destination) -> dict[str, Any]:
        data = super().render(obj)
        if self.action in ("create", "partial_update"):  # a save: say what delivery refuses
            data["warnings"] = address_warnings.for_destination(obj)
        return data

    @extend_schema(
        summary="Preview Destination",
        description="Run a sample event through the destination's filters and mappings "
        "without sending anything: which filters act, which mappings trigger, and the "
        "payload each mapping would send.",
        request=PreviewRequestSerializer,
        responses={200: inline_serializer("DestinationPreview", {})},
    )
    @action(detail=True, methods=["post"], url_path="preview")
    def preview(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = PreviewRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        destination = self.get_object()
        return Response(preview_service.preview(destination, incoming.validated_data["event"]))

    @extend_schema(
        summary="Send Test Event",
        description="POST .../destinations/{destination}:test. Sends the event for real, "
        "as Segment's Event Tester does: filters are bypassed; every enabled mapping whose "
        "trigger matches sends, or only `subscription` (an id) when given. Answers each "
        "mapping's request and response. Nothing is counted or retried.",
        request=inline_serializer(
            "SendTestEvent",
            {
                "event": serializers.JSONField(),
                "subscription": serializers.CharField(required=False),
            },
        ),
        responses={200: inline_serializer("TestEventResult", {})},
    )
    def send_test(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        destination = self.get_object()
        key = body.get("subscription")
        subscription = None
        if key is not None:
            subscription = destination.subscriptions.filter(key_id=str(key)).first()
            if subscription is None:
                raise NotFound(f"subscription {key!r} not found on this destination")
        return Response(
            delivery_service.do_send_test_event(
                self.principal, destination, body.get("event"), subscription
            )
        )

    @extend_schema(
        summary="Get Destination Delivery Metrics",
        description="Delivered, filtered, failed and retrying counts over the last hour, "
        "day or 7 days, with the reason codes behind them and the latest failures; "
        "``pipeline`` is the delivery overview's steps (received, failed on ingest, "
        "filtered at source, filtered at destination, failed delivery, successful "
        "delivery), each with its count and reasons.",
        parameters=[OpenApiParameter("window", str, description="1h, 24h (default) or 7d")],
        responses={200: inline_serializer("DeliveryMetrics", {})},
    )
    @action(detail=True, methods=["get"], url_path="delivery-metrics")
    def delivery_metrics(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        destination = self.get_object()
        window = selectors.window_from(request.query_params.get("window"))
        metrics = selectors.delivery_metrics(destination, window)
        failures = [
            {
                "message_id": d.message_id,
                "mapping": d.subscription.name,
                "code": d.code,
                "message": d.message,
                "attempts": d.attempts,
                "request": d.request,
                "response": d.response,
                "time": d.update_time,
            }
            for d in selectors.visible_failures(self.principal, destination, limit=10)
        ]
        pipeline = selectors.delivery_overview(destination, window)["steps"]
        return Response({**metrics, "pipeline": pipeline, "recent_failures": failures})


class DestinationChildViewSet(SourceChildViewSet):
    """A collection inside a destination; 404 unless the destination is visible."""

    @property
    def destination(self) -> Destination:
        cached: Destination | None = getattr(self, "_destination", None)
        if cached is None:
            cached = (
                Destination.objects.filter(source=self.source, key_id=self.kwargs["destination"])
                .select_related("source__workspace")
                .first()
            )
            if cached is None:
                raise NotFound(f"destination {self.kwargs['destination']!r} not found")
            self._destination = cached
        return cached

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _ = self.destination


@extend_schema_view(
    list=extend_schema(
        summary="List Subscriptions",
        description="The destination's action mappings, in the order events are sent.",
    ),
    retrieve=extend_schema(summary="Get Subscription"),
    create=extend_schema(
        summary="Create Subscription",
        description="At most 50 per destination. A missing trigger or mapping takes the "
        "action's defaults. New subscriptions start disabled unless `enabled` is true.",
        request=inline_serializer(
            "CreateSubscription", {"subscription": SubscriptionCreateSerializer()}
        ),
    ),
    partial_update=extend_schema(summary="Update Subscription"),
    destroy=extend_schema(summary="Delete Subscription", responses={200: DELETED}),
)
class SubscriptionViewSet(DestinationChildViewSet):
    resource_key = "subscription"
    collection_key = "subscriptions"
    serializer_class = SubscriptionSerializer
    create_serializer_class = SubscriptionCreateSerializer
    lookup_field = "subscription"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    list_ordering = ("position", "pk")

    def base_queryset(self) -> models.QuerySet[Subscription]:
        return Subscription.objects.filter(destination=self.destination).select_related(
            "destination__source__workspace"
        )

    def lookup(self, queryset: models.QuerySet[Subscription], key: str) -> Subscription | None:
        return queryset.filter(key_id=key).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Subscription:
        return subscription_service.do_create_subscription(
            principal=principal,
            destination=self.destination,
            action=data["action"],
            name=data["display_name"],
            trigger=data["trigger"],
            mapping=data["mapping"],
            enabled=data["enabled"],
        )

    def update_resource(
        self, principal: Principal, obj: Subscription, changes: dict[str, Any]
    ) -> Subscription:
        return subscription_service.do_update_subscription(
            principal=principal, subscription=obj, changes=changes
        )

    def delete_resource(self, principal: Principal, obj: Subscription) -> None:
        subscription_service.do_delete_subscription(principal=principal, subscription=obj)

    def render(self, obj: Subscription) -> dict[str, Any]:
        data = super().render(obj)
        if self.action in ("create", "partial_update"):  # a save: say what delivery refuses
            data["warnings"] = address_warnings.for_subscription(obj)
        return data


@extend_schema_view(
    list=extend_schema(
        summary="List Destination Filters",
        description="Filters apply by action kind: Sample, Drop, Drop Properties, "
        "Allow Properties; within a kind, in this order.",
    ),
    retrieve=extend_schema(summary="Get Destination Filter"),
    create=extend_schema(
        summary="Create Destination Filter",
        description="At most 10 per destination; title at most 64 characters.",
        request=inline_serializer("CreateFilter", {"filter": FilterCreateSerializer()}),
    ),
    partial_update=extend_schema(summary="Update Destination Filter"),
    destroy=extend_schema(summary="Delete Destination Filter", responses={200: DELETED}),
)
class FilterViewSet(DestinationChildViewSet):
    resource_key = "filter"
    collection_key = "filters"
    serializer_class = FilterSerializer
    create_serializer_class = FilterCreateSerializer
    lookup_field = "filter"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    list_ordering = ("position", "pk")

    def base_queryset(self) -> models.QuerySet[DestinationFilter]:
        return DestinationFilter.objects.filter(destination=self.destination).select_related(
            "destination__source__workspace"
        )

    def lookup(
        self, queryset: models.QuerySet[DestinationFilter], key: str
    ) -> DestinationFilter | None:
        return queryset.filter(key_id=key).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> DestinationFilter:
        return filter_service.do_create_filter(
            principal=principal,
            destination=self.destination,
            title=data["title"],
            description=data["description"],
            if_=data["if"],
            actions=data["actions"],
            enabled=data["enabled"],
        )

    def update_resource(
        self, principal: Principal, obj: DestinationFilter, changes: dict[str, Any]
    ) -> DestinationFilter:
        if "condition" in changes:
            changes["if"] = changes.pop("condition")
        return filter_service.do_update_filter(principal=principal, row=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: DestinationFilter) -> None:
        filter_service.do_delete_filter(principal=principal, row=obj)
