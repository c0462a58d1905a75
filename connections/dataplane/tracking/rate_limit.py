"""The Tracking API's per-workspace rate limit: at most SWITCHYARD_INGEST_RATE_LIMIT
requests per second per workspace (Segment's documented inbound limit is 1,000
events per second per workspace); 0 turns it off.

A fixed one-second window in Redis: ``INCRBY`` of the workspace's counter for the
current second and ``EXPIRE`` on it, pipelined, in one round trip. A process takes
its requests from Redis in leases of up to ``LEASE_MAX`` (a fiftieth of the limit,
so 20 at the default 1,000) and counts them down locally: the round trip is paid
once per lease, not per request (one per request cost ~9% of HTTP ingest
throughput in the bench). The price is precision: a lease a process does not use up
within its second still counts, so a workspace may be refused up to
``LEASE_MAX`` requests per process early, never let through late. At limits under
100 the lease is 1 and the count exact.
Over the limit, the request is answered 429 with ``Retry-After`` (seconds, at
least 1: Segment's libraries retry a 429 with backoff) and ``X-RateLimit-Reset``
(the Unix time the window ends) before anything is stored.

The workspace of a write key is looked up once per process (a key never moves to
another workspace); a revoked or unknown key still reaches ingest, which refuses
it. If Redis is unreachable the request is let through: ingest does not depend
on Redis, and a limiter should not make it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("switchyard.tracking")

WINDOW_SECONDS = 1
LEASE_MAX = 20
# workspace -> (window, requests this process may still admit in it); the lock
# keeps a threaded worker's requests from sharing one lease slot.
_leases: dict[str, tuple[int, int]] = {}
_leases_lock = threading.Lock()
# Write keys whose workspace this process remembers (cleared when full).
_KNOWN_MAX = 10_000
_workspace_of: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Limited:
    limit: int
    reset: int  # Unix time the window ends
    retry_after: int  # seconds


def workspace_of(key: str) -> str | None:
    found = _workspace_of.get(key)
    if found is not None:
        return found
    if "\x00" in key:
        return None
    from connections.models import WriteKey

    found = (
        WriteKey.objects.filter(secret=key).values_list("source__workspace_id", flat=True).first()
    )
    if found is not None:
        if len(_workspace_of) >= _KNOWN_MAX:
            _workspace_of.clear()
        _workspace_of[key] = found
    return found


def check(key: str, *, now: float | None = None) -> Limited | None:
    """Count this request against the workspace of ``key``; a ``Limited`` when it is
    over the limit, else None."""
    limit = settings.SWITCHYARD_INGEST_RATE_LIMIT
    if limit <= 0:
        return None
    workspace = workspace_of(key)
    if workspace is None:
        return None
    return admit(f"ingest-rate:{workspace}", limit, now=now)


def admit(scope: str, limit: int, *, now: float | None = None) -> Limited | None:
    """Count one request against ``scope`` (a Redis key prefix naming what is limited,
    e.g. ``ingest-rate:<workspace>``), at most ``limit`` per second, with the leases
    above; a ``Limited`` when it is over, else None. Other APIs limit through this too
    (engage's Profile API, per space)."""
    now = time.time() if now is None else now
    window = int(now) // WINDOW_SECONDS
    with _leases_lock:
        leased_window, left = _leases.get(scope, (window, 0))
        if leased_window == window and left > 0:
            _leases[scope] = (window, left - 1)
            return None
    lease = max(1, min(LEASE_MAX, limit // 50))
    name = cache.make_key(f"{scope}:{window}")
    try:
        client = cache._cache.get_client(name, write=True)  # type: ignore[attr-defined]
        pipe = client.pipeline(transaction=False)
        pipe.incrby(name, lease)
        pipe.expire(name, WINDOW_SECONDS + 1)
        count, _ = pipe.execute()
    except Exception:  # redis.RedisError, OSError: let the request through
        logger.warning("ingest rate limit not checked: Redis unavailable", exc_info=True)
        return None
    # Of the ``lease`` requests just counted, those still under the limit are ours.
    granted = min(lease, limit - (int(count) - lease))
    if granted > 0:
        with _leases_lock:
            _leases[scope] = (window, granted - 1)
        return None
    reset = (window + 1) * WINDOW_SECONDS
    return Limited(limit=limit, reset=reset, retry_after=max(1, math.ceil(reset - now)))
