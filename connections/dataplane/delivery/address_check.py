"""Would the SSRF guard refuse a URL? Asked when a destination or a mapping is saved,
so that a URL delivery will refuse is said at once rather than found later in a
failed delivery's record.

The answer comes from the guard itself (``http.resolve``: the same name
resolution and the same address rules), with a short timeout: saving never waits
on slow DNS. A name that does not resolve in time, or at all, says nothing: it
may resolve from the workers, and delivery reports it if it does not.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable

import httpx
from django.conf import settings

from connections.dataplane.delivery import http

# How long a save waits for its names to resolve.
LOOKUP_SECONDS = 1.0
# URLs checked per save at most (a mapping could hold many).
MAX_CHECKED = 10

# getaddrinfo has no timeout of its own: it runs in a thread that the save stops
# waiting for (a lookup that hangs finishes in the background).
_lookups = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="ssrf-check")


def _target(url: str) -> tuple[str, int] | None:
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return None
    return parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)


def _refusal_of(future: concurrent.futures.Future[list[str]]) -> str | None:
    if not future.done():  # still resolving: say nothing
        return None
    error = future.exception()
    return str(error) if isinstance(error, http.BlockedAddress) else None  # OSError: nothing


def refusal(url: str, *, timeout: float = LOOKUP_SECONDS) -> str | None:
    """Why delivery would refuse ``url`` (the guard's words), or None."""
    found = warnings_for([url], timeout=timeout, raw=True)
    return found[0] if found else None


def warnings_for(
    urls: Iterable[str], *, timeout: float = LOOKUP_SECONDS, raw: bool = False
) -> list[str]:
    """One warning per refused URL (each host and port asked once). The names
    resolve side by side, and a save waits ``timeout`` for all of them at most."""
    if settings.DELIVERY_ALLOW_PRIVATE_NETWORKS:
        return []
    asked: dict[tuple[str, int], tuple[str, concurrent.futures.Future[list[str]]]] = {}
    for url in urls:
        target = _target(url)
        if target is None or target in asked:
            continue
        if len(asked) >= MAX_CHECKED:
            break
        asked[target] = (url, _lookups.submit(http.resolve, *target))
    concurrent.futures.wait([future for _, future in asked.values()], timeout=timeout)
    found: list[str] = []
    for url, future in asked.values():
        problem = _refusal_of(future)
        if problem is None:
            continue
        found.append(
            problem
            if raw
            else f"Delivery will refuse {url}: {problem}. To deliver to a local or private "
            "endpoint (while testing), start Switchyard with "
            "DELIVERY_ALLOW_PRIVATE_NETWORKS=true."
        )
    return found
