"""Team members and invitations: invite, accept (sign in or sign up), change role, remove."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from workspace.models import (
    AuditEntry,
    GroupMembership,
    Invitation,
    Membership,
    UserGroup,
    Workspace,
)

pytestmark = pytest.mark.django_db

USERS = "/v1beta/workspaces/acme/users"
INVITES = "/v1beta/workspaces/acme/invites"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


def invite(api: APIClient, email: str = "carol@example.com", **fields: object) -> dict:
    response = api.post(INVITES, {"invite": {"email": email, **fields}}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def secret_of(created: dict) -> str:
    return created["invite_url"].rsplit("/", 1)[1]


def test_invite_emails_a_link_and_lists_as_pending(
    acme: Workspace, api: APIClient, django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        created = invite(api, "Carol@Example.com")
    assert created["email"] == "carol@example.com"
    assert created["role"] == "member"
    assert created["invite_url"].startswith("http://127.0.0.1:8000/invites/")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["carol@example.com"]
    assert created["invite_url"] in mail.outbox[0].body
    listed = api.get(INVITES).json()["invites"]
    assert [i["email"] for i in listed] == ["carol@example.com"]
    assert "invite_url" not in listed[0]
    stored = Invitation.objects.get()
    assert secret_of(created) not in stored.secret_hash


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", None])
def test_invite_needs_a_valid_email(acme: Workspace, api: APIClient, email: object) -> None:
    response = api.post(INVITES, {"invite": {"email": email}}, format="json")
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_second_open_invite_or_existing_member_is_already_exists(
    acme: Workspace, api: APIClient, alice: User
) -> None:
    invite(api)
    again = api.post(INVITES, {"invite": {"email": "carol@example.com"}}, format="json")
    assert again.status_code == 409 and again.json()["code"] == 6
    alice.email = "alice@example.com"
    alice.save()
    member = api.post(INVITES, {"invite": {"email": "alice@example.com"}}, format="json")
    assert member.status_code == 409
    assert Invitation.objects.count() == 1


def test_sign_up_through_the_link_creates_the_account_and_membership(
    acme: Workspace, api: APIClient
) -> None:
    created = invite(api, role="owner")
    client = Client()
    page = client.get(f"/invites/{secret_of(created)}")
    assert b"Join Acme" in page.content and b"carol@example.com" in page.content
    response = client.post(
        f"/invites/{secret_of(created)}", {"username": "carol", "password": "a-long-passphrase"}
    )
    assert response.status_code == 302 and response["Location"] == "/workspaces/acme/"
    carol = User.objects.get(username="carol")
    assert carol.email == "carol@example.com"
    assert Membership.objects.get(workspace=acme, user=carol).role == "owner"
    assert client.get("/workspaces/acme/").status_code == 200  # signed in
    # The link is single-use.
    assert Client().get(f"/invites/{secret_of(created)}").status_code == 404
    assert AuditEntry.objects.filter(action="user.joined", workspace=acme).count() == 1


def test_weak_password_is_refused_and_nothing_is_created(acme: Workspace, api: APIClient) -> None:
    created = invite(api)
    response = Client().post(
        f"/invites/{secret_of(created)}", {"username": "carol", "password": "12345678"}
    )
    assert response.status_code == 400
    assert not User.objects.filter(username="carol").exists()
    assert Invitation.objects.get().accept_time is None


def test_existing_account_signs_in_and_joins_with_its_group(
    acme: Workspace, api: APIClient, make_user: Callable[..., User]
) -> None:
    group = UserGroup.objects.create(workspace=acme, name="Analysts")
    carol = make_user("carol", email="carol@example.com")
    created = invite(api, group="Analysts")
    client = Client()
    client.force_login(carol)
    assert client.post(f"/invites/{secret_of(created)}").status_code == 302
    assert Membership.objects.filter(workspace=acme, user=carol).exists()
    assert GroupMembership.objects.filter(group=group, user=carol).exists()


def test_invite_for_another_address_cannot_be_accepted(
    acme: Workspace, api: APIClient, bob: User
) -> None:
    created = invite(api)
    client = Client()
    client.force_login(bob)
    response = client.post(f"/invites/{secret_of(created)}")
    assert response.status_code == 400
    assert b"invitation is for carol@example.com; sign in as that user" in response.content
    assert not Membership.objects.filter(workspace=acme, user=bob).exists()


def test_expired_and_revoked_invites_grant_nothing(acme: Workspace, api: APIClient) -> None:
    expired = invite(api, "old@example.com")
    Invitation.objects.filter(email="old@example.com").update(
        expire_time=timezone.now() - timedelta(minutes=1)
    )
    revoked = invite(api, "gone@example.com")
    assert api.delete(f"{INVITES}/{revoked['id']}").status_code == 200
    for created in (expired, revoked):
        response = Client().post(
            f"/invites/{secret_of(created)}", {"username": "x", "password": "a-long-passphrase"}
        )
        assert response.status_code == 404
    assert not User.objects.filter(username="x").exists()
    assert [i["email"] for i in api.get(INVITES).json()["invites"]] == ["old@example.com"]


def test_list_members_with_roles_and_groups(acme: Workspace, api: APIClient, bob: User) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    group = UserGroup.objects.create(workspace=acme, name="Analysts")
    GroupMembership.objects.create(group=group, user=bob)
    users = {u["username"]: u for u in api.get(USERS).json()["users"]}
    assert users["alice"]["role"] == "owner" and users["alice"]["groups"] == []
    assert users["bob"]["role"] == "member" and users["bob"]["groups"] == ["Analysts"]
    assert users["bob"]["name"] == f"workspaces/acme/users/{bob.pk}"


def test_change_role_and_keep_one_owner(
    acme: Workspace, alice: User, api: APIClient, bob: User, token_client: Callable[..., APIClient]
) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    promote = {"user": {"role": "owner"}, "update_mask": {"paths": ["user.role"]}}
    assert api.patch(f"{USERS}/{bob.pk}", promote, format="json").json()["role"] == "owner"
    demote = {"user": {"role": "member"}, "update_mask": {"paths": ["user.role"]}}
    assert api.patch(f"{USERS}/{alice.pk}", demote, format="json").status_code == 200
    last = api.patch(f"{USERS}/{bob.pk}", demote, format="json")
    assert last.status_code == 403  # alice is no longer an owner
    bob_api = token_client(bob)
    refused = bob_api.patch(f"{USERS}/{bob.pk}", demote, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == 9
    assert Membership.objects.get(workspace=acme, user=bob).role == "owner"


def test_remove_member_keeps_the_account_and_revokes_access(
    acme: Workspace, api: APIClient, bob: User, token_client: Callable[..., APIClient]
) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    group = UserGroup.objects.create(workspace=acme, name="Analysts")
    GroupMembership.objects.create(group=group, user=bob)
    bob_client = token_client(bob)
    assert bob_client.get("/v1beta/workspaces/acme").status_code == 200
    assert api.delete(f"{USERS}/{bob.pk}").status_code == 200
    assert User.objects.filter(pk=bob.pk).exists()
    assert not GroupMembership.objects.filter(user=bob).exists()
    assert bob_client.get("/v1beta/workspaces/acme").status_code == 404  # the next request
    assert AuditEntry.objects.filter(action="user.removed").count() == 1


def test_last_owner_cannot_be_removed(acme: Workspace, alice: User, api: APIClient) -> None:
    response = api.delete(f"{USERS}/{alice.pk}")
    assert response.status_code == 400 and response.json()["code"] == 9
    assert Membership.objects.filter(workspace=acme, user=alice).exists()


def test_members_cannot_manage_access(
    acme: Workspace, bob: User, token_client: Callable[..., APIClient]
) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    client = token_client(bob)
    assert client.get(USERS).status_code == 403
    assert (
        client.post(INVITES, {"invite": {"email": "x@example.com"}}, format="json").status_code
        == 403
    )
    assert not Invitation.objects.exists()


# An address longer than the column must be refused at the door, not as a 500 from
# PostgreSQL ("value too long for type character varying(254)").
TOO_LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"  # 312 characters


def test_an_email_longer_than_254_characters_is_a_400_over_the_api(
    acme: Workspace, api: APIClient
) -> None:
    assert len(TOO_LONG_EMAIL) == 312
    response = api.post(INVITES, {"invite": {"email": TOO_LONG_EMAIL}}, format="json")
    assert response.status_code == 400, response.content
    assert "at most 254 characters" in response.json()["error"]
    assert not Invitation.objects.exists()


def test_an_email_longer_than_254_characters_is_a_form_error_in_the_ui(
    acme: Workspace, alice: User
) -> None:
    client = Client()
    client.force_login(alice)
    response = client.post(
        "/workspaces/acme/settings/access/", {"email": TOO_LONG_EMAIL, "role": "member"}
    )
    assert response.status_code == 400
    assert "Ensure this value has at most 254 characters" in response.content.decode()
    assert not Invitation.objects.exists()
