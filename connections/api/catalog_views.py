"""The catalog, read-only: source types and destination definitions.

The catalog is data shipped with the app (``connections/catalog``), the same for
every workspace, so any authenticated caller may read it: a signed-in session
or an access token of any workspace, read-only tokens included. Its lists are
held in code; the base viewset pages them like any other List.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers

from connections import catalog
from connections.api.catalog_serializers import (
    DestinationDefinitionDetailSerializer,
    DestinationDefinitionSerializer,
    SourceTypeSerializer,
)
from connections.catalog.search import filter_destinations, filter_source_types
from switchyard.api.viewsets import ResourceViewSet
from switchyard.errors import NotFound


def _search_parameters(categories: tuple[str, ...]) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "search",
            str,
            description="Only entries whose name, slug, categories or description contain "
            "every word (case-insensitive).",
        ),
        OpenApiParameter(
            "category",
            str,
            description="Only entries in this category (case-insensitive).",
            enum=list(categories),
        ),
    ]


class _CatalogViewSet(ResourceViewSet):
    http_method_names = ["get", "head", "options"]
    list_ordering = ("sort_name", "slug")  # display name, case-insensitive

    def _param(self, name: str) -> str:
        return str(self.request.query_params.get(name, ""))


@extend_schema_view(
    list=extend_schema(
        summary="List Source Types",
        description="The catalog of sources a workspace can add, ordered by display name.",
        parameters=_search_parameters(catalog.SOURCE_CATEGORIES),
    ),
    retrieve=extend_schema(summary="Get Source Type"),
)
class SourceTypeViewSet(_CatalogViewSet):
    resource_key = "source_type"
    collection_key = "source_types"
    serializer_class = SourceTypeSerializer
    lookup_field = "source_type"

    def list_items(self) -> list[catalog.SourceType]:
        return filter_source_types(
            catalog.source_types(), search=self._param("search"), category=self._param("category")
        )

    def get_object(self) -> catalog.SourceType:
        key = self.kwargs[self.lookup_field]
        found = catalog.source_type(key)
        if found is None:
            raise NotFound(f"source type {key!r} not found")
        return found


@extend_schema_view(
    list=extend_schema(
        summary="List Destination Definitions",
        description="The catalog of destinations, ordered by display name. Get one for its "
        "settings schema, actions with their fields, and presets.",
        parameters=_search_parameters(catalog.DESTINATION_CATEGORIES),
    ),
    retrieve=extend_schema(
        summary="Get Destination Definition",
        description="With the settings schema (secret settings are marked), the actions "
        "with their fields and default mappings, and the presets.",
    ),
)
class DestinationDefinitionViewSet(_CatalogViewSet):
    resource_key = "destination_definition"
    collection_key = "destination_definitions"
    lookup_field = "destination"

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "retrieve":
            return DestinationDefinitionDetailSerializer
        return DestinationDefinitionSerializer

    def list_items(self) -> list[catalog.DestinationDefinition]:
        return filter_destinations(
            catalog.destinations(), search=self._param("search"), category=self._param("category")
        )

    def get_object(self) -> catalog.DestinationDefinition:
        key = self.kwargs[self.lookup_field]
        found = catalog.destination(key)
        if found is None:
            raise NotFound(f"destination definition {key!r} not found")
        return found
