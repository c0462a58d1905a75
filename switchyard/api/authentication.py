"""``Authorization: Bearer <access token>`` for the REST API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from switchyard.access import registry


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not secret.strip():
            raise exceptions.AuthenticationFailed(
                "malformed Authorization header: expected 'Bearer <access token>'"
            )
        token = registry.tenancy().authenticate(secret.strip())
        if token is None:
            raise exceptions.AuthenticationFailed("invalid or revoked access token")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # A value here makes DRF answer 401 (not 403) to missing credentials.
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "switchyard.api.authentication.BearerTokenAuthentication"
    name = "accessToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
