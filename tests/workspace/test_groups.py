"""User groups through the API: create, rename, members, delete."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from workspace.models import AuditEntry, GroupMembership, Membership, UserGroup, Workspace

pytestmark = pytest.mark.django_db

GROUPS = "/v1beta/workspaces/acme/groups"


@pytest.fixture
def acme(alice: User, bob: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    Membership.objects.create(workspace=workspace, user=bob)
    return workspace


def create_group(api: APIClient, display_name: str = "Analysts") -> dict:
    response = api.post(GROUPS, {"group": {"display_name": display_name}}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_create_list_rename_delete(acme: Workspace, api: APIClient, bob: User) -> None:
    group = create_group(api)
    assert group["name"] == f"workspaces/acme/groups/{group['id']}"
    assert group["member_count"] == 0
    rename = {
        "group": {"display_name": "Data team"},
        "update_mask": {"paths": ["group.display_name"]},
    }
    assert (
        api.patch(f"{GROUPS}/{group['id']}", rename, format="json").json()["display_name"]
        == "Data team"
    )
    assert [g["display_name"] for g in api.get(GROUPS).json()["groups"]] == ["Data team"]
    members = f"{GROUPS}/{group['id']}/users"
    api.post(members, {"user": {"name": f"workspaces/acme/users/{bob.pk}"}}, format="json")
    assert api.delete(f"{GROUPS}/{group['id']}").status_code == 200
    assert not UserGroup.objects.exists()
    assert Membership.objects.filter(workspace=acme, user=bob).exists()  # members stay
    actions = list(
        AuditEntry.objects.filter(resource_type="group").values_list("action", flat=True)
    )
    assert sorted(actions) == [
        "group.created",
        "group.deleted",
        "group.member_added",
        "group.updated",
    ]


def test_duplicate_and_empty_names_are_refused(acme: Workspace, api: APIClient) -> None:
    create_group(api)
    again = api.post(GROUPS, {"group": {"display_name": "Analysts"}}, format="json")
    assert again.status_code == 409 and again.json()["code"] == 6
    empty = api.post(GROUPS, {"group": {"display_name": " "}}, format="json")
    assert empty.status_code == 400
    assert UserGroup.objects.count() == 1


def test_add_and_remove_members(acme: Workspace, api: APIClient, bob: User) -> None:
    group = create_group(api)
    members = f"{GROUPS}/{group['id']}/users"
    added = api.post(members, {"user": {"name": f"workspaces/acme/users/{bob.pk}"}}, format="json")
    assert added.status_code == 200
    assert added.json()["username"] == "bob" and added.json()["groups"] == ["Analysts"]
    assert [u["username"] for u in api.get(members).json()["users"]] == ["bob"]
    assert api.get(f"{GROUPS}/{group['id']}").json()["member_count"] == 1
    twice = api.post(members, {"user": {"name": f"workspaces/acme/users/{bob.pk}"}}, format="json")
    assert twice.status_code == 409
    assert api.delete(f"{members}/{bob.pk}").status_code == 200
    assert not GroupMembership.objects.exists()


def test_only_workspace_members_can_join(
    acme: Workspace, api: APIClient, make_user: Callable[..., User]
) -> None:
    outsider = make_user("outsider")
    group = create_group(api)
    members = f"{GROUPS}/{group['id']}/users"
    for name in (f"workspaces/acme/users/{outsider.pk}", "workspaces/other/users/1", "bob"):
        response = api.post(members, {"user": {"name": name}}, format="json")
        assert response.status_code == 400, name
    assert not GroupMembership.objects.exists()


def test_members_cannot_manage_groups(
    acme: Workspace, api: APIClient, bob: User, token_client: Callable[..., APIClient]
) -> None:
    group = create_group(api)
    client = token_client(bob)
    assert client.get(GROUPS).status_code == 403
    assert (
        client.post(GROUPS, {"group": {"display_name": "Mine"}}, format="json").status_code == 403
    )
    assert client.delete(f"{GROUPS}/{group['id']}").status_code == 403
    assert list(UserGroup.objects.values_list("name", flat=True)) == ["Analysts"]


def test_group_of_another_workspace_is_not_found(
    acme: Workspace, api: APIClient, alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    other = make_workspace(alice, "other")
    foreign = UserGroup.objects.create(workspace=other, name="Theirs")
    assert api.get(f"{GROUPS}/{foreign.pk}").status_code == 404
    assert api.get(f"{GROUPS}/{foreign.pk}/users").status_code == 404


def test_services_refuse_read_only_tokens_even_for_owner_actions(
    acme: Workspace, alice: User
) -> None:
    """ "administer" also covers reading (audit trail, lists), so services that write
    must refuse a read-only token themselves, not rely on the API layer."""
    from switchyard.access import Principal
    from switchyard.errors import InsufficientScope
    from workspace.services.groups import do_create_group
    from workspace.services.tokens import do_create_workspace_token

    reader, _secret = do_create_workspace_token(
        principal=Principal(alice),
        workspace=acme,
        description="reader",
        access_level="owner",
        scope="workspace:read",
    )
    with pytest.raises(InsufficientScope):
        do_create_group(principal=Principal(alice, reader), workspace=acme, name="Nope")
    assert not UserGroup.objects.exists()
