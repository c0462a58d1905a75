from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import permissions
from rest_framework.request import Request

if TYPE_CHECKING:
    from rest_framework.views import APIView

from switchyard.errors import InsufficientScope


class TokenScopePermission(permissions.BasePermission):
    """A read-only token may read, and every write answers code 7 'insufficient scope'."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = request.auth
        if request.method not in permissions.SAFE_METHODS and getattr(token, "read_only", False):
            raise InsufficientScope()
        return True
