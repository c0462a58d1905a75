from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer

from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from workspace.api.serializers import (
    AccessTokenCreateSerializer,
    AccessTokenSerializer,
    CreatedAccessTokenSerializer,
)
from workspace.models import AccessToken
from workspace.services import tokens as service


@extend_schema_view(
    list=extend_schema(
        summary="List Access Tokens",
        description="Live tokens of the workspace. Workspace Owners only.",
    ),
    retrieve=extend_schema(summary="Get Access Token"),
    create=extend_schema(
        summary="Create Access Token",
        description="The answer carries the secret in `token`; it is never shown again.",
        request=inline_serializer(
            "CreateAccessToken", {"access_token": AccessTokenCreateSerializer()}
        ),
        responses=CreatedAccessTokenSerializer,
    ),
    partial_update=extend_schema(summary="Update Access Token (description)"),
    destroy=extend_schema(
        summary="Revoke Access Token", responses={200: inline_serializer("Revoked", {})}
    ),
)
class AccessTokenViewSet(WorkspaceResourceViewSet):
    resource_key = "access_token"
    collection_key = "access_tokens"
    serializer_class = AccessTokenSerializer
    create_serializer_class = AccessTokenCreateSerializer
    lookup_field = "access_token"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_workspace_action = "administer"

    def base_queryset(self) -> models.QuerySet[AccessToken]:
        return AccessToken.objects.filter(
            workspace=self.workspace, revoke_time__isnull=True
        ).select_related("user", "workspace")

    def lookup(self, queryset: models.QuerySet[AccessToken], key: str) -> AccessToken | None:
        return queryset.filter(pk=int(key)).first()

    def create_resource(self, principal: Principal, data: dict[str, Any]) -> AccessToken:
        token, secret = service.do_create_workspace_token(
            principal=principal,
            workspace=self.workspace,
            description=data["description"],
            access_level=data["access"],
            scope=data["scope"],
        )
        token.secret = secret  # type: ignore[attr-defined]  # transient, for this answer only
        return token

    def render_created(self, obj: AccessToken) -> dict[str, Any]:
        return {**self.render(obj), "token": obj.secret}  # type: ignore[attr-defined]

    def update_resource(
        self, principal: Principal, obj: AccessToken, changes: dict[str, Any]
    ) -> AccessToken:
        return service.do_update_access_token(principal=principal, token=obj, changes=changes)

    def delete_resource(self, principal: Principal, obj: AccessToken) -> None:
        service.do_revoke_access_token(principal=principal, token=obj)
