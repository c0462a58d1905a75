"""Settings > Access Management: Users, User Groups and Tokens tabs."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from workspace.models import (
    AccessToken,
    GroupMembership,
    Invitation,
    Membership,
    UserGroup,
    Workspace,
)

pytestmark = pytest.mark.django_db

BASE = "/workspaces/acme/settings/access"


@pytest.fixture
def acme(alice: User, bob: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    Membership.objects.create(workspace=workspace, user=bob)
    return workspace


@pytest.fixture
def owner(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def test_only_owners_reach_any_tab(acme: Workspace, bob: User) -> None:
    client = Client()
    client.force_login(bob)
    for path in ("/", "/users.csv", "/groups/", "/tokens/"):
        assert client.get(f"{BASE}{path}").status_code == 403
    client.post(f"{BASE}/tokens/", {"description": "x", "access": "owner", "scope": "workspace"})
    assert not AccessToken.objects.exists()
    assert b"Access Management" not in client.get("/workspaces/acme/").content


def test_invite_from_the_users_tab(
    acme: Workspace, owner: Client, django_capture_on_commit_callbacks: Callable
) -> None:
    group = UserGroup.objects.create(workspace=acme, name="Analysts")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            f"{BASE}/", {"email": "carol@example.com", "role": "member", "group": group.pk}
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.group == group and invitation.email == "carol@example.com"
    assert len(mail.outbox) == 1
    page = owner.get(f"{BASE}/").content.decode()
    assert "Invitation sent to carol@example.com." in page
    assert "carol@example.com" in page.split('id="invites"')[1]
    owner.post(f"{BASE}/invites/{invitation.pk}/revoke")
    invitation.refresh_from_db()
    assert invitation.revoke_time is not None


def test_change_role_remove_and_last_owner_message(
    acme: Workspace, alice: User, bob: User, owner: Client
) -> None:
    owner.post(f"{BASE}/users/{bob.pk}/role", {"role": "owner"})
    assert Membership.objects.get(workspace=acme, user=bob).role == "owner"
    owner.post(f"{BASE}/users/{bob.pk}/remove")
    assert not Membership.objects.filter(workspace=acme, user=bob).exists()
    owner.post(f"{BASE}/users/{alice.pk}/remove")
    page = owner.get(f"{BASE}/").content.decode()
    assert "A workspace keeps at least one Workspace Owner" in page
    assert Membership.objects.filter(workspace=acme, user=alice).exists()


def test_members_csv_lists_roles_and_groups(acme: Workspace, bob: User, owner: Client) -> None:
    group = UserGroup.objects.create(workspace=acme, name="Analysts")
    GroupMembership.objects.create(group=group, user=bob)
    response = owner.get(f"{BASE}/users.csv")
    assert response["Content-Disposition"] == 'attachment; filename="acme-users.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["username"], r["role"], r["groups"]) for r in rows] == [
        ("alice", "Workspace Owner", ""),
        ("bob", "Workspace Member", "Analysts"),
    ]


def test_groups_tab_create_add_remove_delete(acme: Workspace, bob: User, owner: Client) -> None:
    owner.post(f"{BASE}/groups/", {"name": "Analysts", "description": "Data people"})
    group = UserGroup.objects.get(name="Analysts")
    owner.post(f"{BASE}/groups/{group.pk}/", {"user": bob.pk})
    assert list(group.members.values_list("username", flat=True)) == ["bob"]
    assert "bob" in owner.get(f"{BASE}/groups/{group.pk}/").content.decode()
    owner.post(f"{BASE}/groups/{group.pk}/members/{bob.pk}/remove")
    assert not group.members.exists()
    owner.post(f"{BASE}/groups/", {"name": "Analysts"})
    assert "already exists" in owner.get(f"{BASE}/groups/").content.decode()
    owner.post(f"{BASE}/groups/{group.pk}/delete")
    assert not UserGroup.objects.exists()


def test_tokens_tab_shows_the_secret_once_then_only_the_prefix(
    acme: Workspace, owner: Client
) -> None:
    page = owner.post(
        f"{BASE}/tokens/", {"description": "CI", "access": "owner", "scope": "workspace:read"}
    ).content.decode()
    secret = re.search(r"<code>(sy_[^<]+)</code>", page)
    assert secret is not None
    token = AccessToken.objects.get(workspace=acme)
    assert token.access == "owner" and token.scope == "workspace:read"
    again = owner.get(f"{BASE}/tokens/").content.decode()
    assert secret.group(1) not in again
    assert f"{token.prefix}…" in again
    owner.post(f"{BASE}/tokens/{token.pk}/revoke")
    token.refresh_from_db()
    assert token.revoke_time is not None
    assert (
        f"{token.prefix}…"
        not in owner.get(f"{BASE}/tokens/").content.decode().split('id="tokens"')[1]
    )


def test_grant_from_group_page_shows_on_member_page_and_revokes(
    acme: Workspace, bob: User, owner: Client
) -> None:
    from workspace.models import Label, RoleGrant

    group = UserGroup.objects.create(workspace=acme, name="Prod admins")
    GroupMembership.objects.create(group=group, user=bob)
    prod = Label.objects.get(workspace=acme, key="environment", value="prod")
    owner.post(
        f"{BASE}/groups/{group.pk}/grants",
        {"role": "source-admin", "scope": "labels", "labels": [prod.pk]},
    )
    grant = RoleGrant.objects.get(group=group)
    assert grant.role == "source-admin" and list(grant.labels.all()) == [prod]
    member_page = owner.get(f"{BASE}/users/{bob.pk}/").content.decode()
    via = f'via group <a href="{BASE}/groups/{group.pk}/">Prod admins</a>'
    assert via in member_page and "environment:prod" in member_page
    owner.post(f"{BASE}/users/{bob.pk}/grants", {"role": "source-read-only", "scope": "all"})
    assert RoleGrant.objects.filter(user=bob, role="source-read-only").exists()
    bad = owner.post(f"{BASE}/users/{bob.pk}/grants", {"role": "source-admin", "scope": "labels"})
    assert bad.status_code == 302
    assert "at least one label" in owner.get(f"{BASE}/users/{bob.pk}/").content.decode()
    owner.post(f"{BASE}/grants/{grant.pk}/delete", {"next": f"{BASE}/groups/{group.pk}/"})
    assert not RoleGrant.objects.filter(group=group).exists()
