"""Concurrent updates of different fields of sources, destinations, mappings and
filters all survive, and the permission check is made on the locked row.

Each update service re-reads its row FOR UPDATE inside its transaction, so
writers take turns and each applies its change to what the previous one
committed; nested paths (``source.settings.x``, ``subscription.mapping.url``)
merge into the stored object, not into the copy the request read.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from connections.models import Destination, DestinationFilter, Source, Subscription
from connections.services.destinations import do_create_destination
from connections.services.filters import do_create_filter
from connections.services.sources import do_create_source, do_update_source
from connections.services.subscriptions import do_create_subscription
from switchyard.access import Principal
from switchyard.errors import NotFound
from tests.concurrent_requests import (
    assert_audit_replays,
    call_behind_a_lock,
    masked,
    patch_together,
)
from workspace.models import AuditEntry, Membership, RoleGrant, Workspace
from workspace.services.grants import do_create_grant
from workspace.services.tokens import do_create_access_token
from workspace.services.workspaces import do_create_workspace

pytestmark = pytest.mark.django_db(transaction=True)

SOURCE = "/v1beta/workspaces/acme/sources/web"
REDACTED = "[redacted]"


@pytest.fixture
def acme(alice: User) -> Workspace:
    return do_create_workspace(principal=Principal(alice), slug="acme", display_name="Acme")


@pytest.fixture
def web(alice: User, acme: Workspace) -> Source:
    return do_create_source(
        principal=Principal(alice),
        workspace=acme,
        slug="web",
        display_name="Website",
        source_type="javascript",
        settings={"keep": "me"},
    )


@pytest.fixture
def secret(alice: User) -> str:
    _token, secret = do_create_access_token(
        principal=Principal(alice), user=alice, description="concurrency"
    )
    return secret


def created_state(resource_name: str, action: str) -> dict[str, Any]:
    """The resource as its creation's audit entry recorded it (secrets redacted)."""
    return AuditEntry.objects.get(resource_name=resource_name, action=action).after


def test_source_settings_keys_name_enabled_and_labels_all_survive(web: Source, secret: str) -> None:
    requests = [
        (SOURCE, masked("source", {"settings": {f"k{i}": i}}, f"settings.k{i}")) for i in range(12)
    ] + [
        (SOURCE, masked("source", {"display_name": "Web"}, "display_name")),
        (SOURCE, masked("source", {"enabled": False}, "enabled")),
        (SOURCE, masked("source", {"labels": ["environment:prod"]}, "labels")),
    ]
    responses = patch_together(secret, requests)
    assert all(r.status_code == 200 for r in responses), [r.json() for r in responses]
    web = Source.objects.get(pk=web.pk)
    settings = {"keep": "me"} | {f"k{i}": i for i in range(12)}
    assert web.settings == settings
    assert (web.display_name, web.enabled, web.label_names) == (
        "Web",
        False,
        ["environment:prod"],
    )
    start = created_state(web.resource_name, "source.created")
    final = start | {
        "display_name": "Web",
        "enabled": False,
        "settings": settings,
        "labels": ["environment:prod"],
    }
    assert assert_audit_replays(web.resource_name, "source.updated", start, final) == len(requests)


def test_destination_settings_keys_name_and_enabled_all_survive(
    alice: User, web: Source, secret: str
) -> None:
    destinations = [
        do_create_destination(
            principal=Principal(alice),
            source=web,
            definition="segment-connections",
            display_name=f"Mirror {i}",
            settings={"source_write_key": "wk-old"},
        )
        for i in range(5)
    ]
    requests = []
    for destination in destinations:
        url = f"{SOURCE}/destinations/{destination.key_id}"
        requests += [
            (url, masked("destination", {"settings": {"endpoint": "eu"}}, "settings.endpoint")),
            (
                url,
                masked(
                    "destination",
                    {"settings": {"source_write_key": "wk-new"}},
                    "settings.source_write_key",
                ),
            ),
            (url, masked("destination", {"display_name": "Mirror"}, "display_name")),
            (url, masked("destination", {"enabled": True}, "enabled")),
        ]
    responses = patch_together(secret, requests)
    assert all(r.status_code == 200 for r in responses), [r.json() for r in responses]
    for destination in Destination.objects.filter(source=web):
        assert destination.settings == {"source_write_key": "wk-new", "endpoint": "eu"}
        assert (destination.display_name, destination.enabled) == ("Mirror", True)
        start = created_state(destination.resource_name, "destination.created")
        final = start | {
            "display_name": "Mirror",
            "enabled": True,
            "settings": {"source_write_key": REDACTED, "endpoint": "eu"},
        }
        # Three entries for four changes: the trail never shows secrets, so a
        # secret's change alone leaves the redacted snapshot as it was.
        entries = assert_audit_replays(
            destination.resource_name, "destination.updated", start, final
        )
        assert entries == 3


def test_subscription_fields_and_mapping_members_all_survive(
    alice: User, web: Source, secret: str
) -> None:
    destination = do_create_destination(
        principal=Principal(alice), source=web, definition="actions-webhook"
    )
    subscription = do_create_subscription(
        principal=Principal(alice),
        destination=destination,
        action="send",
        mapping={"url": "https://old.example/hook", "method": "POST"},
    )
    url = f"{SOURCE}/destinations/{destination.key_id}/subscriptions/{subscription.key_id}"
    mapping = {
        "url": "https://new.example/hook",
        "method": "PUT",
        "data": {"@path": "$.properties"},
        "enable_batching": True,
        "batch_size": 50,
    }
    headers = {f"X-Header-{i}": f"v{i}" for i in range(4)}
    requests = [
        (url, masked("subscription", {"mapping": {key: value}}, f"mapping.{key}"))
        for key, value in mapping.items()
    ] + [
        (url, masked("subscription", {"mapping": {"headers": {k: v}}}, f"mapping.headers.{k}"))
        for k, v in headers.items()
    ]
    requests += [
        (url, masked("subscription", {"display_name": "Hook"}, "display_name")),
        (url, masked("subscription", {"enabled": True}, "enabled")),
        (url, masked("subscription", {"trigger": 'type = "track"'}, "trigger")),
    ]
    responses = patch_together(secret, requests)
    assert all(r.status_code == 200 for r in responses), [r.json() for r in responses]
    stored = Subscription.objects.get(pk=subscription.pk)
    assert stored.mapping == mapping | {"headers": headers}
    assert (stored.name, stored.enabled, stored.trigger) == ("Hook", True, 'type = "track"')


def test_filter_fields_all_survive(alice: User, web: Source, secret: str) -> None:
    destination = do_create_destination(
        principal=Principal(alice), source=web, definition="actions-webhook"
    )
    rows = [
        do_create_filter(
            principal=Principal(alice),
            destination=destination,
            title=f"Filter {i}",
            if_='type = "identify"',
            actions=[{"type": "DROP"}],
        )
        for i in range(5)
    ]
    requests = []
    for row in rows:
        url = f"{SOURCE}/destinations/{destination.key_id}/filters/{row.key_id}"
        requests += [
            (url, masked("filter", {"title": "Drop tracks"}, "title")),
            (url, masked("filter", {"description": "No tracks"}, "description")),
            (url, masked("filter", {"if": 'type = "track"'}, "if")),
            (url, masked("filter", {"enabled": False}, "enabled")),
        ]
    responses = patch_together(secret, requests)
    assert all(r.status_code == 200 for r in responses), [r.json() for r in responses]
    for row in DestinationFilter.objects.filter(destination=destination):
        assert (row.title, row.description, row.condition, row.enabled) == (
            "Drop tracks",
            "No tracks",
            'type = "track"',
            False,
        )


def test_an_update_from_a_stale_source_keeps_what_changed_since(alice: User, web: Source) -> None:
    stale = Source.objects.get(pk=web.pk)
    do_update_source(principal=Principal(alice), source=web, changes={"display_name": "Web"})
    do_update_source(principal=Principal(alice), source=stale, changes={"enabled": False})
    web = Source.objects.get(pk=web.pk)
    assert (web.display_name, web.enabled) == ("Web", False)


def test_permission_is_checked_after_the_source_row_lock_is_taken(
    alice: User, acme: Workspace, web: Source, make_user: Any
) -> None:
    """carol's Source Admin grant is revoked by a transaction holding the source's
    row while her update waits for it: the update asks access once it has the row."""
    carol = make_user("carol")
    Membership.objects.create(workspace=acme, user=carol)
    grant = do_create_grant(
        principal=Principal(alice), workspace=acme, grantee=carol, role="source-admin", scope="all"
    )
    seen_by_view = Source.objects.get(pk=web.pk)

    def lock_and_revoke() -> None:
        Source.objects.select_for_update().get(pk=web.pk)
        RoleGrant.objects.filter(pk=grant.pk).delete()

    outcome = call_behind_a_lock(
        lock_and_revoke,
        lambda: do_update_source(
            principal=Principal(carol), source=seen_by_view, changes={"display_name": "Mine"}
        ),
    )
    assert isinstance(outcome, NotFound)
    assert Source.objects.get(pk=web.pk).display_name == "Website"
