"""manage.py create_access_token: a workspace's token (listed, revocable, audited), or a
superuser's personal token, and nothing written when it refuses."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from workspace.models import AccessToken, AuditEntry, Membership, Workspace

pytestmark = pytest.mark.django_db

TOKENS = "/v1beta/workspaces/acme/access-tokens"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_access_token", *args, stdout=out)
    return out.getvalue().strip()


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def nothing_written() -> tuple[int, int]:
    return AccessToken.objects.count(), AuditEntry.objects.count()


def test_workspace_token_is_listed_revocable_and_audited(
    acme: Workspace, alice: User, api: APIClient
) -> None:
    secret = run("alice", "--workspace", "acme", "--access", "owner", "--description", "deploys")
    token = AccessToken.objects.get(workspace=acme)
    assert secret.startswith("sy_") and token.prefix == secret[:10]
    assert secret not in (token.secret_hash, token.description)
    assert (token.user, token.access, token.scope) == (alice, "owner", "workspace")
    assert bearer(secret).get("/v1beta/workspaces/acme").status_code == 200
    # Listed where the workspace's owners manage tokens: the API and the Tokens tab.
    listed = api.get(TOKENS).json()["access_tokens"]
    assert [(t["id"], t["creator"], t["description"]) for t in listed] == [
        (str(token.pk), "alice", "deploys")
    ]
    page = Client()
    page.force_login(alice)
    assert token.prefix in page.get("/workspaces/acme/settings/access/tokens/").content.decode()
    created = AuditEntry.objects.get(action="access_token.created", workspace=acme)
    assert created.actor_user == alice
    assert created.resource_name == f"workspaces/acme/access-tokens/{token.pk}"
    # Revocable like any workspace token, and the next request is refused.
    assert api.delete(f"{TOKENS}/{token.pk}").status_code == 200
    assert bearer(secret).get("/v1beta/workspaces/acme").status_code == 401
    assert AuditEntry.objects.filter(action="access_token.revoked", workspace=acme).count() == 1


def test_workspace_by_id_read_only_member_access_by_default(acme: Workspace) -> None:
    secret = run("alice", "--workspace", acme.pk, "--read-only")
    token = AccessToken.objects.get(workspace=acme)
    assert (token.access, token.scope) == ("member", "workspace:read")
    client = bearer(secret)
    assert client.get("/v1beta/workspaces/acme").status_code == 200
    rename = {
        "workspace": {"display_name": "X"},
        "update_mask": {"paths": ["workspace.display_name"]},
    }
    assert client.patch("/v1beta/workspaces/acme", rename, format="json").status_code == 403


@pytest.mark.parametrize("role", [None, Membership.Role.MEMBER])
def test_only_an_owner_of_the_workspace_gets_one(
    acme: Workspace, bob: User, role: str | None
) -> None:
    if role is not None:
        Membership.objects.create(workspace=acme, user=bob, role=role)
    before = nothing_written()
    with pytest.raises(CommandError, match="bob may not create tokens in workspace 'acme'"):
        run("bob", "--workspace", "acme")
    assert nothing_written() == before


def test_unknown_workspace_user_or_inactive_user(
    acme: Workspace, make_user: Callable[..., User]
) -> None:
    make_user("gone", is_active=False)
    before = nothing_written()
    with pytest.raises(CommandError, match="no workspace 'nope'"):
        run("alice", "--workspace", "nope")
    with pytest.raises(CommandError, match="no user 'ghost'"):
        run("ghost", "--workspace", "acme")
    with pytest.raises(CommandError, match="'gone' is inactive"):
        run("gone", "--workspace", "acme")
    assert nothing_written() == before


def test_a_workspace_or_the_superuser_option_must_be_named(
    acme: Workspace, make_user: Callable[..., User]
) -> None:
    make_user("root", is_superuser=True)
    before = nothing_written()
    with pytest.raises(CommandError, match="--workspace SLUG_OR_ID"):
        run("alice")
    with pytest.raises(CommandError, match="not both"):
        run("root", "--workspace", "acme", "--personal-superuser-token")
    with pytest.raises(CommandError, match="--access applies to workspace tokens"):
        run("root", "--personal-superuser-token", "--access", "owner")
    assert nothing_written() == before


def test_personal_token_is_for_superusers_only(acme: Workspace) -> None:
    before = nothing_written()
    with pytest.raises(CommandError, match="alice is not an active superuser"):
        run("alice", "--personal-superuser-token")
    assert nothing_written() == before


def test_superuser_personal_token_bootstraps_a_fresh_install(
    make_user: Callable[..., User],
) -> None:
    """The README's quick start: no workspace exists yet; the superuser's personal
    token creates one, and is listed (and revoked) on the account page only."""
    root = make_user("root", is_superuser=True, is_staff=True)
    secret = run("root", "--personal-superuser-token")
    token = AccessToken.objects.get(user=root)
    assert token.workspace is None
    client = bearer(secret)
    body = {"workspace": {"name": "workspaces/acme", "display_name": "Acme"}}
    assert client.post("/v1beta/workspaces", body, format="json").status_code == 200
    assert client.get("/v1beta/workspaces/acme/access-tokens").json()["access_tokens"] == []
    assert AuditEntry.objects.get(action="access_token.created").workspace is None
    page = Client()
    page.force_login(root)
    assert token.prefix in page.get("/account/").content.decode()
    response = page.post(f"/account/tokens/{token.pk}/revoke")
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert client.get("/v1beta/workspaces").status_code == 401
    revoked = AuditEntry.objects.get(action="access_token.revoked")
    assert (revoked.actor_user, revoked.resource_name) == (root, f"access-tokens/{token.pk}")
