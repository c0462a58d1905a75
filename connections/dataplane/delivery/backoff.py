"""When to try a delivery again.

Exponential backoff with equal jitter: after ``n`` attempts the ceiling is
``DELIVERY_RETRY_BASE_SECONDS * 2^(n-1)`` (capped at
``DELIVERY_RETRY_MAX_DELAY_SECONDS``); half of it is always waited and the other
half drawn at random. The fixed half is the floor: full jitter (a draw over the
whole ceiling) could make a retry due at once, hammering a destination that just
failed. ``Retry-After`` replaces the computed wait. Never more than
``DELIVERY_MAX_ATTEMPTS`` attempts, never after ``DELIVERY_RETRY_WINDOW`` seconds
from the event's receipt.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from django.conf import settings

# The random source of the jitter: a uniform draw in [low, high]. Tests pin it.
uniform: Callable[[float, float], float] = random.uniform


def ceiling(attempts: int, *, base: float | None = None, cap: float | None = None) -> float:
    """The longest wait after ``attempts`` attempts (``base`` and ``cap`` default to
    the pipeline's settings; direct delivery passes its own, shorter ones)."""
    return min(
        settings.DELIVERY_RETRY_MAX_DELAY_SECONDS if cap is None else cap,
        (settings.DELIVERY_RETRY_BASE_SECONDS if base is None else base)
        * 2 ** max(0, attempts - 1),
    )


def floor(attempts: int, *, base: float | None = None, cap: float | None = None) -> float:
    """The shortest wait after ``attempts`` attempts: half the ceiling."""
    return ceiling(attempts, base=base, cap=cap) / 2


def delay(attempts: int, *, base: float | None = None, cap: float | None = None) -> float:
    """Seconds to wait after ``attempts`` attempts: the floor, plus a draw up to the ceiling."""
    low, high = floor(attempts, base=base, cap=cap), ceiling(attempts, base=base, cap=cap)
    return low + uniform(0, high - low)


def next_attempt(
    attempts: int, received_at: dt.datetime, now: dt.datetime, retry_after: float | None = None
) -> dt.datetime | None:
    """When to try again after ``attempts`` attempts, or None: give up."""
    if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        return None
    wait = retry_after if retry_after is not None else delay(attempts)
    when = now + dt.timedelta(seconds=wait)
    if when > received_at + dt.timedelta(seconds=settings.DELIVERY_RETRY_WINDOW):
        return None
    return when
