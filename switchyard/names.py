"""Resource names (``workspaces/{workspace}/sources/{source}``) and generated ids.

Slugs name customer-named, stable resources; resources whose names change get a
generated id with a short type prefix (``tp_...``), as the Config API does.
"""

from __future__ import annotations

import re
import secrets

from switchyard.errors import InvalidArgument

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
SLUG_RULE = (
    "a slug is 1-64 lowercase letters, digits or hyphens, "
    "and starts and ends with a letter or digit"
)
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
# SLUG_RE as an OpenAPI pattern (ECMA and Python read it alike).
SLUG_PATTERN = SLUG_RE.pattern


def name_pattern(*collections: str) -> str:
    """The OpenAPI pattern of a name whose every key is a slug:
    ``name_pattern("workspaces", "sources")`` matches ``workspaces/acme/sources/js``."""
    slug = SLUG_PATTERN.removeprefix("^").removesuffix("$")
    return "^" + "/".join(f"{c}/{slug}" for c in collections) + "$"


def generate_id(prefix: str = "", length: int = 20) -> str:
    body = "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))
    return f"{prefix}_{body}" if prefix else body


def validate_slug(slug: object, *, field: str = "name") -> str:
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise InvalidArgument(f"invalid slug {slug!r} in {field}: {SLUG_RULE}", field=field)
    return slug


def build(*pairs: tuple[str, str]) -> str:
    """``build(("workspaces", "acme"), ("sources", "js"))`` -> ``workspaces/acme/sources/js``."""
    return "/".join(f"{collection}/{key}" for collection, key in pairs)


def parse(name: object, *collections: str, field: str = "name") -> tuple[str, ...]:
    """Split a resource name into its keys, checking the collection segments.

    ``parse("workspaces/acme/sources/js", "workspaces", "sources")`` -> ``("acme", "js")``.
    """
    expected = "/".join(f"{c}/{{{c[:-1]}}}" for c in collections)
    if not isinstance(name, str):
        raise InvalidArgument(f"{field} must be a string like {expected!r}", field=field)
    parts = name.split("/")
    if len(parts) != 2 * len(collections) or any(
        parts[2 * i] != c for i, c in enumerate(collections)
    ):
        raise InvalidArgument(
            f"invalid resource name {name!r} in {field}: expected {expected!r}", field=field
        )
    keys = tuple(parts[1::2])
    if any(not k for k in keys):
        raise InvalidArgument(f"invalid resource name {name!r} in {field}: empty key", field=field)
    return keys
