"""Segment's Profile API errors: ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

import orjson
from django.http import HttpResponse

NOT_FOUND = "not_found"
VALIDATION = "validation_error"
AUTHENTICATION = "authentication_error"
INVALID_REQUEST = "invalid_request_error"
RATE_LIMIT = "rate_limit_error"

_STATUS = {NOT_FOUND: 404, VALIDATION: 400, AUTHENTICATION: 401, INVALID_REQUEST: 400}
PROFILE_NOT_FOUND = "Profile was not found."


class ProfileApiError(Exception):
    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or _STATUS[code]


def invalid(parameter: str, message: str) -> ProfileApiError:
    return ProfileApiError(VALIDATION, f"The parameter `{parameter}` {message}")


def error_response(code: str, message: str, status: int) -> HttpResponse:
    body = orjson.dumps({"error": {"code": code, "message": message}})
    return HttpResponse(body, status=status, content_type="application/json")
