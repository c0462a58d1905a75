"""The Config API error envelope: ``{"error": "<message>", "code": <n>}``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from switchyard.errors import SwitchyardError, code_for_status

logger = logging.getLogger(__name__)


def envelope(message: str, code: int) -> dict[str, Any]:
    return {"error": message, "code": code}


def json_error(message: str, status: int, code: int | None = None) -> JsonResponse:
    return JsonResponse(envelope(message, code or code_for_status(status)), status=status)


def _flatten(detail: Any, path: str = "") -> list[str]:
    """DRF validation details as ``field: message`` lines, nested fields dotted."""
    if isinstance(detail, dict):
        lines: list[str] = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            lines += _flatten(value, f"{path}.{name}" if path and name else path or name)
        return lines
    if isinstance(detail, list):
        return [line for item in detail for line in _flatten(item, path)]
    return [f"{path}: {detail}" if path else str(detail)]


def _message(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "; ".join(_flatten(exc.detail)) or "invalid argument"
    if isinstance(exc, exceptions.NotAuthenticated):
        return "missing credentials: send 'Authorization: Bearer <access token>'"
    detail = exc.detail
    return str(detail) if not isinstance(detail, list | dict) else "; ".join(_flatten(detail))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, answering every error in the envelope."""
    if isinstance(exc, SwitchyardError):
        return Response(envelope(exc.message, exc.code), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: ApiErrorEnvelopeMiddleware logs it and answers 500 code 13
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    code = code_for_status(exc.status_code)
    return Response(envelope(_message(exc), code), status=exc.status_code, headers=headers)
