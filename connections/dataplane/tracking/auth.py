"""Which write key a Tracking API request carries.

Segment's libraries send the write key as the username of HTTP Basic auth with
an empty password (analytics-python, analytics-node, the HTTP API docs), or as
``writeKey`` in the JSON body (analytics.js, which posts ``text/plain`` to avoid
a CORS preflight). Basic wins when both are present; a Bearer token (Segment's
OAuth option) is not a write key, so the body's is used then.

The key is *checked* where the events are stored: the storing statement
(connections.dataplane.ingest) finds the source through an active write key in
the same round trip and transaction, so there is no per-process cache to go
stale: a revoked key stops authenticating on the next request, and a source
disabled a moment ago drops the next request's events. Unknown and revoked
keys answer 401 ``{"success": false, "error": "..."}``, before any 400 about the
body: a request the API refuses anyway is the only one whose key is looked up
on its own (``is_active``).
"""

from __future__ import annotations

import base64
from typing import Any

from django.http import HttpRequest


def basic_username(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8
        return ""
    return decoded.partition(":")[0]


def write_key(request: HttpRequest, body: dict[str, Any]) -> str:
    """The request's write key, or ``""`` when it carries none."""
    key = basic_username(request)
    if not key:
        value = body.get("writeKey")
        key = value if isinstance(value, str) else ""
    return key


def is_active(key: str) -> bool:
    """Whether ``key`` is a write key that is not revoked (one indexed lookup)."""
    from connections.models import WriteKey

    if "\x00" in key:  # PostgreSQL text cannot hold NUL, so no key does
        return False
    return WriteKey.objects.filter(secret=key, revoke_time=None).exists()
