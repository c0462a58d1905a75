"""``GET /v1/spaces/{space}/collections/{users|accounts}/profiles/{type}:{value}/
{traits|external_ids|events|metadata|links}``.

One view parses the whole path (an identifier value may hold any character once
URL-decoded, ``/`` included: the resource is the last segment), so every answer
under ``/v1/spaces/`` is the Profile API's JSON, errors included, with a
``Request-Id`` header. Order: the token (401), the space's rate limit (429), the
route and parameters (404/400), the profile (404). ``{space}`` is the space's id
(``spa_...``) or its slug: the token names one space, so a slug is unambiguous.
A token of another space gets the 404 of a space that does not exist.
Server-side only, as Segment's: no CORS headers.
"""

from __future__ import annotations

import logging
import uuid

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from connections.dataplane.tracking.rate_limit import admit
from engage.models import Space
from engage.profile_api import auth, lookup, params, resources
from engage.profile_api.errors import (
    AUTHENTICATION,
    INVALID_REQUEST,
    NOT_FOUND,
    RATE_LIMIT,
    ProfileApiError,
    error_response,
)

logger = logging.getLogger("engage.profile_api")


def _route(rest: str) -> tuple[str, str, str, str]:
    """``{space}/collections/{collection}/profiles/{identifier}/{resource}``."""
    parts = rest.split("/")
    if len(parts) < 6 or parts[1] != "collections" or parts[3] != "profiles":
        raise ProfileApiError(NOT_FOUND, "Route was not found.")
    resource = parts[-1]
    if resource not in resources.READS:
        raise ProfileApiError(
            NOT_FOUND, f"Route was not found: read one of {', '.join(resources.READS)}."
        )
    identifier = "/".join(parts[4:-1])
    if not identifier:
        raise ProfileApiError(NOT_FOUND, "Route was not found.")
    return parts[0], parts[2], identifier, resource


def _rate_limited(space: Space) -> HttpResponse | None:
    limit = settings.SWITCHYARD_PROFILE_API_RATE_LIMIT
    limited = admit(f"profile-api-rate:{space.pk}", limit) if limit > 0 else None
    if limited is None:
        return None
    response = error_response(
        RATE_LIMIT,
        f"Rate limit exceeded: at most {limited.limit} requests per second per space;"
        f" retry after {limited.retry_after} s with exponential backoff.",
        429,
    )
    response["Retry-After"] = str(limited.retry_after)
    response["X-RateLimit-Limit"] = str(limited.limit)
    response["X-RateLimit-Remaining"] = "0"
    response["X-RateLimit-Reset"] = str(limited.reset)
    return response


def _answer(request: HttpRequest, rest: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = error_response(INVALID_REQUEST, "The Profile API accepts GET only.", 405)
        response["Allow"] = "GET, HEAD"
        return response
    secret = auth.basic_secret(request)
    # The route and parameters are read first so that the token, its space and the
    # profile come in one statement; a mistake in them is answered only once the
    # token is known good (401 first, then 429, then 404/400).
    mistake: ProfileApiError | None = None
    space_key: str | None = None
    wanted: lookup.Named | None = None
    try:
        space_key, collection, identifier, resource = _route(rest)
        wanted = lookup.named(collection, identifier)
        query = params.parse(request.GET, resource)
    except ProfileApiError as error:
        mistake = error
    opened = lookup.open_space(secret, wanted if mistake is None else None)
    if opened is None:
        raise ProfileApiError(AUTHENTICATION, auth.INVALID)
    space, stored = opened
    limited = _rate_limited(space)
    if limited is not None:
        return limited
    # A token of another space learns nothing of this one, its routes included.
    if space_key is not None and space_key not in (space.key_id, space.slug):
        raise ProfileApiError(NOT_FOUND, "Space was not found.")
    if mistake is not None:
        raise mistake
    profile = lookup.canonical(stored)
    page = resources.Page(space, profile, resource, request.GET)
    body = resources.READS[resource](space, profile, query, page)
    return HttpResponse(orjson.dumps(body), content_type="application/json")


@csrf_exempt  # a GET-only API: other methods get its own 405, not the CSRF page
def profile_api(request: HttpRequest, rest: str) -> HttpResponse:
    request_id = str(uuid.uuid4())
    try:
        response = _answer(request, rest)
    except ProfileApiError as error:
        response = error_response(error.code, error.message, error.status)
    except Exception:
        logger.exception("Profile API request %s failed", request_id)
        response = error_response("internal_error", f"Internal error ({request_id}).", 500)
    response["Request-Id"] = request_id
    return response
