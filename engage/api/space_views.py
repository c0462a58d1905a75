"""Config API: spaces, their connected sources and their Profile API access tokens."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework.request import Request
from rest_framework.response import Response

from connections.models import Source
from engage.api.space_serializers import (
    SpaceCreateSerializer,
    SpaceSerializer,
    SpaceSourceCreateSerializer,
    SpaceSourceSerializer,
    SpaceTokenCreatedSerializer,
    SpaceTokenCreateSerializer,
    SpaceTokenSerializer,
    with_secret,
)
from engage.models import Space, SpaceSource, SpaceToken
from engage.services import space_sources as source_service
from engage.services import spaces as service
from engage.services import tokens as token_service
from switchyard import access
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import InvalidArgument, NotFound

DELETED = inline_serializer("SpaceChildDeleted", {})


@extend_schema_view(
    list=extend_schema(
        summary="List Spaces",
        description="Only the spaces the caller may see: owners see all; others through "
        "their space role grants (all, specific or labelled spaces).",
    ),
    retrieve=extend_schema(summary="Get Space"),
    create=extend_schema(
        summary="Create Space",
        description="Needs Workspace Owner or Unify and Engage Admin on all spaces. The "
        "space starts with the default identity resolution settings. Its slug (the last "
        "segment of `name`) can never change.",
        request=inline_serializer("CreateSpace", {"space": SpaceCreateSerializer()}),
    ),
    partial_update=extend_schema(
        summary="Update Space",
        description="display_name, labels and required_labels (the connection policy). "
        "The slug is immutable.",
    ),
    destroy=extend_schema(
        summary="Delete Space",
        description="Workspace Owners only. Requests the deletion: the space and all its "
        "data are deleted 5 days later unless `:cancelDeletion` is called before. Answers "
        "the space with its `delete_time`.",
        responses={200: SpaceSerializer},
    ),
)
class SpaceViewSet(WorkspaceResourceViewSet):
    resource_key = "space"
    collection_key = "spaces"
    serializer_class = SpaceSerializer
    create_serializer_class = SpaceCreateSerializer
    lookup_field = "space"
    lookup_value_regex = r"[a-z0-9-]+"  # no ":": "{space}:cancelDeletion" is a custom method
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[Space]:
        return (
            Space.objects.filter(workspace=self.workspace)
            .select_related("workspace")
            .prefetch_related("space_labels__label")
        )

    def lookup(self, queryset: models.QuerySet[Space], key: str) -> Space | None:
        return queryset.filter(slug=key).first()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "workspace": self.workspace}

    def render(self, obj: Space) -> dict[str, Any]:
        return super().render(self.base_queryset().get(pk=obj.pk))

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> Space:
        return service.do_create_space(
            principal=principal,
            workspace=self.workspace,
            slug=data["name"],
            display_name=data["display_name"],
            labels=data["labels"],
            required_labels=data["required_labels"],
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        mask = request.data.get("update_mask") if isinstance(request.data, dict) else None
        paths = mask.get("paths") if isinstance(mask, dict) else None
        if isinstance(paths, list) and {"space.name", "space.slug"} & set(paths):
            self.get_object()  # an unseen space is 404 first
            raise InvalidArgument(service.SLUG_IMMUTABLE, field="update_mask.paths")
        return super().partial_update(request, *args, **kwargs)

    def update_resource(self, principal: Principal, obj: Space, changes: dict[str, Any]) -> Space:
        if "label_names" in changes:
            changes["labels"] = changes.pop("label_names")
        return service.do_update_space(principal=principal, space=obj, changes=changes)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        space = service.do_request_space_deletion(principal=self.principal, space=self.get_object())
        return Response(self.render(space))

    @extend_schema(
        summary="Cancel Space Deletion",
        description="POST .../spaces/{space}:cancelDeletion. Workspace Owners only; the "
        "space stays, as it was.",
        request=None,
        responses={200: SpaceSerializer},
    )
    def cancel_deletion(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        space = service.do_cancel_space_deletion(principal=self.principal, space=self.get_object())
        return Response(self.render(space))


class SpaceChildViewSet(WorkspaceResourceViewSet):
    """A collection inside a space: the space must be visible or the answer is 404."""

    @property
    def space(self) -> Space:
        cached: Space | None = getattr(self, "_space", None)
        if cached is None:
            visible = access.restrict(
                Space.objects.filter(workspace=self.workspace), self.principal, "view"
            )
            cached = visible.select_related("workspace").filter(slug=self.kwargs["space"]).first()
            if cached is None:
                raise NotFound(f"space {self.kwargs['space']!r} not found")
            self._space = cached
        return cached

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _ = self.space


@extend_schema_view(
    list=extend_schema(summary="List Space Sources", description="Sources connected to the space."),
    retrieve=extend_schema(summary="Get Space Source"),
    create=extend_schema(
        summary="Connect Source",
        description="Connects a source of the workspace to the space: its events then build "
        "the space's profiles. The source must carry every label of the space's "
        "`required_labels` (failed precondition otherwise).",
        request=inline_serializer("ConnectSource", {"source": SpaceSourceCreateSerializer()}),
    ),
    destroy=extend_schema(
        summary="Disconnect Source",
        description="The space stops receiving the source's events; profiles stay.",
        responses={200: DELETED},
    ),
)
class SpaceSourceViewSet(SpaceChildViewSet):
    resource_key = "source"
    collection_key = "sources"
    serializer_class = SpaceSourceSerializer
    create_serializer_class = SpaceSourceCreateSerializer
    lookup_field = "source"
    http_method_names = ["get", "post", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[SpaceSource]:
        return (
            SpaceSource.objects.filter(space=self.space)
            .select_related("space__workspace", "source__workspace")
            .prefetch_related("source__labels")
        )

    def lookup(self, queryset: models.QuerySet[SpaceSource], key: str) -> SpaceSource | None:
        return queryset.filter(source__slug=key).first()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "workspace": self.workspace}

    def render(self, obj: SpaceSource) -> dict[str, Any]:
        return super().render(self.base_queryset().get(pk=obj.pk))

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> SpaceSource:
        # Refused for what the space allows before the source is even looked up.
        service.require_settings_access(principal, self.space)
        source = (
            access.restrict(Source.objects.filter(workspace=self.workspace), principal, "view")
            .filter(slug=data["source"])
            .first()
        )
        if source is None:
            raise NotFound(f"source {data['source']!r} not found", field="source")
        return source_service.do_connect_source(
            principal=principal, space=self.space, source=source, replay=data.get("replay", True)
        )

    def delete_resource(self, principal: Principal, obj: SpaceSource) -> None:
        source_service.do_disconnect_source(principal=principal, connection=obj)


@extend_schema_view(
    list=extend_schema(
        summary="List Space Access Tokens",
        description="The space's Profile API tokens, revoked ones included; secrets are "
        "never listed, only their prefix.",
    ),
    retrieve=extend_schema(summary="Get Space Access Token"),
    create=extend_schema(
        summary="Create Space Access Token",
        description="The answer carries the token in `secret`; it is never shown again. "
        "Use it as the Profile API's HTTP Basic username.",
        request=inline_serializer(
            "CreateSpaceAccessToken", {"access_token": SpaceTokenCreateSerializer()}
        ),
        responses=SpaceTokenCreatedSerializer,
    ),
    destroy=extend_schema(
        summary="Revoke Space Access Token",
        description="The token stops authenticating at once; it stays listed as revoked.",
        responses={200: DELETED},
    ),
)
class SpaceTokenViewSet(SpaceChildViewSet):
    resource_key = "access_token"
    collection_key = "access_tokens"
    serializer_class = SpaceTokenSerializer
    create_serializer_class = SpaceTokenCreateSerializer
    lookup_field = "access_token"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "delete", "head", "options"]

    def base_queryset(self) -> models.QuerySet[SpaceToken]:
        return SpaceToken.objects.filter(space=self.space).select_related("space__workspace")

    def lookup(self, queryset: models.QuerySet[SpaceToken], key: str) -> SpaceToken | None:
        return queryset.filter(pk=int(key)).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> SpaceToken:
        token, secret = token_service.do_create_space_token(
            principal=principal, space=self.space, description=data["description"]
        )
        token.secret = secret  # type: ignore[attr-defined]  # transient, for this answer only
        return token

    def render_created(self, obj: SpaceToken) -> dict[str, Any]:
        return with_secret(self.render(obj), obj.secret)  # type: ignore[attr-defined]

    def delete_resource(self, principal: Principal, obj: SpaceToken) -> None:
        token_service.do_revoke_space_token(principal=principal, token=obj)
