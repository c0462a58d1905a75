"""Role grants through the API: validation, listing by principal, revocation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import AuditEntry, Membership, RoleGrant, UserGroup, Workspace

pytestmark = pytest.mark.django_db

GRANTS = "/v1beta/workspaces/acme/grants"


@pytest.fixture
def acme(alice: User, bob: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    Membership.objects.create(workspace=workspace, user=bob)
    do_create_source(
        principal=Principal(alice),
        workspace=workspace,
        slug="js",
        display_name="JS",
        labels=["environment:prod"],
    )
    return workspace


def grant(api: APIClient, **fields: object) -> object:
    return api.post(GRANTS, {"grant": fields}, format="json")


def test_grant_label_scope_then_list_and_revoke(
    acme: Workspace, api: APIClient, bob: User, token_client: Callable[..., APIClient]
) -> None:
    bob_api = token_client(bob)
    assert bob_api.get("/v1beta/workspaces/acme/sources").json()["sources"] == []
    response = grant(
        api,
        principal=f"workspaces/acme/users/{bob.pk}",
        role="source-admin",
        scope="labels",
        labels=["environment:prod"],
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["principal"] == f"workspaces/acme/users/{bob.pk}"
    assert body["labels"] == ["environment:prod"] and body["resources"] == []
    assert [
        s["name"] for s in bob_api.get("/v1beta/workspaces/acme/sources").json()["sources"]
    ] == ["workspaces/acme/sources/js"]
    listed = api.get(GRANTS, {"principal": f"workspaces/acme/users/{bob.pk}"}).json()["grants"]
    assert [g["id"] for g in listed] == [body["id"]]
    assert api.delete(f"{GRANTS}/{body['id']}").status_code == 200
    assert bob_api.get("/v1beta/workspaces/acme/sources").json()["sources"] == []
    actions = AuditEntry.objects.filter(resource_type="grant").values_list("action", flat=True)
    assert sorted(actions) == ["grant.created", "grant.deleted"]


def test_group_and_specific_grants(acme: Workspace, api: APIClient, bob: User) -> None:
    group = UserGroup.objects.create(workspace=acme, name="Team")
    response = grant(
        api,
        principal=f"workspaces/acme/groups/{group.pk}",
        role="source-read-only",
        scope="specific",
        resources=["workspaces/acme/sources/js"],
    )
    assert response.status_code == 200, response.content
    assert response.json()["resources"] == ["workspaces/acme/sources/js"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "nope", "scope": "all"}, "unknown role"),
        (
            {"role": "tracking-plan-admin", "scope": "labels", "labels": ["environment:prod"]},
            "takes scope",
        ),
        ({"role": "source-admin", "scope": "labels"}, "at least one label"),
        (
            {"role": "source-admin", "scope": "all", "labels": ["environment:prod"]},
            "only to scope 'labels'",
        ),
        ({"role": "source-admin", "scope": "specific"}, "at least one resource"),
        (
            {
                "role": "source-admin",
                "scope": "labels",
                "labels": ["environment:prod", "environment:dev"],
            },
            "one value per key",
        ),
        ({"role": "source-admin", "scope": "labels", "labels": ["nope:x"]}, "unknown label"),
        (
            {
                "role": "source-admin",
                "scope": "specific",
                "resources": ["workspaces/acme/sources/zz"],
            },
            "unknown source",
        ),
        ({"role": "source-admin", "scope": "everything"}, "scope"),
    ],
)
def test_invalid_grants_are_refused_and_nothing_is_written(
    acme: Workspace, api: APIClient, bob: User, fields: dict, message: str
) -> None:
    response = grant(api, principal=f"workspaces/acme/users/{bob.pk}", **fields)
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]
    assert not RoleGrant.objects.exists()


def test_principal_must_be_in_the_workspace(
    acme: Workspace, api: APIClient, make_user: Callable[..., User]
) -> None:
    outsider = make_user("outsider")
    for principal in (f"workspaces/acme/users/{outsider.pk}", "workspaces/other/users/1", "bob"):
        response = grant(api, principal=principal, role="source-admin", scope="all")
        assert response.status_code == 400, principal
    assert not RoleGrant.objects.exists()


def test_only_owners_grant(
    acme: Workspace, bob: User, token_client: Callable[..., APIClient]
) -> None:
    response = grant(
        token_client(bob),
        principal=f"workspaces/acme/users/{bob.pk}",
        role="source-admin",
        scope="all",
    )
    assert response.status_code == 403
    assert not RoleGrant.objects.exists()


def test_token_grants_give_a_member_token_access(acme: Workspace, api: APIClient) -> None:
    created = api.post(
        "/v1beta/workspaces/acme/access-tokens",
        {"access_token": {"description": "ci", "access": "member"}},
        format="json",
    ).json()
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {created['token']}")
    assert reader.get("/v1beta/workspaces/acme/sources").json()["sources"] == []
    response = grant(
        api,
        principal=f"workspaces/acme/access-tokens/{created['id']}",
        role="source-read-only",
        scope="all",
    )
    assert response.status_code == 200, response.content
    assert len(reader.get("/v1beta/workspaces/acme/sources").json()["sources"]) == 1
