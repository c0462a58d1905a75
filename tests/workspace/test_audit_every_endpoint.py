"""Every mutating API endpoint writes exactly one audit entry, with the changed fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import AccessToken, AuditEntry, Membership, UserGroup, Workspace
from workspace.services.grants import do_create_grant
from workspace.services.members import do_invite_member
from workspace.services.tokens import do_create_workspace_token

pytestmark = pytest.mark.django_db

W = "/v1beta/workspaces/acme"


@pytest.fixture
def world(alice: User, bob: User, make_workspace: Callable[..., Workspace]) -> dict[str, Any]:
    owner = Principal(alice)
    acme = make_workspace(alice, "acme", "Acme")
    Membership.objects.create(workspace=acme, user=bob)
    group = UserGroup.objects.create(workspace=acme, name="Team")
    do_create_source(principal=owner, workspace=acme, slug="js", display_name="JS")
    token, _ = do_create_workspace_token(principal=owner, workspace=acme, description="ci")
    invitation, _ = do_invite_member(principal=owner, workspace=acme, email="c@example.com")
    grant = do_create_grant(
        principal=owner, workspace=acme, grantee=bob, role="source-admin", scope="all"
    )
    return {
        "bob": bob.pk,
        "group": group.pk,
        "token": token.pk,
        "invite": invitation.pk,
        "grant": grant.pk,
    }


def mask(key: str, field: str, value: object) -> dict:
    return {key: {field: value}, "update_mask": {"paths": [f"{key}.{field}"]}}


ENDPOINTS: list[tuple[str, str, Any, str, dict | None]] = [
    (
        "post",
        "/sources",
        {"source": {"name": "workspaces/acme/sources/ios", "display_name": "iOS"}},
        "source.created",
        None,
    ),
    (
        "patch",
        "/sources/js",
        mask("source", "display_name", "Web"),
        "source.updated",
        {"display_name": "Web"},
    ),
    ("delete", "/sources/js", None, "source.deleted", None),
    ("post", "/labels", {"label": {"key": "team", "value": "core"}}, "label.created", None),
    (
        "patch",
        "/labels/environment:dev",
        mask("label", "description", "Dev"),
        "label.updated",
        {"description": "Dev"},
    ),
    ("delete", "/labels/environment:dev", None, "label.deleted", None),
    ("post", "/groups", {"group": {"display_name": "Ops"}}, "group.created", None),
    (
        "patch",
        "/groups/{group}",
        mask("group", "display_name", "Core"),
        "group.updated",
        {"name": "Core"},
    ),
    ("delete", "/groups/{group}", None, "group.deleted", None),
    (
        "post",
        "/groups/{group}/users",
        {"user": {"name": "workspaces/acme/users/{bob}"}},
        "group.member_added",
        {"user": "bob"},
    ),
    ("post", "/invites", {"invite": {"email": "d@example.com"}}, "invite.created", None),
    ("delete", "/invites/{invite}", None, "invite.revoked", None),
    ("patch", "/users/{bob}", mask("user", "role", "owner"), "user.updated", {"role": "owner"}),
    ("delete", "/users/{bob}", None, "user.removed", None),
    (
        "post",
        "/access-tokens",
        {"access_token": {"description": "deploys"}},
        "access_token.created",
        None,
    ),
    (
        "patch",
        "/access-tokens/{token}",
        mask("access_token", "description", "x"),
        "access_token.updated",
        {"description": "x"},
    ),
    ("delete", "/access-tokens/{token}", None, "access_token.revoked", None),
    (
        "post",
        "/grants",
        {
            "grant": {
                "principal": "workspaces/acme/users/{bob}",
                "role": "source-read-only",
                "scope": "all",
            }
        },
        "grant.created",
        None,
    ),
    ("delete", "/grants/{grant}", None, "grant.deleted", None),
]


def fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


@pytest.mark.parametrize(
    ("method", "path", "body", "action", "after"),
    ENDPOINTS,
    ids=[f"{e[0]} {e[1]}" for e in ENDPOINTS],
)
def test_one_entry_per_mutation(
    world: dict[str, Any],
    api: APIClient,
    method: str,
    path: str,
    body: Any,
    action: str,
    after: dict | None,
) -> None:
    before = AuditEntry.objects.count()
    response = getattr(api, method)(W + fill(path, world), fill(body, world), format="json")
    assert response.status_code == 200, response.content
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.latest("pk")  # times come from a clock, ids from a sequence
    assert entry.action == action
    assert entry.actor_token is not None  # the API client's token is the actor
    if after is not None:
        assert entry.after == after


def test_token_secrets_never_reach_the_trail(world: dict[str, Any], api: APIClient) -> None:
    secret = api.post(
        f"{W}/access-tokens", {"access_token": {"description": "s"}}, format="json"
    ).json()["token"]
    assert not any(
        secret in str(e.after) or secret in str(e.before) for e in AuditEntry.objects.all()
    )
    assert AccessToken.objects.filter(description="s").exists()
