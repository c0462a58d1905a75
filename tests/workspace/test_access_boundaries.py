"""Access defects fixed with the app boundaries: the owners' trail on Home, what a
removed member keeps, Workspace Owner granted like a role, and the kernel's registry."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from connections.models import Source, SourceGrant
from connections.services.sources import do_create_source
from switchyard import access
from switchyard.access import Principal, registry
from workspace.models import (
    AccessToken,
    AuditEntry,
    GroupMembership,
    Membership,
    RoleGrant,
    UserGroup,
    Workspace,
)
from workspace.services.grants import do_create_grant
from workspace.services.members import do_accept_invitation, do_invite_member
from workspace.services.tokens import do_create_access_token, do_create_workspace_token

pytestmark = pytest.mark.django_db

SOURCES = "/v1beta/workspaces/acme/sources"


@pytest.fixture
def acme(alice: User, bob: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    Membership.objects.create(workspace=workspace, user=bob)
    for slug in ("js", "ios"):
        do_create_source(
            principal=Principal(alice), workspace=workspace, slug=slug, display_name=slug
        )
    return workspace


def source_names(client: APIClient) -> list[str]:
    response = client.get(SOURCES)
    assert response.status_code == 200, response.content
    return sorted(s["name"] for s in response.json()["sources"])


def test_home_activity_shows_the_audit_trail_to_owners_only(
    acme: Workspace, alice: User, bob: User
) -> None:
    do_create_workspace_token(
        principal=Principal(alice), workspace=acme, description="ci", access_level="owner"
    )
    assert AuditEntry.objects.filter(workspace=acme, action="access_token.created").exists()
    owner, member = Client(), Client()
    owner.force_login(alice)
    member.force_login(bob)
    assert b"access_token.created" in owner.get("/workspaces/acme/").content
    page = member.get("/workspaces/acme/")
    assert page.status_code == 200
    assert b"access_token.created" not in page.content
    assert b"workspaces/acme/sources/js" not in page.content


def test_a_removed_member_loses_grants_groups_and_tokens_and_rejoins_with_minimal_access(
    acme: Workspace, alice: User, bob: User, token_client: Callable[..., APIClient]
) -> None:
    owner = Principal(alice)
    group = UserGroup.objects.create(workspace=acme, name="Analysts")
    GroupMembership.objects.create(group=group, user=bob)
    do_create_grant(principal=owner, workspace=acme, grantee=bob, role="source-admin", scope="all")
    do_create_grant(
        principal=owner, workspace=acme, grantee=group, role="source-read-only", scope="all"
    )
    Membership.objects.filter(workspace=acme, user=bob).update(role=Membership.Role.OWNER)
    token, secret = do_create_workspace_token(
        principal=Principal(bob), workspace=acme, description="bob's", access_level="member"
    )
    do_create_grant(
        principal=owner, workspace=acme, grantee=token, role="source-admin", scope="all"
    )
    Membership.objects.filter(workspace=acme, user=bob).update(role=Membership.Role.MEMBER)
    bob_api = token_client(bob)
    assert len(source_names(bob_api)) == 2

    assert token_client(alice).delete(f"/v1beta/workspaces/acme/users/{bob.pk}").status_code == 200
    assert not RoleGrant.objects.filter(user=bob).exists()
    assert not GroupMembership.objects.filter(user=bob).exists()
    assert AccessToken.objects.get(pk=token.pk).revoke_time is not None
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert bearer.get(SOURCES).status_code == 401
    removed = AuditEntry.objects.get(action="user.removed")
    assert removed.after == {"grants_removed": 1}
    assert AuditEntry.objects.filter(action="access_token.revoked", workspace=acme).count() == 1

    bob.email = "bob@example.com"
    bob.save()
    _invitation, link = do_invite_member(principal=owner, workspace=acme, email=bob.email)
    do_accept_invitation(secret=link, user=bob)
    assert bob_api.get("/v1beta/workspaces/acme").status_code == 200
    assert source_names(bob_api) == []  # minimal workspace access, as Segment starts a member


@pytest.mark.parametrize("holder", ["user", "group", "token"])
def test_a_workspace_owner_grant_makes_its_holder_an_owner(
    acme: Workspace, alice: User, bob: User, token_client: Callable[..., APIClient], holder: str
) -> None:
    owner = Principal(alice)
    if holder == "token":
        token, secret = do_create_workspace_token(
            principal=owner, workspace=acme, description="member token", access_level="member"
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        grantee: object = token
    else:
        client = token_client(bob)
        grantee = bob
        if holder == "group":
            grantee = UserGroup.objects.create(workspace=acme, name="Owners")
            GroupMembership.objects.create(group=grantee, user=bob)
    assert source_names(client) == []
    assert client.get("/v1beta/workspaces/acme/grants").status_code == 403

    grant = do_create_grant(
        principal=owner, workspace=acme, grantee=grantee, role="workspace-owner", scope="all"
    )
    assert source_names(client) == ["workspaces/acme/sources/ios", "workspaces/acme/sources/js"]
    assert client.get("/v1beta/workspaces/acme/grants").status_code == 200
    assert client.get("/v1beta/workspaces/acme/audit-events").status_code == 200

    grant.delete()  # revoking takes effect on the next request
    assert source_names(client) == []


def test_a_workspace_owner_grant_through_the_api(
    acme: Workspace, api: APIClient, bob: User, token_client: Callable[..., APIClient]
) -> None:
    response = api.post(
        "/v1beta/workspaces/acme/grants",
        {
            "grant": {
                "principal": f"workspaces/acme/users/{bob.pk}",
                "role": "workspace-owner",
                "scope": "all",
            }
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert len(source_names(token_client(bob))) == 2


def test_specific_source_grants_are_stored_by_connections(
    acme: Workspace, alice: User, bob: User, token_client: Callable[..., APIClient]
) -> None:
    js = Source.objects.get(slug="js")
    grant = do_create_grant(
        principal=Principal(alice),
        workspace=acme,
        grantee=bob,
        role="source-read-only",
        scope="specific",
        resources=[js],
    )
    assert list(SourceGrant.objects.filter(grant=grant).values_list("source__slug", flat=True)) == [
        "js"
    ]
    assert source_names(token_client(bob)) == ["workspaces/acme/sources/js"]
    js.delete()  # the listing row goes with the source
    assert not SourceGrant.objects.filter(grant=grant).exists()


def test_the_registry_refuses_a_model_without_a_rule_and_a_second_rule(acme: Workspace) -> None:
    with pytest.raises(NotImplementedError, match="no access rule for User"):
        access.restrict(User.objects.all(), Principal(User.objects.get(username="bob")), "view")
    with pytest.raises(RuntimeError, match="already has an access rule"):
        registry.register(Source, lambda qs, principal, action: qs)
    assert registry.resource_type("source") is not None
    assert registry.resource_type("source").model is Source  # type: ignore[union-attr]


def test_no_guardian_anonymous_user_after_migrate() -> None:
    # django-guardian's post-migrate hook created one; it is no longer installed.
    assert not User.objects.filter(username="AnonymousUser").exists()


@pytest.mark.django_db(transaction=True)
def test_two_owners_removing_each_other_at_once_leave_one_owner(
    alice: User, bob: User, make_workspace: Callable[..., Workspace]
) -> None:
    workspace = make_workspace(alice, "duo")
    Membership.objects.create(workspace=workspace, user=bob, role=Membership.Role.OWNER)
    secrets = {}
    for user in (alice, bob):
        _token, secrets[user.pk] = do_create_access_token(
            principal=Principal(user), user=user, description="t"
        )
    pairs = [(alice, bob), (bob, alice)]
    barrier = threading.Barrier(len(pairs))
    statuses: list[int] = []

    def remove(actor: User, member: User) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secrets[actor.pk]}")
        try:
            barrier.wait()
            response = client.delete(f"/v1beta/workspaces/duo/users/{member.pk}")
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=remove, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses)[0] == 200 and sorted(statuses)[1] in (400, 404)
    assert Membership.objects.filter(workspace=workspace, role=Membership.Role.OWNER).count() == 1
