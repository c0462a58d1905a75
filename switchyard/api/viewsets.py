"""The base for every Config API resource: List, Get, Create, Update, Delete.

A subclass names its resource, its serializers and the service functions that
write it; this class owns the request and response shapes (wrapped objects,
page tokens, update masks), so every resource answers the same way. Lists are
always restricted by ``switchyard.access`` before paging; a subclass supplies
the base queryset, not a way around the restriction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from django.db import models
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from switchyard import access, tenancy
from switchyard.access import Action, Principal
from switchyard.api.pagination import KeysetPagination
from switchyard.api.permissions import TokenScopePermission
from switchyard.api.schema import ResourceSchema
from switchyard.api.strict_types import check_types
from switchyard.api.update_mask import build_patch, with_nested_edits
from switchyard.errors import InvalidArgument, NotFound


def principal_of(request: Request) -> Principal:
    # Only bearer authentication sets ``auth``: the tenancy app's access token.
    return Principal(user=request.user, token=request.auth)


class ResourceViewSet(viewsets.GenericViewSet):
    permission_classes = (IsAuthenticated, TokenScopePermission)
    schema = ResourceSchema()
    resource_key: ClassVar[str]  # "workspace"
    collection_key: ClassVar[str]  # "workspaces"
    create_serializer_class: ClassVar[type[serializers.Serializer]]
    lookup_field = "key"
    lookup_value_regex = r"[^/]+"
    # Keyset order for List; the last field must be unique.
    list_ordering: ClassVar[tuple[str, ...]] = ("create_time", "pk")
    pagination_class = KeysetPagination

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The paginator answers {<collection_key>: [...], "next_page_token": ...}; give
        # each collection its own pagination class so the OpenAPI schema names the key.
        if "collection_key" in cls.__dict__ and issubclass(cls.pagination_class, KeysetPagination):
            cls.pagination_class = KeysetPagination.for_collection(cls.collection_key)

    # -- what a subclass provides ------------------------------------------------
    def base_queryset(self) -> models.QuerySet[Any]:
        raise NotImplementedError

    def list_items(self) -> models.QuerySet[Any] | Sequence[Any]:
        """What List pages: the rows the principal may see. A collection held in code
        returns a list (and overrides ``get_object``)."""
        return self.get_queryset()

    def lookup(self, queryset: models.QuerySet[Any], key: str) -> Any:
        raise NotImplementedError

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def update_resource(self, principal: Principal, obj: Any, changes: dict[str, Any]) -> Any:
        raise NotImplementedError

    def delete_resource(self, principal: Principal, obj: Any) -> None:
        raise NotImplementedError

    # -- fixed behaviour ---------------------------------------------------------
    @property
    def principal(self) -> Principal:
        return principal_of(self.request)

    def get_queryset(self) -> models.QuerySet[Any]:
        return access.restrict(self.base_queryset(), self.principal, "view")

    def get_object(self) -> Any:
        """The object if the principal may see it. Whether it may change or delete
        it is the service's question (``access.require``), asked inside its write."""
        obj = self.lookup(self.get_queryset(), self.kwargs[self.lookup_field])
        if obj is None:
            raise NotFound(f"{self.resource_key} {self.kwargs[self.lookup_field]!r} not found")
        return obj

    def render(self, obj: Any) -> dict[str, Any]:
        return dict(self.get_serializer(obj).data)

    def _resource_body(self, body: object) -> Mapping[str, Any]:
        if not isinstance(body, Mapping):
            raise InvalidArgument("the request body must be a JSON object")
        extra = set(body) - {self.resource_key}
        if extra:
            raise InvalidArgument(
                f"unknown top-level field(s) {sorted(extra)}; "
                f"send the {self.resource_key} as {{{self.resource_key!r}: {{...}}}}"
            )
        data = body.get(self.resource_key)
        if not isinstance(data, Mapping):
            raise InvalidArgument(
                f"missing {self.resource_key!r}: send {{{self.resource_key!r}: {{...}}}}",
                field=self.resource_key,
            )
        return data

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.list_items())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.render(self.get_object()))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._resource_body(request.data)
        incoming = self.create_serializer_class(data=data, context=self.get_serializer_context())
        check_types(incoming, data)
        incoming.is_valid(raise_exception=True)
        obj = self.create_resource(self.principal, dict(incoming.validated_data))
        return Response(self.render_created(obj), status=200)

    def render_created(self, obj: Any) -> dict[str, Any]:
        """Create's answer; a resource with a show-once secret adds it here."""
        return self.render(obj)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        current = self.get_serializer(obj)
        assert isinstance(current, serializers.Serializer)
        patch = build_patch(current, request.data, self.resource_key)
        if not patch:
            return Response(current.data)
        checked = self.get_serializer(obj, data=patch, partial=True)
        assert isinstance(checked, serializers.Serializer)
        check_types(checked, patch)
        checked.is_valid(raise_exception=True)
        changes = with_nested_edits(checked.validated_data, patch, current.fields)
        obj = self.update_resource(self.principal, obj, changes)
        return Response(self.render(obj))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.delete_resource(self.principal, self.get_object())
        return Response({})


class WorkspaceResourceViewSet(ResourceViewSet):
    """A resource inside a workspace (``workspaces/{workspace}/<collection>/...``).

    The workspace comes from the URL and must be visible to the principal, or
    the answer is 404 whatever the rest of the path says. Subclasses build their
    queryset from ``self.workspace``; they never see a request without one.
    """

    # What the principal must be allowed to do on the workspace to use this
    # collection at all ("administer" for owner-only areas); None: visibility.
    required_workspace_action: ClassVar[Action | None] = None

    @property
    def workspace(self) -> Any:
        cached = getattr(self, "_workspace", None)
        if cached is None:
            cached = tenancy.visible_workspace(self.principal, self.kwargs["workspace"])
            self._workspace = cached
        return cached

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _ = self.workspace  # fail closed before any handler runs
        if self.required_workspace_action is not None:
            access.require(self.principal, self.required_workspace_action, self.workspace)
