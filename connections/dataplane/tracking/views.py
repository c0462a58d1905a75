"""The Tracking API: what Segment's libraries speak.

Plain Django function views (no DRF, no ORM on the way in): read the body
(chunked and gzip allowed, every gzip member), parse it with orjson, validate
and normalize every message, pass them through the ingest gates
(connections.dataplane.gates: privacy controls), then store them with one
statement (connections.dataplane.ingest). A 200
``{"success": true}`` means the messages are committed to PostgreSQL.

Errors answer ``{"success": false, "error": "..."}``: 400 for a body or message
the Spec refuses (naming the message and the limit or field), 401 for a missing,
unknown or revoked write key. Every answer carries CORS headers, so a browser
(analytics.js) may post from any origin; analytics.js posts ``text/plain`` to
skip the preflight, so any content type carrying JSON is read.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from connections.dataplane import gates
from connections.dataplane.ingest import ingest
from connections.dataplane.ingest_failures import count_refused
from connections.dataplane.tracking import auth, rate_limit
from connections.dataplane.tracking.validation import (
    BATCH_BODY_LIMIT,
    INVALID_ENCODING,
    INVALID_JSON,
    KB,
    MESSAGE_LIMIT,
    TOO_LARGE,
    Invalid,
    auto_ip,
    iso,
    normalize,
    normalize_batch,
    refuse_wide_integers,
)
from switchyard.client_address import client_address

_OK = b'{"success":true}'
_JSON = "application/json"
_ALLOW_HEADERS = "Content-Type, Authorization, Content-Encoding"
# A gzip stream can be a little larger than what it holds (incompressible data).
_GZIP_SLACK = 1 * KB


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.META.get("HTTP_ORIGIN")
    response["Access-Control-Allow-Origin"] = origin or "*"
    if origin:
        response["Vary"] = "Origin"
    return response


_CODES = {
    400: "invalid_request",
    401: "invalid_write_key",
    405: "method_not_allowed",
    429: "rate_limited",
}


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    # "code" and "message" as well: Segment's libraries read those from an error.
    body = orjson.dumps(
        {"success": False, "error": message, "code": _CODES[status], "message": message}
    )
    return _cors(request, HttpResponse(body, status=status, content_type=_JSON))


def _rate_limited(request: HttpRequest, limited: rate_limit.Limited) -> HttpResponse:
    response = _error(
        request,
        429,
        f"rate limit exceeded: at most {limited.limit:,} requests per second per workspace;"
        f" retry after {limited.retry_after} s",
    )
    response["Retry-After"] = str(limited.retry_after)
    response["X-RateLimit-Limit"] = str(limited.limit)
    response["X-RateLimit-Remaining"] = "0"
    response["X-RateLimit-Reset"] = str(limited.reset)
    response["Access-Control-Expose-Headers"] = "Retry-After, X-RateLimit-Limit, X-RateLimit-Reset"
    return response


def _preflight(request: HttpRequest) -> HttpResponse:
    response = _cors(request, HttpResponse(status=204))
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = _ALLOW_HEADERS
    response["Access-Control-Max-Age"] = "86400"
    return response


def _too_large(limit: int, batch: bool) -> Invalid:
    what = "the batch request" if batch else "the message"
    return Invalid(f"{what} is larger than the {limit // KB} KB limit", code=TOO_LARGE)


def _request_bytes(request: HttpRequest, limit: int) -> bytes:
    """The body as sent, at most ``limit + 1`` bytes of it. A chunked body has no
    Content-Length, so Django reads it as empty: it is read from the server's input
    stream (gunicorn removes the chunk framing) up to the limit instead."""
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not chunked or request.META.get("CONTENT_LENGTH"):
        return request.body
    stream = request.META["wsgi.input"]
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = stream.read(limit + 1 - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _gunzip(raw: bytes, limit: int, batch: bool) -> bytes:
    """Every member of a gzip stream (RFC 1952 lets one follow another, and
    ``gzip.decompress`` reads them all), at most ``limit`` bytes inflated in all."""
    out: list[bytes] = []
    size = 0
    rest = raw
    while True:
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        try:
            part = inflater.decompress(rest, limit + 1 - size)
        except zlib.error:
            raise Invalid("the body is not valid gzip", code=INVALID_ENCODING) from None
        out.append(part)
        size += len(part)
        if size > limit or inflater.unconsumed_tail:
            raise _too_large(limit, batch)
        if not inflater.eof:
            raise Invalid("the body is not valid gzip (truncated)", code=INVALID_ENCODING)
        rest = inflater.unused_data
        if not rest:
            return b"".join(out)


def read_body(request: HttpRequest, limit: int, *, batch: bool) -> bytes:
    """The request body, gunzipped when ``Content-Encoding: gzip``; at most ``limit``
    bytes once decompressed (checked before reading when Content-Length says)."""
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding not in ("", "identity", "gzip"):
        raise Invalid(
            f'unsupported Content-Encoding "{encoding[:32]}"; send gzip or nothing',
            code=INVALID_ENCODING,
        )
    gzipped = encoding == "gzip"
    sent_limit = limit + (_GZIP_SLACK if gzipped else 0)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > sent_limit:
        raise _too_large(limit, batch)
    raw = _request_bytes(request, sent_limit)
    if len(raw) > sent_limit:
        raise _too_large(limit, batch)
    return _gunzip(raw, limit, batch) if gzipped else raw


def parse(raw: bytes) -> dict[str, Any]:
    if not raw:
        raise Invalid("the body is empty; send a JSON object", code=INVALID_JSON)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise Invalid(f"the body is not valid JSON: {error}", code=INVALID_JSON) from None
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object", code=INVALID_JSON)
    refuse_wide_integers(raw)
    return body


def _invalid_key(request: HttpRequest) -> HttpResponse:
    return _error(request, 401, "invalid write key (unknown or revoked)")


def _refuse(request: HttpRequest, key: str, error: Invalid, events: int = 1) -> HttpResponse:
    """The answer to a body refused before storing: the key is authenticated first,
    so an unknown key learns nothing about what a body would need. The key is looked
    up here only (in the statement that counts the refusal against its source), so a
    valid request still costs a single statement (ingest's)."""
    if key and not count_refused(key, error.code, events):
        return _invalid_key(request)
    return _error(request, 400, str(error))


def _handle(request: HttpRequest, kind: str | None) -> HttpResponse:
    """One call (``kind`` = its type) or, with ``kind=None``, a batch."""
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method != "POST":
        response = _error(request, 405, "the Tracking API accepts POST only")
        response["Allow"] = "POST, OPTIONS"
        return response
    batch = kind is None
    try:
        body = parse(read_body(request, BATCH_BODY_LIMIT if batch else MESSAGE_LIMIT, batch=batch))
    except Invalid as error:
        # The body's writeKey is unreadable: only a Basic auth key can be checked.
        return _refuse(request, auth.basic_username(request), error)
    key = auth.write_key(request, body)
    if not key:
        return _error(
            request,
            401,
            "missing write key: send it as the HTTP Basic username or as writeKey in the body",
        )
    limited = rate_limit.check(key)
    if limited is not None:
        return _rate_limited(request, limited)
    now = timezone.now()
    # Milliseconds, as in the payload's receivedAt: the column and the payload agree.
    received_at = now.replace(microsecond=now.microsecond // 1000 * 1000)
    received_iso = iso(received_at)
    client_ip = auto_ip(client_address(request))
    try:
        if batch:
            rows = normalize_batch(
                body, received_at=received_at, received_iso=received_iso, client_ip=client_ip
            )
        else:
            rows = [
                normalize(
                    body,
                    kind=kind,
                    received_at=received_at,
                    received_iso=received_iso,
                    client_ip=client_ip,
                )
            ]
    except Invalid as error:
        messages = body.get("batch") if batch else None
        return _refuse(request, key, error, len(messages) if isinstance(messages, list) else 1)
    rows, counts = gates.apply(key, rows)
    if ingest(key, rows, received_at=received_at, counts=counts) is None:
        return _invalid_key(request)
    return _cors(request, HttpResponse(_OK, content_type=_JSON))


def _endpoint(kind: str | None) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        return _handle(request, kind)

    view.__name__ = view.__qualname__ = f"tracking_{kind or 'batch'}"
    return csrf_exempt(view)


identify = _endpoint("identify")
track = _endpoint("track")
page = _endpoint("page")
screen = _endpoint("screen")
group = _endpoint("group")
alias = _endpoint("alias")
batch = _endpoint(None)


def health(request: HttpRequest) -> HttpResponse:
    """The tracking server's health: it needs PostgreSQL (Redis only speeds delivery up:
    the sweeper enqueues what could not be), so that is all this checks."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure is the answer, not an error
        body = {"status": "degraded", "database": f"error: {exc.__class__.__name__}"}
        return HttpResponse(orjson.dumps(body), status=503, content_type=_JSON)
    return HttpResponse(b'{"status":"ok","database":"ok"}', content_type=_JSON)


def project_settings(request: HttpRequest, write_key: str) -> HttpResponse:
    """``GET /v1/projects/{writeKey}/settings``: what analytics.js loads from Segment's
    CDN before it sends anything. Pointing the snippet's CDN at Switchyard (as the
    custom-proxy page describes) makes it send its events here: the Segment.io
    integration names this host as the API host. Unknown or revoked keys are 404."""
    if request.method == "OPTIONS":
        return _preflight(request)
    if not auth.is_active(write_key):
        return _cors(
            request, HttpResponse(b'{"error":"not found"}', status=404, content_type=_JSON)
        )
    segment_io = {
        "apiKey": write_key,
        "apiHost": f"{request.get_host()}/v1",
        "protocol": request.scheme,
        "addBundledMetadata": True,
    }
    body = {"integrations": {"Segment.io": segment_io}, "plan": {}, "enabledMiddleware": {}}
    return _cors(request, HttpResponse(orjson.dumps(body), content_type=_JSON))
