"""Workspace access tokens: created by owners, secret shown once, scoped, revocable."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from workspace.models import AccessToken, AuditEntry, Membership, Workspace

pytestmark = pytest.mark.django_db

TOKENS = "/v1beta/workspaces/acme/access-tokens"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


def create(api: APIClient, **fields: object) -> dict:
    body = {"access_token": {"description": "CI deploys", **fields}}
    response = api.post(TOKENS, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_create_shows_the_secret_once_and_stores_only_its_hash(
    acme: Workspace, api: APIClient
) -> None:
    created = create(api, access="owner")
    secret = created["token"]
    assert secret.startswith("sy_") and created["prefix"] == secret[:10]
    assert created["name"] == f"workspaces/acme/access-tokens/{created['id']}"
    assert created["creator"] == "alice" and created["access"] == "owner"
    row = AccessToken.objects.get(pk=created["id"])
    assert row.workspace == acme
    assert secret not in (row.secret_hash, row.prefix, row.description)
    listed = api.get(TOKENS).json()["access_tokens"]
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0]
    assert "token" not in api.get(f"{TOKENS}/{created['id']}").json()
    audit = AuditEntry.objects.get(action="access_token.created", workspace=acme)
    assert secret not in str(audit.after)


def test_description_is_required(acme: Workspace, api: APIClient) -> None:
    for body in ({"description": ""}, {"description": "  "}, {}):
        response = api.post(TOKENS, {"access_token": body}, format="json")
        assert response.status_code == 400 and response.json()["code"] == 3
    assert not AccessToken.objects.filter(workspace=acme).exists()


def test_member_token_reads_its_workspace_only(
    acme: Workspace, alice: User, api: APIClient, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(alice, "other")
    client = bearer(create(api, access="member")["token"])
    listed = client.get("/v1beta/workspaces").json()["workspaces"]
    assert [w["name"] for w in listed] == ["workspaces/acme"]
    assert client.get("/v1beta/workspaces/other").status_code == 404
    rename = {
        "workspace": {"display_name": "X"},
        "update_mask": {"paths": ["workspace.display_name"]},
    }
    assert client.patch("/v1beta/workspaces/acme", rename, format="json").status_code == 403
    assert client.get(TOKENS).status_code == 403
    new = {"workspace": {"name": "workspaces/by-token", "display_name": "T"}}
    assert client.post("/v1beta/workspaces", new, format="json").status_code == 403
    assert not Workspace.objects.filter(slug="by-token").exists()


def test_owner_token_administers_its_workspace(acme: Workspace, api: APIClient) -> None:
    client = bearer(create(api, access="owner")["token"])
    rename = {
        "workspace": {"display_name": "By token"},
        "update_mask": {"paths": ["workspace.display_name"]},
    }
    assert client.patch("/v1beta/workspaces/acme", rename, format="json").status_code == 200
    entry = AuditEntry.objects.get(action="workspace.updated")
    assert entry.actor_token is not None and entry.actor_token.workspace == acme
    assert client.get("/v1beta/workspaces/acme/audit-events").status_code == 200


def test_read_only_token_answers_insufficient_scope_on_writes(
    acme: Workspace, api: APIClient
) -> None:
    client = bearer(create(api, access="owner", scope="workspace:read")["token"])
    assert client.get("/v1beta/workspaces/acme").status_code == 200
    response = client.post(TOKENS, {"access_token": {"description": "x"}}, format="json")
    assert response.status_code == 403
    assert response.json() == {"error": "insufficient scope", "code": 7}


def test_revoke_takes_effect_on_the_next_request(acme: Workspace, api: APIClient) -> None:
    created = create(api)
    client = bearer(created["token"])
    assert client.get("/v1beta/workspaces/acme").status_code == 200
    assert api.delete(f"{TOKENS}/{created['id']}").status_code == 200
    response = client.get("/v1beta/workspaces/acme")
    assert response.status_code == 401 and response.json()["code"] == 16
    assert api.get(TOKENS).json()["access_tokens"] == []
    assert AuditEntry.objects.filter(action="access_token.revoked").count() == 1
    assert api.delete(f"{TOKENS}/{created['id']}").status_code == 404


def test_last_used_time_is_recorded(acme: Workspace, api: APIClient) -> None:
    created = create(api)
    assert created["last_used_time"] is None
    bearer(created["token"]).get("/v1beta/workspaces")
    assert api.get(f"{TOKENS}/{created['id']}").json()["last_used_time"] is not None


def test_workspace_token_outlives_its_creators_membership(
    acme: Workspace, alice: User, bob: User, token_client: Callable[..., APIClient]
) -> None:
    Membership.objects.create(workspace=acme, user=bob, role=Membership.Role.OWNER)
    created = create(token_client(bob))
    Membership.objects.filter(workspace=acme, user=bob).delete()
    assert bearer(created["token"]).get("/v1beta/workspaces/acme").status_code == 200


def test_only_owners_manage_tokens(
    acme: Workspace, bob: User, token_client: Callable[..., APIClient]
) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    member = token_client(bob)
    assert member.get(TOKENS).status_code == 403
    assert (
        member.post(TOKENS, {"access_token": {"description": "x"}}, format="json").status_code
        == 403
    )
    assert not AccessToken.objects.filter(workspace=acme).exists()


def test_update_changes_only_the_description(acme: Workspace, api: APIClient) -> None:
    created = create(api)
    path = f"{TOKENS}/{created['id']}"
    body = {
        "access_token": {"description": "Renamed"},
        "update_mask": {"paths": ["access_token.description"]},
    }
    assert api.patch(path, body, format="json").json()["description"] == "Renamed"
    escalate = {
        "access_token": {"access": "owner"},
        "update_mask": {"paths": ["access_token.access"]},
    }
    response = api.patch(path, escalate, format="json")
    assert response.status_code == 400 and "read-only" in response.json()["error"]
    assert AccessToken.objects.get(pk=created["id"]).access == "member"


def test_a_workspace_token_cannot_mint_tokens(acme: Workspace, api: APIClient) -> None:
    owner_token = bearer(create(api, access="owner")["token"])
    response = owner_token.post(
        TOKENS, {"access_token": {"description": "minted", "access": "owner"}}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == 7
    assert not AccessToken.objects.filter(description="minted").exists()
    assert AuditEntry.objects.filter(action="access_token.created", workspace=acme).count() == 1
