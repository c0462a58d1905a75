"""Connections overview and the source page: type, write keys, settings, delete."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from connections.models import Source, WriteKey
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import Membership, Workspace
from workspace.services.grants import do_create_grant

pytestmark = pytest.mark.django_db

UI = "/workspaces/acme"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def web(acme: Workspace, alice: User) -> Source:
    return do_create_source(
        principal=Principal(alice),
        workspace=acme,
        slug="web",
        display_name="Website",
        source_type="javascript",
    )


@pytest.fixture
def owner(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def test_create_source_with_a_type_shows_its_write_key(owner: Client, acme: Workspace) -> None:
    response = owner.post(
        f"{UI}/sources/",
        {"display_name": "Backend", "slug": "backend", "source_type": "python", "labels": ""},
    )
    assert response.status_code == 302
    source = Source.objects.get(slug="backend")
    assert source.source_type == "python"
    page = owner.get(f"{UI}/sources/backend/").content.decode()
    assert source.write_keys.get().secret in page
    assert "Python" in page


def test_unknown_source_type_is_a_form_error(owner: Client, acme: Workspace) -> None:
    response = owner.post(
        f"{UI}/sources/",
        {"display_name": "X", "slug": "x", "source_type": "cobol", "labels": ""},
    )
    assert response.status_code == 400
    assert not Source.objects.filter(slug="x").exists()


def test_read_only_member_sees_masked_keys_and_no_controls(
    acme: Workspace, web: Source, alice: User, make_user: Callable[..., User]
) -> None:
    reader = make_user("reader")
    Membership.objects.create(workspace=acme, user=reader)
    do_create_grant(
        principal=Principal(alice),
        workspace=acme,
        grantee=reader,
        role="source-read-only",
        scope="all",
    )
    client = Client()
    client.force_login(reader)
    page = client.get(f"{UI}/sources/web/").content.decode()
    key = web.write_keys.get()
    assert key.secret not in page
    assert key.masked in page
    assert 'id="create-key"' not in page and 'id="delete-source"' not in page
    client.post(f"{UI}/sources/web/", {"intent": "create_key"})
    assert web.write_keys.count() == 1


def test_create_and_revoke_write_keys(owner: Client, web: Source) -> None:
    owner.post(f"{UI}/sources/web/", {"intent": "create_key", "description": "rotation"})
    new = web.write_keys.get(description="rotation")
    response = owner.post(f"{UI}/sources/web/", {"intent": "revoke_key", "key_id": new.key_id})
    assert response.status_code == 302
    assert WriteKey.objects.get(pk=new.pk).revoke_time is not None
    page = owner.get(f"{UI}/sources/web/").content.decode()
    assert "revoked" in page


def test_disable_source_from_settings(owner: Client, web: Source) -> None:
    owner.post(f"{UI}/sources/web/", {"intent": "save", "display_name": "Website", "labels": ""})
    assert Source.objects.get(pk=web.pk).enabled is False
    owner.post(
        f"{UI}/sources/web/",
        {"intent": "save", "display_name": "Website", "labels": "", "enabled": "on"},
    )
    assert Source.objects.get(pk=web.pk).enabled is True


def test_delete_needs_the_slug_typed(owner: Client, web: Source, alice: User) -> None:
    do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        settings={"url": "https://equals.example"},
    )
    owner.post(f"{UI}/sources/web/", {"intent": "delete", "confirm": "wrong"})
    assert Source.objects.filter(pk=web.pk).exists()
    response = owner.post(f"{UI}/sources/web/", {"intent": "delete", "confirm": "web"})
    assert response.status_code == 302
    assert not Source.objects.filter(pk=web.pk).exists()


def test_overview_shows_sources_and_their_destinations(
    owner: Client, web: Source, alice: User
) -> None:
    destination = do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        display_name="Equals prod",
        settings={"url": "https://equals.example"},
    )
    page = owner.get(f"{UI}/connections/").content.decode()
    assert 'data-source="web"' in page
    assert f'data-destination="{destination.key_id}"' in page
    assert "Equals prod (disabled)" in page
