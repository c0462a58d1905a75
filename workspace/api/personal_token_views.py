"""``/v1beta/access-tokens``: the caller's own personal tokens, to list and revoke.

Personal tokens belong to no workspace (see ``create_access_token
--personal-superuser-token``), so they are not under ``workspaces/{w}/access-tokens``;
here their user sees them and revokes them. None are created here.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework.request import Request

from switchyard.access import Principal
from switchyard.api.viewsets import ResourceViewSet
from switchyard.errors import PermissionDenied
from workspace.api.serializers import AccessTokenSerializer
from workspace.models import AccessToken
from workspace.selectors import personal_tokens
from workspace.services import tokens as service


@extend_schema_view(
    list=extend_schema(
        summary="List Personal Access Tokens",
        description="The caller's own live personal tokens (a workspace token gets 403).",
    ),
    retrieve=extend_schema(summary="Get Personal Access Token"),
    destroy=extend_schema(
        summary="Revoke Personal Access Token",
        description="Requests with it answer 401 from now on; it may be the token making "
        "this request.",
        responses={200: inline_serializer("Revoked", {})},
    ),
)
class PersonalAccessTokenViewSet(ResourceViewSet):
    resource_key = "access_token"
    collection_key = "access_tokens"
    serializer_class = AccessTokenSerializer
    lookup_field = "access_token"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "delete", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.principal.workspace_token is not None:
            raise PermissionDenied("a workspace token has no personal tokens")

    def base_queryset(self) -> models.QuerySet[AccessToken]:
        return personal_tokens(self.principal)

    def lookup(self, queryset: models.QuerySet[AccessToken], key: str) -> AccessToken | None:
        return queryset.filter(pk=int(key)).first()

    def delete_resource(self, principal: Principal, obj: AccessToken) -> None:
        service.do_revoke_access_token(principal=principal, token=obj)
