"""The Tracking API's per-workspace rate limit (SWITCHYARD_INGEST_RATE_LIMIT requests
per second, in Redis): over it a 429 with Retry-After and X-RateLimit-Reset and the
Tracking API's JSON error; other workspaces are not affected; under it, nothing
changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from connections.models import Event
from tests.connections.tracking_support import Tracked, make_source, post

pytestmark = pytest.mark.django_db

TRACK = {"userId": "u-1", "event": "Signed Up"}
LIMIT = 3


@pytest.fixture(autouse=True)
def low_limit(settings: Any) -> None:
    settings.SWITCHYARD_INGEST_RATE_LIMIT = LIMIT


@pytest.fixture
def acme(alice: User) -> Tracked:
    return make_source(alice, "acme")


@pytest.fixture
def initech(alice: User) -> Tracked:
    return make_source(alice, "initech")


def within_one_window(send: Callable[[], list[Any]]) -> list[Any]:
    """Run ``send`` until all of it happened within one second of the clock (the
    limiter's window), so that a second boundary cannot split the requests."""
    for _ in range(10):
        # Start at the top of a second no earlier attempt reached: a retry within the
        # second where the last attempt ended would find that attempt's requests
        # already counted against the limit.
        time.sleep(1.0 - time.time() % 1.0 + 0.005)
        started = int(time.time())
        answers = send()
        if int(time.time()) == started:
            return answers
    raise AssertionError("could not send within one clock second")


def test_over_the_limit_is_429_with_retry_after_and_reset(client: Client, acme: Tracked) -> None:
    def send() -> list[Any]:
        return [post(client, "/v1/track", TRACK, key=acme.key) for _ in range(LIMIT + 1)]

    answers = within_one_window(send)
    assert [a.status_code for a in answers[:LIMIT]] == [200] * LIMIT
    refused = answers[LIMIT]
    assert refused.status_code == 429
    body = refused.json()
    assert body["success"] is False
    assert body["code"] == "rate_limited"
    assert f"at most {LIMIT} requests per second per workspace" in body["error"]
    assert int(refused["Retry-After"]) >= 1
    assert int(refused["X-RateLimit-Reset"]) > time.time() - 2
    assert refused["X-RateLimit-Limit"] == str(LIMIT)
    assert "Retry-After" in refused["Access-Control-Expose-Headers"]
    assert refused["Access-Control-Allow-Origin"] == "*"


def test_a_refused_request_stores_nothing(client: Client, acme: Tracked) -> None:
    def send() -> list[Any]:
        Event.objects.filter(source_id=acme.source.pk).delete()
        return [post(client, "/v1/track", TRACK, key=acme.key) for _ in range(LIMIT + 2)]

    answers = within_one_window(send)
    assert [a.status_code for a in answers] == [200] * LIMIT + [429, 429]
    assert Event.objects.filter(source_id=acme.source.pk).count() <= LIMIT


def test_another_workspace_is_not_affected(client: Client, acme: Tracked, initech: Tracked) -> None:
    def send() -> list[Any]:
        flood = [post(client, "/v1/track", TRACK, key=acme.key) for _ in range(LIMIT + 1)]
        return [flood[-1], post(client, "/v1/track", TRACK, key=initech.key)]

    limited, other = within_one_window(send)
    assert limited.status_code == 429
    assert other.status_code == 200, other.content


def test_under_the_limit_and_with_it_off_all_is_accepted(
    client: Client, acme: Tracked, settings: Any
) -> None:
    answers = [post(client, "/v1/track", TRACK, key=acme.key) for _ in range(LIMIT)]
    assert [a.status_code for a in answers] == [200] * LIMIT
    assert "Retry-After" not in answers[-1]
    settings.SWITCHYARD_INGEST_RATE_LIMIT = 0
    answers = [post(client, "/v1/track", TRACK, key=acme.key) for _ in range(LIMIT * 3)]
    assert {a.status_code for a in answers} == {200}


def test_unknown_keys_are_401_not_429(client: Client, acme: Tracked) -> None:
    answers = [post(client, "/v1/track", TRACK, key="nope") for _ in range(LIMIT + 2)]
    assert {a.status_code for a in answers} == {401}


def test_at_the_default_limit_a_process_asks_redis_once_per_lease(
    acme: Tracked, settings: Any
) -> None:
    from django.core.cache import cache

    from connections.dataplane.tracking import rate_limit

    settings.SWITCHYARD_INGEST_RATE_LIMIT = 1000
    # A window of its own, a minute ahead, so no other request shares its counter.
    now = float(int(time.time()) + 60)
    name = cache.make_key(f"ingest-rate:{acme.source.workspace_id}:{int(now)}")
    redis = cache._cache.get_client(name, write=True)  # type: ignore[attr-defined]
    try:
        answers = [rate_limit.check(acme.key, now=now) for _ in range(1001)]
        assert answers[:1000] == [None] * 1000  # exactly the limit is admitted
        refused = answers[1000]
        assert refused is not None and refused.limit == 1000
        # 50 leases of 20 admitted the 1,000; the 51st found none left: 51 round trips.
        assert int(redis.get(name)) == 51 * rate_limit.LEASE_MAX
    finally:
        # That window becomes the current one within a minute: leave it empty for
        # whichever test sends to this workspace then.
        redis.delete(name)
