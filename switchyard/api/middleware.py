"""Every error under ``/v1beta/`` answers the JSON envelope, never an HTML page.

DRF's exception handler covers errors inside API views; this covers the rest:
URLs that resolve to nothing (Django's 404), CSRF failures, and uncaught
exceptions (500), whatever ``DEBUG`` says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from switchyard.api.errors import json_error

logger = logging.getLogger("switchyard.api")

API_PREFIX = "/v1beta/"
_HTML_PAGES = ("/v1beta/docs",)

_MESSAGES = {
    400: "invalid argument",
    401: "unauthenticated",
    403: "permission denied",
    404: "not found",
    405: "method not allowed",
    500: "internal error",
}


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX) and not request.path.startswith(_HTML_PAGES)


class ApiErrorEnvelopeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and _is_api(request)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            message = _MESSAGES.get(response.status_code, response.reason_phrase.lower())
            if response.status_code == 404:
                message = f"not found: {request.method} {request.path}"
            return json_error(message, response.status_code)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not _is_api(request) or isinstance(exception, Http404 | PermissionDenied):
            return None  # Django answers these; __call__ wraps the answer
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return json_error("internal error", 500, 13)
