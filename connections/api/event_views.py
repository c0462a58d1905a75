"""A source's stored events (the debugger's API) and a destination's delivery metrics."""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.utils.functional import cached_property
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers

from connections import selectors
from connections.api.views import SourceChildViewSet
from connections.models import Event
from switchyard.masking import Mask

FILTER_MAX = 256


class EventSerializer(serializers.ModelSerializer):
    payload = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = (
            "id",
            "message_id",
            "type",
            "event_name",
            "user_id",
            "anonymous_id",
            "timestamp",
            "received_at",
            "payload",
        )
        read_only_fields = fields

    def get_payload(self, obj: Event) -> Any:
        return selectors.visible_payload(
            self.context["principal"], self.context["source"], obj.payload, self.context["mask"]
        )


EVENT_FILTERS = [
    OpenApiParameter("type", str, description="identify, track, page, screen, group or alias"),
    OpenApiParameter("event", str, description="the track event, page or screen name"),
    OpenApiParameter(
        "event_contains",
        str,
        description="part of the event, page or screen name, in any case "
        "(among the source's latest 500 events)",
    ),
    OpenApiParameter(
        "search",
        str,
        description="text anywhere in the raw payload, in any case "
        "(among the source's latest 500 events)",
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="List Source Events",
        description="The source's latest stored events, newest first (the debugger's data).",
        parameters=EVENT_FILTERS,
    ),
    retrieve=extend_schema(summary="Get Source Event"),
)
class EventViewSet(SourceChildViewSet):
    resource_key = "event"
    collection_key = "events"
    serializer_class = EventSerializer
    lookup_field = "event"
    lookup_value_regex = r"[0-9]+"
    list_ordering = ("-received_at", "-id")
    http_method_names = ["get", "head", "options"]

    @cached_property
    def mask(self) -> Mask:
        """Once per request: a page of events costs no query per event."""
        return selectors.payload_mask(self.principal, self.source)

    def base_queryset(self) -> models.QuerySet[Event]:
        params = self.request.query_params
        return selectors.events_of(
            self.source,
            event_type=params.get("type", ""),
            name=params.get("event", ""),
            name_contains=params.get("event_contains", "")[:FILTER_MAX],
            search=params.get("search", "")[:FILTER_MAX],
            mask=self.mask,
        )

    def lookup(self, queryset: models.QuerySet[Event], key: str) -> Event | None:
        return queryset.filter(id=int(key)).first()

    def get_serializer_context(self) -> dict[str, Any]:
        return {
            **super().get_serializer_context(),
            "principal": self.principal,
            "source": self.source,
            "mask": self.mask,
        }

    def page_token_scope(self) -> str:
        # The filters are part of the token's scope: a token is only valid for
        # the same filtered list it came from.
        params = self.request.query_params
        filters = [params.get(k, "") for k in ("type", "event", "event_contains", "search")]
        return f"{self.request.path}:events:{json.dumps(filters)}"
