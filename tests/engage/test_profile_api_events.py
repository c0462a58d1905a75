"""GET .../events: the profile's events read back from the event store they refer
to (sent here through the real Tracking API), 14 days back, newest first or
``sort=asc``, ``include``/``exclude`` by name, ``start``/``end``, cursor pages;
the events of profiles merged into it count; an event erased from the store is
left out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from connections.models import Event
from engage.models import Profile, ProfileEvent
from tests.connections.tracking_support import Tracked, events, make_source, post
from tests.engage.profile_api_support import Opened, get, make_profile, open_space, path

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def no_rate_limit(settings: Any) -> None:
    settings.SWITCHYARD_PROFILE_API_RATE_LIMIT = 0


@pytest.fixture
def tracked(alice: User) -> Tracked:
    return make_source(alice, "acme")


@pytest.fixture
def opened(alice: User, tracked: Tracked) -> Opened:
    return open_space(alice, tracked.source.workspace)


def stamp(days_ago: float) -> str:
    return (NOW - dt.timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")


def attach(profile: Profile, tracked: Tracked, *messages: dict[str, Any]) -> list[Event]:
    """Send the messages through the Tracking API and attach the stored events to the
    profile, as the resolver does (references, not copies)."""
    before = {e.pk for e in events(tracked.source)}
    answer = post(Client(), "/v1/batch", {"batch": list(messages)}, key=tracked.key)
    assert answer.status_code == 200, answer.content
    stored = [e for e in events(tracked.source) if e.pk not in before]
    for event in stored:
        ProfileEvent.objects.create(
            space=profile.space,
            profile=profile,
            source_id=event.source_id,
            message_id=event.message_id,
            event_id=event.pk,
            received_at=event.received_at,
            type=event.type,
            event_name=event.event_name,
            timestamp=event.timestamp,
        )
    return stored


def track(name: str, days_ago: float, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": "u1",
        "anonymousId": "a1",
        "event": name,
        "properties": properties,
        "timestamp": stamp(days_ago),
        "context": {"ip": "73.92.233.78", "externalIds": [{"id": "x-9", "type": "crm_id"}]},
    }


@pytest.fixture
def profile(opened: Opened) -> Profile:
    return make_profile(opened.space, [("user_id", "u1")])


def names(body: dict[str, Any]) -> list[str]:
    return [d.get("event") or d.get("name") or d["type"] for d in body["data"]]


def test_event_shape(client: Client, opened: Opened, tracked: Tracked, profile: Profile) -> None:
    (stored,) = attach(profile, tracked, track("Page Viewed", 1, path="/docs"))
    body = get(client, path(opened.space, "user_id:u1", "events"), opened.token).json()
    assert body["data"] == [
        {
            "external_ids": [
                {"collection": "users", "type": "user_id", "id": "u1", "encoding": "none"},
                {"collection": "users", "type": "anonymous_id", "id": "a1", "encoding": "none"},
                {"collection": "users", "type": "crm_id", "id": "x-9", "encoding": "none"},
            ],
            "context": stored.payload["context"],
            "type": "track",
            "message_id": stored.message_id,
            "source_id": tracked.source.slug,
            "timestamp": stored.payload["timestamp"],
            "event": "Page Viewed",
            "properties": {"path": "/docs"},
            "related": {"users": profile.segment_id},
        }
    ]
    assert body["cursor"]["has_more"] is False


def test_other_types(client: Client, opened: Opened, tracked: Tracked, profile: Profile) -> None:
    attach(
        profile,
        tracked,
        {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}, "timestamp": stamp(3)},
        {"type": "page", "userId": "u1", "name": "Home", "properties": {}, "timestamp": stamp(2)},
        {"type": "group", "userId": "u1", "groupId": "g1", "traits": {}, "timestamp": stamp(1)},
    )
    body = get(client, path(opened.space, "user_id:u1", "events"), opened.token).json()
    group, page, identify = body["data"]
    assert group["group_id"] == "g1"
    assert {"collection": "accounts", "type": "group_id", "id": "g1", "encoding": "none"} in group[
        "external_ids"
    ]
    assert page["name"] == "Home"
    assert identify["traits"] == {"plan": "pro"}


def test_newest_first_or_ascending_and_14_days_back(
    client: Client, opened: Opened, tracked: Tracked, profile: Profile
) -> None:
    attach(profile, tracked, track("Old", 20), track("A", 3), track("B", 2), track("C", 1))
    url = path(opened.space, "user_id:u1", "events")
    assert names(get(client, url, opened.token).json()) == ["C", "B", "A"]
    assert names(get(client, url, opened.token, sort="asc").json()) == ["A", "B", "C"]
    # Asking for more than 14 days gets 14 days.
    early = get(client, url, opened.token, start=stamp(30)).json()
    assert names(early) == ["C", "B", "A"]


def test_start_end_include_exclude(
    client: Client, opened: Opened, tracked: Tracked, profile: Profile
) -> None:
    attach(profile, tracked, track("A", 4), track("B", 3), track("A", 2), track("C", 1))
    url = path(opened.space, "user_id:u1", "events")
    window = get(client, url, opened.token, start=stamp(3.5), end=stamp(1.5)).json()
    assert names(window) == ["A", "B"]
    assert names(get(client, url, opened.token, include="A,C").json()) == ["C", "A", "A"]
    assert names(get(client, url, opened.token, exclude="A").json()) == ["C", "B"]


def test_pages_by_cursor_in_both_orders(
    client: Client, opened: Opened, tracked: Tracked, profile: Profile
) -> None:
    # E3 and Tie happened at the same instant (later stored, later in ascending
    # order): a page ends between them, and the cursor tells them apart.
    attach(profile, tracked, *(track(f"E{n}", 5 - n) for n in range(5)), track("Tie", 2))
    url = path(opened.space, "user_id:u1", "events")
    for sort, expected in (
        ("desc", ["E4", "Tie", "E3", "E2", "E1", "E0"]),
        ("asc", ["E0", "E1", "E2", "E3", "Tie", "E4"]),
    ):
        pages: list[list[str]] = []
        body = get(client, url, opened.token, sort=sort, limit="2").json()
        while True:
            pages.append(names(body))
            assert body["cursor"]["limit"] == 2
            if not body["cursor"]["has_more"]:
                break
            body = get(client, body["cursor"]["url"], opened.token).json()
        assert pages == [expected[0:2], expected[2:4], expected[4:6]]
        assert body["cursor"] == {
            "url": path(opened.space, profile.segment_id, "events") + f"?sort={sort}&limit=2",
            "has_more": False,
            "next": "",
            "limit": 2,
        }


def test_events_of_merged_profiles_count(
    client: Client, opened: Opened, tracked: Tracked, profile: Profile
) -> None:
    merged = make_profile(opened.space, [("anonymous_id", "a1")], canonical=profile)
    attach(merged, tracked, track("Before Merge", 2))
    attach(profile, tracked, track("After Merge", 1))
    for identifier in ("user_id:u1", "anonymous_id:a1"):
        body = get(client, path(opened.space, identifier, "events"), opened.token).json()
        assert names(body) == ["After Merge", "Before Merge"]
        assert {d["related"]["users"] for d in body["data"]} == {profile.segment_id}


def test_an_event_gone_from_the_store_is_left_out(
    client: Client, opened: Opened, tracked: Tracked, profile: Profile
) -> None:
    gone, _kept = attach(profile, tracked, track("Erased", 2), track("Kept", 1))
    Event.objects.filter(pk=gone.pk, received_at=gone.received_at).delete()
    body = get(client, path(opened.space, "user_id:u1", "events"), opened.token).json()
    assert names(body) == ["Kept"]
