"""Every error under ``/v1beta/`` answers the JSON envelope, never an HTML page.

DRF's exception handler covers errors inside API views; this covers the rest:
URLs that resolve to nothing (Django's 404), CSRF failures, and uncaught
exceptions (500), whatever ``DEBUG`` says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import bad_request

from switchyard.api.errors import json_error
from switchyard.api.parsers import too_large_message
from switchyard.validation import NUL

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
        if _is_api(request) and isinstance(exception, RequestDataTooBig):
            return json_error(too_large_message(), 413)
        if not _is_api(request) or isinstance(exception, Http404 | PermissionDenied):
            return None  # Django answers these; __call__ wraps the answer
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return json_error("internal error", 500, 13)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(request: HttpRequest) -> bool:
    if NUL in request.path or any(
        NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists()
    ):
        return True
    if request.method == "POST" and request.content_type in _FORM_TYPES:
        return any(
            NUL in key or any(NUL in value for value in values)
            for key, values in request.POST.lists()
        )
    return False


def _too_large(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and length > limit


class HostileInputMiddleware:
    """Refuse, for the API and the UI alike, input no view could store.

    PostgreSQL refuses U+0000 in text, so a NUL in the path, the query or a form
    field is a 400 here rather than a 500 at the first query. JSON bodies are
    checked by ``switchyard.api.parsers.JSONParser``. An API body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is 413 in the envelope before it is read (the
    UI's form parsing enforces the same limit itself, as a 400).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = _is_api(request)
        if api and _too_large(request):
            return json_error(too_large_message(), 413)
        try:
            nul = _has_nul(request)
        except RequestDataTooBig:
            if api:
                return json_error(too_large_message(), 413)
            raise  # Django answers it with its 400 page
        if nul:
            message = "invalid argument: the request must not contain NUL (\\u0000) characters"
            if api:
                return json_error(message, 400)
            return bad_request(request, ValueError(message))
        return self.get_response(request)
