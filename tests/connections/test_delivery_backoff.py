"""Retry timing (connections.dataplane.delivery.backoff): equal jitter never waits
less than half the ceiling; Retry-After, the attempt limit and the window."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from connections.dataplane.delivery import backoff

RECEIVED = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def timing(settings: Any) -> None:
    settings.DELIVERY_RETRY_BASE_SECONDS = 10
    settings.DELIVERY_RETRY_MAX_DELAY_SECONDS = 3600
    settings.DELIVERY_MAX_ATTEMPTS = 20
    settings.DELIVERY_RETRY_WINDOW = 10 * 24 * 3600


def wait_after(attempts: int, retry_after: float | None = None) -> float:
    when = backoff.next_attempt(attempts, RECEIVED, RECEIVED, retry_after)
    assert when is not None
    return (when - RECEIVED).total_seconds()


@pytest.mark.parametrize("seed", range(20))
def test_the_wait_is_never_below_half_the_ceiling(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backoff, "uniform", random.Random(seed).uniform)
    for attempts in range(1, 15):
        for _ in range(50):
            wait = wait_after(attempts)
            assert backoff.ceiling(attempts) / 2 <= wait <= backoff.ceiling(attempts)


def test_the_floor_and_the_ceiling_double_per_attempt_up_to_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backoff, "uniform", lambda low, high: low)
    assert [wait_after(n) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert wait_after(12) == 1800  # half of the one-hour cap
    monkeypatch.setattr(backoff, "uniform", lambda low, high: high)
    assert [wait_after(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert wait_after(12) == 3600


def test_retry_after_replaces_the_computed_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backoff, "uniform", lambda low, high: high)
    assert wait_after(3, retry_after=2) == 2
    assert wait_after(1, retry_after=120) == 120


def test_no_retry_after_the_last_attempt_or_past_the_window(settings: Any) -> None:
    settings.DELIVERY_MAX_ATTEMPTS = 3
    assert backoff.next_attempt(2, RECEIVED, RECEIVED) is not None
    assert backoff.next_attempt(3, RECEIVED, RECEIVED) is None
    settings.DELIVERY_RETRY_WINDOW = 60
    assert backoff.next_attempt(1, RECEIVED, RECEIVED, retry_after=61) is None
    assert backoff.next_attempt(1, RECEIVED, RECEIVED, retry_after=60) is not None
