"""Errors that business code raises; each surface renders them its own way.

The codes are the Config API's (gRPC status codes) so the REST API can answer
``{"error": ..., "code": ...}`` directly, and the UI can show the message.
"""

from __future__ import annotations


class SwitchyardError(Exception):
    code = 13
    http_status = 500
    default_message = "internal error"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)


class InvalidArgument(SwitchyardError):
    code, http_status, default_message = 3, 400, "invalid argument"


class Unauthenticated(SwitchyardError):
    code, http_status, default_message = 16, 401, "unauthenticated"


class PermissionDenied(SwitchyardError):
    code, http_status, default_message = 7, 403, "permission denied"


class InsufficientScope(PermissionDenied):
    default_message = "insufficient scope"


class NotFound(SwitchyardError):
    code, http_status, default_message = 5, 404, "not found"


class AlreadyExists(SwitchyardError):
    code, http_status, default_message = 6, 409, "already exists"


class FailedPrecondition(SwitchyardError):
    """The request is valid but the system is not in a state that allows it
    (deleting a label in use, removing the last owner)."""

    code, http_status, default_message = 9, 400, "failed precondition"


class ResourceExhausted(SwitchyardError):
    code, http_status, default_message = 8, 429, "rate limit exceeded"


class Internal(SwitchyardError):
    pass


class Unimplemented(SwitchyardError):
    code, http_status, default_message = 12, 501, "not implemented"


class Unavailable(SwitchyardError):
    code, http_status, default_message = 14, 503, "unavailable"


def code_for_status(status: int) -> int:
    """The Config API code for an HTTP status we did not raise ourselves."""
    return {
        400: 3,
        401: 16,
        403: 7,
        404: 5,
        405: 12,
        406: 3,
        409: 6,
        413: 3,
        415: 3,
        429: 8,
        501: 12,
        503: 14,
    }.get(status, 13 if status >= 500 else 3)
