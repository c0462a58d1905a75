"""``context.ip``: filled from the client's address when a message (and its batch)
carries none, as Segment's Tracking API does; X-Forwarded-For counts only behind
trusted proxies (switchyard.client_address, shared with the sign-in lockout)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory, override_settings

from switchyard.client_address import client_address
from tests.connections.tracking_support import Tracked, events, make_source, post

pytestmark = pytest.mark.django_db

TRACK = {"userId": "u-1", "event": "Signed Up"}


@pytest.fixture
def tracked(alice: User) -> Tracked:
    return make_source(alice)


def stored_context(tracked: Tracked) -> list[Any]:
    return [e.payload.get("context") for e in events(tracked.source)]


def test_a_message_without_ip_gets_the_client_address(client: Client, tracked: Tracked) -> None:
    post(client, "/v1/track", TRACK, key=tracked.key, REMOTE_ADDR="203.0.113.9")
    post(
        client,
        "/v1/track",
        {**TRACK, "context": {"locale": "fr-FR"}},
        key=tracked.key,
        REMOTE_ADDR="203.0.113.9",
    )
    assert stored_context(tracked) == [
        {"ip": "203.0.113.9"},
        {"locale": "fr-FR", "ip": "203.0.113.9"},
    ]


def test_an_ip_the_message_or_its_batch_sends_is_kept(client: Client, tracked: Tracked) -> None:
    body = {
        "context": {"ip": "198.51.100.1"},
        "batch": [
            {**TRACK, "type": "track"},
            {**TRACK, "type": "track", "context": {"ip": "198.51.100.2"}},
            {**TRACK, "type": "track", "context": {"page": {"path": "/"}}},
        ],
    }
    response = post(client, "/v1/batch", body, key=tracked.key, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200, response.content
    assert [c["ip"] for c in stored_context(tracked)] == [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.1",
    ]


def test_each_batch_message_gets_its_own_context(client: Client, tracked: Tracked) -> None:
    body = {"batch": [{**TRACK, "type": "track"}, {**TRACK, "type": "track"}]}
    post(client, "/v1/batch", body, key=tracked.key, REMOTE_ADDR="203.0.113.9")
    assert stored_context(tracked) == [{"ip": "203.0.113.9"}, {"ip": "203.0.113.9"}]


def test_forwarded_for_is_ignored_unless_the_proxies_are_trusted(
    client: Client, tracked: Tracked
) -> None:
    forwarded = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.7"}
    post(client, "/v1/track", TRACK, key=tracked.key, **forwarded)
    with override_settings(SWITCHYARD_TRUSTED_PROXY_COUNT=1):
        post(client, "/v1/track", TRACK, key=tracked.key, **forwarded)
    with override_settings(SWITCHYARD_TRUSTED_PROXIES=["10.0.0.0/8"]):
        post(client, "/v1/track", TRACK, key=tracked.key, **forwarded)
    assert [c["ip"] for c in stored_context(tracked)] == [
        "10.0.0.2",
        "198.51.100.7",
        "198.51.100.7",
    ]


def test_ipv6_clients_are_not_filled_in_as_segment_does(client: Client, tracked: Tracked) -> None:
    """ "Segment doesn't support automatically collecting IPv6 addresses" (the Spec's
    common fields); an IPv4-mapped address is IPv4."""
    post(client, "/v1/track", TRACK, key=tracked.key, REMOTE_ADDR="2001:db8::1")
    post(client, "/v1/track", TRACK, key=tracked.key, REMOTE_ADDR="::ffff:192.0.2.4")
    assert stored_context(tracked) == [None, {"ip": "192.0.2.4"}]


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.1", "198.51.100.7"),  # two proxies
        ("203.0.113.5", "6.6.6.6", "203.0.113.5"),  # not from a proxy: its XFF is a claim
        ("10.0.0.2", "", "10.0.0.2"),  # a proxy sending for itself
        ("10.0.0.2", "10.0.0.9, 10.0.0.1", "10.0.0.9"),  # all proxies: the leftmost
        ("10.0.0.2", "198.51.100.7, nonsense", "10.0.0.2"),  # a hop no proxy wrote
    ],
)
def test_trusted_proxy_networks(remote: str, forwarded: str, expected: str) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(
        SWITCHYARD_TRUSTED_PROXIES=["10.0.0.0/8"], SWITCHYARD_TRUSTED_PROXY_COUNT=5
    ):
        assert client_address(request) == expected
