"""The Profile API's routes and shapes (Segment's): traits, external_ids, metadata,
links; include, limit, verbose and cursor pagination; merged profiles answer as
their canonical; identifiers URL-decoded; the space as its id or slug."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from connections.models import Source
from engage.models import Profile, ProfileLink
from engage.services.identity_settings import seed_defaults
from engage.services.resolution import ResolverEvent, resolve_events
from tests.engage.profile_api_support import Opened, encoded, get, make_profile, open_space, path

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_rate_limit(settings: Any) -> None:
    # The rate limit has its own tests; a quick test client could pass 100/s.
    settings.SWITCHYARD_PROFILE_API_RATE_LIMIT = 0


@pytest.fixture
def opened(alice: User, make_workspace: Any) -> Opened:
    return open_space(alice, make_workspace(alice, "acme"))


@pytest.fixture
def bob_profile(opened: Opened) -> Profile:
    return make_profile(
        opened.space,
        [("user_id", "u1234"), ("anonymous_id", "a1234"), ("email", "bob@example.com")],
        traits={"first_name": "Bob", "emails_opened_last_30_days": 33},
    )


def test_traits(client: Client, opened: Opened, bob_profile: Profile) -> None:
    answer = get(client, path(opened.space, "user_id:u1234", "traits"), opened.token)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert answer["Request-Id"]
    assert "Access-Control-Allow-Origin" not in answer  # server-side only, as Segment's
    body = answer.json()
    assert body["traits"] == {"emails_opened_last_30_days": 33, "first_name": "Bob"}
    assert body["cursor"] == {
        "url": path(opened.space, bob_profile.segment_id, "traits"),
        "has_more": False,
        "next": "",
        "limit": 10,
    }


def test_traits_verbose(client: Client, opened: Opened, bob_profile: Profile) -> None:
    answer = get(
        client, path(opened.space, "anonymous_id:a1234", "traits"), opened.token, verbose="true"
    )
    traits = answer.json()["traits"]
    assert set(traits) == {"first_name", "emails_opened_last_30_days"}
    assert traits["first_name"] == {
        "value": "Bob",
        "source_id": None,
        "updated_at": bob_profile.trait_times["first_name"],
    }


def test_traits_include(client: Client, opened: Opened, bob_profile: Profile) -> None:
    url = path(opened.space, "user_id:u1234", "traits")
    body = get(client, url, opened.token, include="first_name,not_a_trait").json()
    assert body["traits"] == {"first_name": "Bob"}


def test_traits_default_ten_then_pages_by_cursor(client: Client, opened: Opened) -> None:
    traits = {f"trait_{n:02}": n for n in range(25)}
    profile = make_profile(opened.space, [("user_id", "many")], traits=traits)
    first = get(client, path(opened.space, "user_id:many", "traits"), opened.token).json()
    assert list(first["traits"]) == [f"trait_{n:02}" for n in range(10)]
    assert first["cursor"]["has_more"] is True
    assert first["cursor"]["next"] == "trait_10"
    assert first["cursor"]["url"] == (
        path(opened.space, profile.segment_id, "traits") + "?next=trait_10"
    )
    second = get(client, first["cursor"]["url"], opened.token).json()
    assert list(second["traits"]) == [f"trait_{n:02}" for n in range(10, 20)]
    third = get(client, second["cursor"]["url"], opened.token).json()
    assert list(third["traits"]) == [f"trait_{n:02}" for n in range(20, 25)]
    assert third["cursor"]["has_more"] is False
    assert third["cursor"]["next"] == ""


def test_traits_limit_up_to_200(client: Client, opened: Opened) -> None:
    make_profile(opened.space, [("user_id", "wide")], traits={f"t{n:03}": n for n in range(250)})
    url = path(opened.space, "user_id:wide", "traits")
    body = get(client, url, opened.token, limit="200").json()
    assert len(body["traits"]) == 200
    assert body["cursor"]["limit"] == 200
    assert "limit=200" in body["cursor"]["url"] and "next=t200" in body["cursor"]["url"]
    for bad in ("201", "0", "ten", "-1"):
        answer = get(client, url, opened.token, limit=bad)
        assert answer.status_code == 400
        assert answer.json() == {
            "error": {
                "code": "validation_error",
                "message": "The parameter `limit` must be an integer between 1 and 200",
            }
        }


def test_traits_class_audience_is_empty_until_audiences_exist(
    client: Client, opened: Opened, bob_profile: Profile
) -> None:
    url = path(opened.space, "user_id:u1234", "traits")
    assert get(client, url, opened.token, **{"class": "audience"}).json()["traits"] == {}
    assert get(client, url, opened.token, **{"class": "bogus"}).status_code == 400


def test_external_ids(client: Client, opened: Opened, bob_profile: Profile) -> None:
    source = Source.objects.create(workspace=opened.space.workspace, slug="web", display_name="W")
    bob_profile.identifiers.filter(type="user_id").update(source_id=source.pk)
    body = get(client, path(opened.space, "user_id:u1234", "external_ids"), opened.token).json()
    first = bob_profile.identifiers.get(type="user_id")
    assert body["data"][0] == {
        "source_id": "web",
        "collection": "users",
        "id": "u1234",
        "type": "user_id",
        "created_at": first.first_seen.isoformat().replace("+00:00", "Z"),
        "encoding": "none",
        "first_message_id": "msg-u1234",
    }
    assert [(d["type"], d["id"]) for d in body["data"]] == [
        ("user_id", "u1234"),
        ("anonymous_id", "a1234"),
        ("email", "bob@example.com"),
    ]
    assert body["cursor"]["has_more"] is False


def test_external_ids_include_limit_pages_and_verbose(
    client: Client, opened: Opened, bob_profile: Profile
) -> None:
    url = path(opened.space, "user_id:u1234", "external_ids")
    only = get(client, url, opened.token, include="user_id,anonymous_id").json()
    assert [d["type"] for d in only["data"]] == ["user_id", "anonymous_id"]
    first = get(client, url, opened.token, limit="2", verbose="true").json()
    assert [d["id"] for d in first["data"]] == ["u1234", "a1234"]
    assert first["data"][0]["last_seen_at"]
    assert first["cursor"]["has_more"] is True
    assert first["cursor"]["next"].startswith("map_")
    second = get(client, first["cursor"]["url"], opened.token).json()
    assert [d["id"] for d in second["data"]] == ["bob@example.com"]
    assert second["cursor"]["has_more"] is False
    assert "last_seen_at" in second["data"][0]  # verbose carried by the cursor's url
    assert get(client, url, opened.token, next="map_x").status_code == 400
    assert get(client, url, opened.token, limit="101").status_code == 400


def test_metadata(client: Client, opened: Opened) -> None:
    source = Source.objects.create(workspace=opened.space.workspace, slug="ios", display_name="i")
    created = timezone.now().replace(year=2020)
    profile = make_profile(
        opened.space,
        [("user_id", "meta")],
        create_time=created,
        first_message_id="m-first",
        first_source_id=source.pk,
        last_message_id="m-last",
        last_source_id=source.pk,
    )
    url = path(opened.space, "user_id:meta", "metadata")
    body = get(client, url, opened.token).json()
    assert body == {
        "metadata": {
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "updated_at": profile.update_time.isoformat().replace("+00:00", "Z"),
            "expires_at": None,
            "first_message_id": "m-first",
            "first_source_id": "ios",
            "last_message_id": "m-last",
            "last_source_id": "ios",
        }
    }
    verbose = get(client, url, opened.token, verbose="true").json()["metadata"]
    assert verbose["segment_id"] == profile.segment_id
    assert verbose["collection"] == "users"


def test_metadata_last_message_is_the_newest_event_resolved(client: Client, opened: Opened) -> None:
    """A track from a known user attaches without rewriting the profile's row;
    the metadata still names it as the last message, and its time as updated_at."""
    source = Source.objects.create(workspace=opened.space.workspace, slug="web", display_name="w")
    seed_defaults(opened.space)
    stamp = timezone.now()

    def event(kind: str, message_id: str, seconds: int, **fields: Any) -> ResolverEvent:
        return ResolverEvent(
            event_id=0,
            received_at=stamp + dt.timedelta(seconds=seconds),
            source_id=source.pk,
            message_id=message_id,
            type=kind,
            event_name=str(fields.get("event", "")),
            payload={"type": kind, "messageId": message_id, "userId": "meta2", **fields},
        )

    resolve_events(opened.space, [event("identify", "m-identify", 0, traits={"plan": "pro"})])
    resolve_events(opened.space, [event("track", "m-track", 5, event="Viewed")])

    row = Profile.objects.get(space=opened.space, canonical=None)
    assert row.last_message_id == "m-identify"  # the row was not rewritten
    body = get(client, path(opened.space, "user_id:meta2", "metadata"), opened.token).json()
    assert body["metadata"]["last_message_id"] == "m-track"
    assert body["metadata"]["last_source_id"] == "web"
    assert body["metadata"]["first_message_id"] == "m-identify"
    later = (stamp + dt.timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
    assert body["metadata"]["updated_at"] == later


def test_links_of_a_user_and_of_an_account(
    client: Client, opened: Opened, bob_profile: Profile
) -> None:
    now = timezone.now()
    accounts = [
        make_profile(opened.space, [("group_id", f"G{n}")], collection="accounts") for n in range(3)
    ]
    for account in accounts:
        ProfileLink.objects.create(
            space=opened.space, user=bob_profile, account=account, create_time=now
        )
    url = path(opened.space, "user_id:u1234", "links")
    body = get(client, url, opened.token).json()
    assert [d["to_collection"] for d in body["data"]] == ["accounts"] * 3
    assert body["data"][0]["external_ids"] == [
        {
            "source_id": None,
            "collection": "accounts",
            "id": "G0",
            "type": "group_id",
            "created_at": accounts[0]
            .identifiers.get()
            .first_seen.isoformat()
            .replace("+00:00", "Z"),
            "encoding": "none",
        }
    ]
    first = get(client, url, opened.token, limit="2").json()
    assert [d["external_ids"][0]["id"] for d in first["data"]] == ["G0", "G1"]
    second = get(client, first["cursor"]["url"], opened.token).json()
    assert [d["external_ids"][0]["id"] for d in second["data"]] == ["G2"]
    account_url = path(opened.space, "group_id:G1", "links", collection="accounts")
    users = get(client, account_url, opened.token).json()["data"]
    assert users == [
        {"to_collection": "users", "external_ids": users[0]["external_ids"]},
    ]
    assert {e["id"] for e in users[0]["external_ids"]} == {"u1234", "a1234", "bob@example.com"}


def test_account_traits_by_group_id(client: Client, opened: Opened) -> None:
    make_profile(
        opened.space, [("group_id", "12345")], collection="accounts", traits={"plan": "enterprise"}
    )
    url = path(opened.space, "group_id:12345", "traits", collection="accounts")
    assert get(client, url, opened.token).json()["traits"] == {"plan": "enterprise"}
    # Collections keep apart: the same identifier is no user.
    assert (
        get(client, path(opened.space, "group_id:12345", "traits"), opened.token).status_code == 404
    )


def test_a_merged_profile_answers_as_its_canonical(client: Client, opened: Opened) -> None:
    survivor = make_profile(opened.space, [("user_id", "kept")], traits={"name": "Kept"})
    middle = make_profile(opened.space, [("anonymous_id", "anon-1")], canonical=survivor)
    # A chain (merged into a profile that was merged in turn) ends at the survivor too.
    make_profile(opened.space, [("anonymous_id", "anon-2")], canonical=middle)
    for identifier in ("anonymous_id:anon-1", "anonymous_id:anon-2", middle.segment_id):
        body = get(client, path(opened.space, identifier, "traits"), opened.token).json()
        assert body["traits"] == {"name": "Kept"}
        assert survivor.segment_id in body["cursor"]["url"]
    ids = get(client, path(opened.space, "user_id:kept", "external_ids"), opened.token).json()
    # Identifiers left on the merged rows count for the survivor.
    assert {d["id"] for d in ids["data"]} == {"kept", "anon-1", "anon-2"}


def test_identifiers_are_url_decoded(client: Client, opened: Opened) -> None:
    make_profile(opened.space, [("phone_number", "+5555550123")], traits={"a": 1})
    make_profile(opened.space, [("email", "x+y@example.com")], traits={"b": 2})
    make_profile(opened.space, [("custom_id", "a/b c:d")], traits={"c": 3})
    answer = get(client, path(opened.space, "phone_number:%2B5555550123", "traits"), opened.token)
    assert answer.json()["traits"] == {"a": 1}
    answer = get(
        client, path(opened.space, encoded("email", "x+y@example.com"), "traits"), opened.token
    )
    assert answer.json()["traits"] == {"b": 2}
    answer = get(
        client, path(opened.space, encoded("custom_id", "a/b c:d"), "traits"), opened.token
    )
    assert answer.json()["traits"] == {"c": 3}


def test_the_space_by_its_slug(client: Client, opened: Opened, bob_profile: Profile) -> None:
    answer = get(client, path("prod", "user_id:u1234", "traits"), opened.token)
    assert answer.status_code == 200
    assert answer.json()["traits"]["first_name"] == "Bob"


def test_unknown_profile_is_404(client: Client, opened: Opened, bob_profile: Profile) -> None:
    for identifier in ("user_id:nobody", "email:u1234", "use_nobody"):
        answer = get(client, path(opened.space, identifier, "traits"), opened.token)
        assert answer.status_code == 404
        assert answer.json() == {
            "error": {"code": "not_found", "message": "Profile was not found."}
        }
        assert answer["Request-Id"]


def test_every_answer_has_its_own_request_id(
    client: Client, opened: Opened, bob_profile: Profile
) -> None:
    url = path(opened.space, "user_id:u1234", "metadata")
    ids = {get(client, url, opened.token)["Request-Id"] for _ in range(3)}
    ids.add(get(client, url, None)["Request-Id"])
    ids.add(get(client, path(opened.space, "user_id:u1234", "nothing"), opened.token)["Request-Id"])
    assert len(ids) == 5
