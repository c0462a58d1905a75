"""Failed on ingest: what the Tracking API refuses is counted against the source of
its write key, by reason, beside the other ingest counters; the delivery overview,
the ingest-failures selector and its API read them."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from connections import selectors
from connections.models import PipelineCount
from connections.services.destinations import do_create_destination
from switchyard.access import Principal
from tests.connections.tracking_support import Tracked, counts, make_source, post

pytestmark = pytest.mark.django_db

TRACK = {"userId": "u-1", "event": "Signed Up"}


@pytest.fixture
def tracked(alice: User) -> Tracked:
    return make_source(alice)


def failures(tracked: Tracked) -> dict[str, int]:
    return {r: n for (o, r), n in counts(tracked.source).items() if o == "failed"}


@pytest.mark.parametrize(
    ("path", "body", "extra", "reason"),
    [
        ("/v1/track", None, {"raw": b"{not json"}, "invalid_json"),
        ("/v1/track", None, {"raw": b""}, "invalid_json"),
        ("/v1/track", None, {"raw": b'{"x": "' + b"a" * 40_000 + b'"}'}, "too_large"),
        (
            "/v1/track",
            None,
            {"raw": b"garbage", "HTTP_CONTENT_ENCODING": "gzip"},
            "invalid_encoding",
        ),
        ("/v1/track", {"event": "Signed Up"}, {}, "missing_user_id"),
        ("/v1/track", {"userId": "u-1"}, {}, "missing_field"),
        ("/v1/track", {**TRACK, "timestamp": "yesterday"}, {}, "invalid_timestamp"),
        (
            "/v1/track",
            None,
            {"raw": b'{"userId": "u", "event": "e", "properties": {"n": 99999999999999999999999}}'},
            "invalid_value",
        ),
        ("/v1/track", {**TRACK, "properties": "x"}, {}, "invalid_field"),
        ("/v1/batch", {"batch": [{**TRACK, "type": "purchase"}]}, {}, "invalid_type"),
    ],
)
def test_each_refusal_is_counted_with_its_reason(
    client: Client, tracked: Tracked, path: str, body: Any, extra: dict[str, Any], reason: str
) -> None:
    response = post(client, path, body, key=tracked.key, **extra)
    assert response.status_code in (400, 413), response.content
    assert failures(tracked) == {reason: 1}
    assert ("accepted", "track") not in counts(tracked.source)


def test_a_refused_batch_counts_all_its_messages(client: Client, tracked: Tracked) -> None:
    batch = [
        {**TRACK, "type": "track"},
        {"type": "track", "event": "x"},
        {**TRACK, "type": "track"},
    ]
    response = post(client, "/v1/batch", {"batch": batch}, key=tracked.key)
    assert response.status_code == 400
    assert "batch[1]" in response.json()["error"]
    assert failures(tracked) == {"missing_user_id": 3}


def test_the_key_in_the_body_counts_too(client: Client, tracked: Tracked) -> None:
    response = post(client, "/v1/track", {"event": "x", "writeKey": tracked.key})
    assert response.status_code == 400
    assert failures(tracked) == {"missing_user_id": 1}


def test_unknown_keys_are_401_and_count_nothing(client: Client, tracked: Tracked) -> None:
    assert post(client, "/v1/track", None, key="nope", raw=b"{bad").status_code == 401
    assert post(client, "/v1/track", {"event": "x"}, key="nope").status_code == 401
    assert post(client, "/v1/track", {"event": "x"}).status_code == 401  # no key at all
    assert not PipelineCount.objects.filter(outcome="failed").exists()


def test_a_gzip_body_too_large_once_inflated(client: Client, tracked: Tracked) -> None:
    raw = gzip.compress(b'{"userId": "u", "event": "e", "p": "' + b"a" * 60_000 + b'"}')
    response = post(
        client, "/v1/track", None, key=tracked.key, raw=raw, HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code in (400, 413)
    assert failures(tracked) == {"too_large": 1}


def test_selector_api_and_delivery_overview_show_the_failures(
    client: Client, api: APIClient, alice: User, tracked: Tracked
) -> None:
    post(client, "/v1/track", {"event": "x"}, key=tracked.key)
    post(client, "/v1/track", {"event": "x"}, key=tracked.key)
    post(client, "/v1/track", None, key=tracked.key, raw=b"{bad")
    post(client, "/v1/track", TRACK, key=tracked.key)

    found = selectors.ingest_failures(tracked.source, "24h")
    assert found["failed"] == 3
    assert [(r["reason"], r["count"]) for r in found["reasons"]] == [
        ("missing_user_id", 2),
        ("invalid_json", 1),
    ]
    assert found["reasons"][0]["label"] == "Missing userId or anonymousId"

    url = f"/v1beta/workspaces/acme/sources/{tracked.source.slug}/ingest-failures"
    response = api.get(url, {"window": "1h"})
    assert response.status_code == 200, response.json()
    assert response.json()["failed"] == 3
    assert api.get(url, {"window": "2d"}).status_code == 400

    destination = do_create_destination(
        principal=Principal(alice),
        source=tracked.source,
        definition="actions-equals",
        settings={"url": "https://equals.example/in"},
    )
    overview = selectors.delivery_overview(destination, "24h")
    steps = {s["key"]: s for s in overview["steps"]}
    assert steps["failed_on_ingest"]["count"] == 3
    assert steps["received"]["count"] == 1
    labels = {r["label"] for r in steps["failed_on_ingest"]["reasons"]}
    assert "Missing userId or anonymousId" in labels
