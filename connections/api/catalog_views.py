"""The catalog, read-only: source types and destination definitions.

The catalog is data shipped with the app (``connections/catalog``), the same for
every workspace, so any authenticated caller may read it: a signed-in session
or an access token of any workspace, read-only tokens included.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from connections import catalog
from connections.api.catalog_serializers import (
    DestinationDefinitionDetailSerializer,
    DestinationDefinitionSerializer,
    SourceTypeSerializer,
)
from connections.catalog.search import filter_destinations, filter_source_types
from switchyard.api.pagination import paginate_items
from switchyard.api.permissions import TokenScopePermission
from switchyard.api.viewsets import PAGE_PARAMETERS, list_response
from switchyard.errors import NotFound


def _by_name(item: catalog.SourceType | catalog.DestinationDefinition) -> tuple[str, str]:
    return (item.name.casefold(), item.slug)


def _search_parameters(categories: tuple[str, ...]) -> list[OpenApiParameter]:
    return [
        *PAGE_PARAMETERS,
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


class _CatalogViewSet(viewsets.ViewSet):
    permission_classes = (IsAuthenticated, TokenScopePermission)
    lookup_value_regex = r"[^/]+"

    def _param(self, request: Request, name: str) -> str:
        return str(request.query_params.get(name, ""))

    def _page(
        self, request: Request, items: list[Any], collection_key: str
    ) -> tuple[list[Any], str]:
        return paginate_items(
            items,
            request.query_params,
            scope=f"{request.path}:{collection_key}",
            key=_by_name,
        )


class SourceTypeViewSet(_CatalogViewSet):
    collection_key = "source_types"
    lookup_field = "source_type"

    @extend_schema(
        summary="List Source Types",
        description="The catalog of sources a workspace can add, ordered by display name.",
        parameters=_search_parameters(catalog.SOURCE_CATEGORIES),
        responses=list_response(
            "ListSourceTypesResponse", "source_types", SourceTypeSerializer(many=True)
        ),
    )
    def list(self, request: Request) -> Response:
        found = filter_source_types(
            catalog.source_types(),
            search=self._param(request, "search"),
            category=self._param(request, "category"),
        )
        rows, next_token = self._page(request, found, self.collection_key)
        return Response(
            {
                self.collection_key: SourceTypeSerializer(rows, many=True).data,
                "next_page_token": next_token,
            }
        )

    @extend_schema(summary="Get Source Type", responses=SourceTypeSerializer)
    def retrieve(self, request: Request, source_type: str) -> Response:
        found = catalog.source_type(source_type)
        if found is None:
            raise NotFound(f"source type {source_type!r} not found")
        return Response(SourceTypeSerializer(found).data)


class DestinationDefinitionViewSet(_CatalogViewSet):
    collection_key = "destination_definitions"
    lookup_field = "destination"

    @extend_schema(
        summary="List Destination Definitions",
        description="The catalog of destinations, ordered by display name. Get one for its "
        "settings schema, actions with their fields, and presets.",
        parameters=_search_parameters(catalog.DESTINATION_CATEGORIES),
        responses=list_response(
            "ListDestinationDefinitionsResponse",
            "destination_definitions",
            DestinationDefinitionSerializer(many=True),
        ),
    )
    def list(self, request: Request) -> Response:
        found = filter_destinations(
            catalog.destinations(),
            search=self._param(request, "search"),
            category=self._param(request, "category"),
        )
        rows, next_token = self._page(request, found, self.collection_key)
        return Response(
            {
                self.collection_key: DestinationDefinitionSerializer(rows, many=True).data,
                "next_page_token": next_token,
            }
        )

    @extend_schema(
        summary="Get Destination Definition",
        description="With the settings schema (secret settings are marked), the actions "
        "with their fields and default mappings, and the presets.",
        responses=DestinationDefinitionDetailSerializer,
    )
    def retrieve(self, request: Request, destination: str) -> Response:
        found = catalog.destination(destination)
        if found is None:
            raise NotFound(f"destination definition {destination!r} not found")
        return Response(DestinationDefinitionDetailSerializer(found).data)
