"""Sources, write keys, destinations, subscriptions and filters through the REST API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from connections.models import Destination, DestinationFilter, Subscription, WriteKey
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import AuditEntry, Membership, Workspace
from workspace.services.grants import do_create_grant

pytestmark = pytest.mark.django_db

SOURCES = "/v1beta/workspaces/acme/sources"
SOURCE = f"{SOURCES}/web"
DESTINATIONS = f"{SOURCE}/destinations"
EQUALS = {"definition": "actions-equals", "settings": {"url": "https://equals.example/in"}}


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    do_create_source(
        principal=Principal(alice),
        workspace=workspace,
        slug="web",
        display_name="Website",
        source_type="javascript",
    )
    return workspace


@pytest.fixture
def equals(api: APIClient, acme: Workspace) -> str:
    response = api.post(DESTINATIONS, {"destination": EQUALS}, format="json")
    assert response.status_code == 200, response.json()
    return f"{DESTINATIONS}/{response.json()['id']}"


def member_with(acme: Workspace, alice: User, make_user: Callable[..., User], role: str) -> User:
    user = make_user(role)
    Membership.objects.create(workspace=acme, user=user)
    do_create_grant(
        principal=Principal(alice), workspace=acme, grantee=user, role=role, scope="all"
    )
    return user


# -- sources and write keys ---------------------------------------------------------------


def test_source_has_a_type_and_a_write_key_from_birth(api: APIClient, acme: Workspace) -> None:
    body = {
        "source": {
            "name": "workspaces/acme/sources/py",
            "display_name": "Backend",
            "source_type": "python",
        }
    }
    created = api.post(SOURCES, body, format="json").json()
    assert created["source_type"] == "python"
    assert created["enabled"] is True
    keys = api.get(f"{SOURCES}/py/write-keys").json()["write_keys"]
    assert len(keys) == 1
    assert keys[0]["write_key"] == WriteKey.objects.get(source__slug="py").secret


def test_unknown_source_type_is_refused_and_nothing_created(
    api: APIClient, acme: Workspace
) -> None:
    body = {
        "source": {
            "name": "workspaces/acme/sources/x",
            "display_name": "X",
            "source_type": "fortran",
        }
    }
    response = api.post(SOURCES, body, format="json")
    assert response.status_code == 400
    assert "unknown source type 'fortran'" in response.json()["error"]
    assert not acme.sources.filter(slug="x").exists()


def test_source_type_is_immutable(api: APIClient, acme: Workspace) -> None:
    response = api.patch(
        SOURCE,
        {"source": {"source_type": "python"}, "update_mask": {"paths": ["source.source_type"]}},
        format="json",
    )
    assert response.status_code == 400
    assert acme.sources.get(slug="web").source_type == "javascript"


def test_source_can_be_disabled(api: APIClient, acme: Workspace) -> None:
    response = api.patch(
        SOURCE,
        {"source": {"enabled": False}, "update_mask": {"paths": ["source.enabled"]}},
        format="json",
    )
    assert response.json()["enabled"] is False
    assert acme.sources.get(slug="web").enabled is False


def test_write_keys_create_and_revoke(api: APIClient, acme: Workspace) -> None:
    created = api.post(
        f"{SOURCE}/write-keys", {"write_key": {"description": "rotation"}}, format="json"
    ).json()
    assert len(created["write_key"]) == 32
    revoked = api.delete(f"{SOURCE}/write-keys/{created['id']}")
    assert revoked.status_code == 200
    key = WriteKey.objects.get(key_id=created["id"])
    assert key.revoke_time is not None
    listed = {k["id"]: k for k in api.get(f"{SOURCE}/write-keys").json()["write_keys"]}
    assert listed[created["id"]]["revoked"] is True
    again = api.delete(f"{SOURCE}/write-keys/{created['id']}")
    assert again.status_code == 400
    assert "already revoked" in again.json()["error"]
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"write_key.created", "write_key.revoked"} <= actions


def test_write_keys_are_masked_for_read_only_members(
    acme: Workspace,
    alice: User,
    make_user: Callable[..., User],
    token_client: Callable[..., APIClient],
) -> None:
    reader = token_client(member_with(acme, alice, make_user, "source-read-only"))
    key = reader.get(f"{SOURCE}/write-keys").json()["write_keys"][0]["write_key"]
    secret = WriteKey.objects.get(source__slug="web").secret
    assert key != secret
    assert key.startswith(secret[:4]) and key.endswith(secret[-4:]) and "•" in key
    response = reader.post(f"{SOURCE}/write-keys", {"write_key": {}}, format="json")
    assert response.status_code == 403


def test_at_most_ten_active_write_keys(api: APIClient, acme: Workspace) -> None:
    for _ in range(9):
        assert api.post(f"{SOURCE}/write-keys", {"write_key": {}}, format="json").status_code == 200
    response = api.post(f"{SOURCE}/write-keys", {"write_key": {}}, format="json")
    assert response.status_code == 400
    assert "at most 10 active write keys" in response.json()["error"]


# -- destinations ---------------------------------------------------------------------------


def test_create_destination_disabled_with_settings(api: APIClient, equals: str) -> None:
    body = api.get(equals).json()
    assert body["definition"] == "actions-equals"
    assert body["enabled"] is False
    assert body["settings"] == {"url": "https://equals.example/in"}
    assert body["name"] == f"workspaces/acme/sources/web/destinations/{body['id']}"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "Equals URL"),
        ({"url": 5}, "url"),
        ({"url": "https://x", "colour": "red"}, "colour"),
        ("not an object", "settings"),
    ],
)
def test_destination_settings_are_checked_against_the_schema(
    api: APIClient, acme: Workspace, settings: object, message: str
) -> None:
    body = {"destination": {"definition": "actions-equals", "settings": settings}}
    response = api.post(DESTINATIONS, body, format="json")
    assert response.status_code == 400, response.json()
    assert message in response.json()["error"]
    assert not Destination.objects.exists()


def test_unknown_definition_is_refused(api: APIClient, acme: Workspace) -> None:
    response = api.post(DESTINATIONS, {"destination": {"definition": "nope"}}, format="json")
    assert response.status_code == 400
    assert "unknown destination definition 'nope'" in response.json()["error"]


def test_presets_become_enabled_mappings(api: APIClient, acme: Workspace) -> None:
    body = {"destination": {**EQUALS, "presets": True}}
    created = api.post(DESTINATIONS, body, format="json").json()
    subscriptions = api.get(f"{DESTINATIONS}/{created['id']}/subscriptions").json()
    assert [s["display_name"] for s in subscriptions["subscriptions"]] == ["Send"]
    assert subscriptions["subscriptions"][0]["enabled"] is True
    assert subscriptions["subscriptions"][0]["mapping"] == {"data": {"@path": "$."}}


def test_secret_settings_are_write_only(api: APIClient, acme: Workspace) -> None:
    body = {"destination": {"definition": "userengage", "settings": {"api_key": "s3cr3t"}}}
    created = api.post(DESTINATIONS, body, format="json")
    assert created.status_code == 200, created.json()
    assert "api_key" not in created.json()["settings"]
    url = f"{DESTINATIONS}/{created.json()['id']}"
    patched = api.patch(
        url,
        {
            "destination": {"display_name": "UE"},
            "update_mask": {"paths": ["destination.display_name"]},
        },
        format="json",
    )
    assert patched.status_code == 200
    assert "s3cr3t" not in patched.content.decode()
    assert Destination.objects.get().settings["api_key"] == "s3cr3t"
    entry = AuditEntry.objects.filter(action="destination.created").get()
    assert "s3cr3t" not in str(entry.after)


def test_patch_settings_keeps_omitted_secrets(api: APIClient, acme: Workspace) -> None:
    body = {"destination": {"definition": "userengage", "settings": {"api_key": "s3cr3t"}}}
    url = f"{DESTINATIONS}/{api.post(DESTINATIONS, body, format='json').json()['id']}"
    response = api.patch(
        url,
        {"destination": {"enabled": True}, "update_mask": {"paths": ["destination.enabled"]}},
        format="json",
    )
    assert response.json()["enabled"] is True
    assert Destination.objects.get().settings["api_key"] == "s3cr3t"


def test_definition_cannot_change(api: APIClient, equals: str) -> None:
    response = api.patch(
        equals,
        {
            "destination": {"definition": "actions-webhook"},
            "update_mask": {"paths": ["destination.definition"]},
        },
        format="json",
    )
    assert response.status_code == 400
    assert Destination.objects.get().definition == "actions-equals"


def test_deleting_a_source_disconnects_its_destinations(
    api: APIClient, equals: str, acme: Workspace
) -> None:
    assert api.delete(SOURCE).status_code == 200
    assert not Destination.objects.exists()
    assert AuditEntry.objects.filter(action="destination.deleted").count() == 1


def test_read_only_member_sees_destinations_but_cannot_add(
    acme: Workspace,
    alice: User,
    make_user: Callable[..., User],
    token_client: Callable[..., APIClient],
    equals: str,
) -> None:
    reader = token_client(member_with(acme, alice, make_user, "source-read-only"))
    assert len(reader.get(DESTINATIONS).json()["destinations"]) == 1
    assert reader.post(DESTINATIONS, {"destination": EQUALS}, format="json").status_code == 403
    assert reader.delete(equals).status_code == 403
    assert Destination.objects.count() == 1


def test_member_without_access_gets_not_found(
    acme: Workspace,
    make_user: Callable[..., User],
    token_client: Callable[..., APIClient],
    equals: str,
) -> None:
    stranger = make_user("stranger")
    Membership.objects.create(workspace=acme, user=stranger)
    client = token_client(stranger)
    assert client.get(DESTINATIONS).status_code == 404
    assert client.get(f"{equals}/subscriptions").status_code == 404


# -- subscriptions --------------------------------------------------------------------------


def test_subscription_defaults_to_the_action_and_starts_disabled(
    api: APIClient, equals: str
) -> None:
    response = api.post(
        f"{equals}/subscriptions", {"subscription": {"action": "send"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["enabled"] is False
    assert body["mapping"] == {"data": {"@path": "$."}}
    assert "type = " in body["trigger"]
    assert AuditEntry.objects.filter(action="subscription.created").exists()


def test_invalid_trigger_says_where_and_saves_nothing(api: APIClient, equals: str) -> None:
    response = api.post(
        f"{equals}/subscriptions",
        {"subscription": {"action": "send", "trigger": "type = 'track' and"}},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "trigger" in error and "position 18" in error
    assert not Subscription.objects.exists()


def test_invalid_mapping_names_the_field(api: APIClient, equals: str) -> None:
    response = api.post(
        f"{equals}/subscriptions",
        {"subscription": {"action": "send", "mapping": {"data": {"@path": 5}}}},
        format="json",
    )
    assert response.status_code == 400
    assert "data" in response.json()["error"]
    missing = api.post(
        f"{equals}/subscriptions",
        {"subscription": {"action": "send", "mapping": {}}},
        format="json",
    )
    assert missing.status_code == 400
    assert "data" in missing.json()["error"]
    assert not Subscription.objects.exists()


def test_unknown_action_is_refused(api: APIClient, equals: str) -> None:
    response = api.post(
        f"{equals}/subscriptions", {"subscription": {"action": "teleport"}}, format="json"
    )
    assert response.status_code == 400
    assert "unknown action 'teleport'" in response.json()["error"]


def test_fifty_first_subscription_is_refused(api: APIClient, equals: str) -> None:
    destination = Destination.objects.get()
    Subscription.objects.bulk_create(
        Subscription(
            destination=destination,
            key_id=f"sub_{i}",
            name=f"m{i}",
            action="send",
            trigger="type = 'track'",
            mapping={"data": {"@path": "$."}},
            position=i,
        )
        for i in range(50)
    )
    response = api.post(
        f"{equals}/subscriptions", {"subscription": {"action": "send"}}, format="json"
    )
    assert response.status_code == 400
    assert "at most 50 mappings" in response.json()["error"]
    assert Subscription.objects.count() == 50


def test_update_subscription_trigger_and_enable(api: APIClient, equals: str) -> None:
    created = api.post(
        f"{equals}/subscriptions", {"subscription": {"action": "send"}}, format="json"
    ).json()
    url = f"{equals}/subscriptions/{created['id']}"
    response = api.patch(
        url,
        {
            "subscription": {"trigger": "event = 'Signed Up'", "enabled": True},
            "update_mask": {"paths": ["subscription.trigger", "subscription.enabled"]},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    stored = Subscription.objects.get()
    assert (stored.trigger, stored.enabled) == ("event = 'Signed Up'", True)
    bad = api.patch(
        url,
        {
            "subscription": {"trigger": "event = "},
            "update_mask": {"paths": ["subscription.trigger"]},
        },
        format="json",
    )
    assert bad.status_code == 400
    assert Subscription.objects.get().trigger == "event = 'Signed Up'"
    assert api.delete(url).status_code == 200
    assert not Subscription.objects.exists()


def test_subscriptions_list_in_position_order(api: APIClient, equals: str) -> None:
    for name in ("first", "second", "third"):
        api.post(
            f"{equals}/subscriptions",
            {"subscription": {"action": "send", "display_name": name}},
            format="json",
        )
    page = api.get(f"{equals}/subscriptions?page_size=2").json()
    rest = api.get(f"{equals}/subscriptions?page_token={page['next_page_token']}").json()
    names = [s["display_name"] for s in page["subscriptions"] + rest["subscriptions"]]
    assert names == ["first", "second", "third"]


# -- filters --------------------------------------------------------------------------------

DROP_NO_USER = {
    "title": "Only send events with userId",
    "if": "length( userId ) < 1",
    "actions": [{"type": "DROP"}],
    "enabled": True,
}


def test_a_new_filter_starts_disabled_like_a_new_mapping(api: APIClient, equals: str) -> None:
    # Segment: an action "is disabled by default, to ensure that it's only used after
    # being fully configured"; a filter starts the same way.
    body = {key: value for key, value in DROP_NO_USER.items() if key != "enabled"}
    created = api.post(f"{equals}/filters", {"filter": body}, format="json").json()
    assert created["enabled"] is False
    action = {"action": "send", "name": "Send"}
    mapping = api.post(f"{equals}/subscriptions", {"subscription": action}, format="json").json()
    assert mapping["enabled"] is False


def test_filter_create_update_delete(api: APIClient, equals: str) -> None:
    created = api.post(f"{equals}/filters", {"filter": DROP_NO_USER}, format="json")
    assert created.status_code == 200, created.json()
    assert created.json()["if"] == "length( userId ) < 1"
    assert created.json()["enabled"] is True
    url = f"{equals}/filters/{created.json()['id']}"
    patched = api.patch(
        url,
        {"filter": {"enabled": False}, "update_mask": {"paths": ["filter.enabled"]}},
        format="json",
    )
    assert patched.json()["enabled"] is False
    assert DestinationFilter.objects.get().enabled is False
    assert api.delete(url).status_code == 200
    assert not DestinationFilter.objects.exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "destination_filter.created",
        "destination_filter.updated",
        "destination_filter.deleted",
    } <= actions


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": "x" * 65}, "64"),
        ({"if": "type = = 'track'"}, "position"),
        ({"actions": [{"type": "EXPLODE"}]}, "EXPLODE"),
        ({"actions": [{"type": "SAMPLE", "percent": 2}]}, "percent"),
    ],
)
def test_bad_filters_are_refused(api: APIClient, equals: str, change: dict, message: str) -> None:
    response = api.post(f"{equals}/filters", {"filter": {**DROP_NO_USER, **change}}, format="json")
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not DestinationFilter.objects.exists()


def test_eleventh_filter_is_refused(api: APIClient, equals: str) -> None:
    for i in range(10):
        body = {"filter": {**DROP_NO_USER, "title": f"f{i}"}}
        assert api.post(f"{equals}/filters", body, format="json").status_code == 200
    response = api.post(f"{equals}/filters", {"filter": DROP_NO_USER}, format="json")
    assert response.status_code == 400
    assert "at most 10 filters" in response.json()["error"]


# -- preview --------------------------------------------------------------------------------


def test_preview_runs_filters_then_mappings(api: APIClient, equals: str) -> None:
    api.post(
        f"{equals}/subscriptions",
        {
            "subscription": {
                "action": "send",
                "enabled": True,
                "mapping": {"data": {"who": {"@path": "$.userId"}}},
            }
        },
        format="json",
    )
    api.post(f"{equals}/filters", {"filter": DROP_NO_USER}, format="json")
    event = {"type": "track", "event": "Signed Up", "userId": "u1"}
    sent = api.post(f"{equals}/preview", {"event": event}, format="json").json()
    assert sent["mappings"][0]["matched"] is True
    assert sent["mappings"][0]["payload"] == {"data": {"who": "u1"}}
    dropped = api.post(
        f"{equals}/preview",
        {"event": {"type": "track", "event": "x", "userId": ""}},
        format="json",
    ).json()
    assert dropped["event"] is None
    assert dropped["dropped_by"] == "Only send events with userId"
    unmatched = api.post(
        f"{equals}/preview", {"event": {"type": "alias", "userId": "u1"}}, format="json"
    ).json()
    assert unmatched["reason"] == "NO_MATCHING_MAPPING"
