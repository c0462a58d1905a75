"""HTTP Basic with a space access token as the username and an empty password
(``curl -u $TOKEN:``): the token names the space it reads (engage.profile_api.lookup
checks it)."""

from __future__ import annotations

import base64
import binascii

from django.http import HttpRequest

from engage.profile_api.errors import AUTHENTICATION, ProfileApiError

MISSING = (
    "Missing access token: send it as the HTTP Basic username with an empty password"
    " (curl -u $TOKEN:)."
)
INVALID = "Invalid access token (unknown or revoked)."


def basic_secret(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise ProfileApiError(AUTHENTICATION, MISSING)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ProfileApiError(AUTHENTICATION, INVALID) from None
    secret = decoded.partition(":")[0]
    if not secret:
        raise ProfileApiError(AUTHENTICATION, MISSING)
    return secret
