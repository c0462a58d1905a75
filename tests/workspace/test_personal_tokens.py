"""Personal tokens, which no workspace lists: the account page and /v1beta/access-tokens
show their user's own, and revoke them (audited, 401 at once); nobody else's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from switchyard.access import Principal
from workspace.models import AccessToken, AuditEntry, Workspace
from workspace.services.tokens import do_create_access_token, do_create_workspace_token

pytestmark = pytest.mark.django_db

MINE = "/v1beta/access-tokens"


def personal(user: User, description: str = "laptop", **extra: str) -> tuple[AccessToken, str]:
    return do_create_access_token(
        principal=Principal(user), user=user, description=description, **extra
    )


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_account_page_lists_only_my_live_personal_tokens(
    alice: User, bob: User, make_workspace: Callable[..., Workspace]
) -> None:
    mine, _ = personal(alice, "alice laptop")
    gone, _ = personal(alice, "old laptop")
    gone.revoke_time = gone.create_time
    gone.save()
    theirs, _ = personal(bob, "bob laptop")
    workspace_token, _ = do_create_workspace_token(
        principal=Principal(alice),
        workspace=make_workspace(alice, "acme"),
        description="workspace-ci-runner",
    )
    page = signed_in(alice).get("/account/").content.decode()
    assert mine.prefix in page and "alice laptop" in page
    # Descriptions and prefixes long enough that a CSRF token can't contain them by chance.
    for other in (gone, theirs, workspace_token):
        assert other.description not in page and other.prefix not in page
    assert 'data-confirm="Revoke' in page and "onsubmit" not in page


def test_account_page_needs_a_sign_in_and_is_in_the_menu(alice: User) -> None:
    response = Client().get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert 'href="/account/"' in signed_in(alice).get("/workspaces/").content.decode()


def test_revoking_on_the_page_refuses_the_token_at_once_and_is_audited(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(alice, "acme")
    token, secret = personal(alice)
    assert bearer(secret).get("/v1beta/workspaces").status_code == 200
    page = signed_in(alice)
    response = page.post(f"/account/tokens/{token.pk}/revoke", follow=True)
    assert "Revoked the token" in response.content.decode()
    assert token.prefix not in page.get("/account/").content.decode()
    answer = bearer(secret).get("/v1beta/workspaces")
    assert answer.status_code == 401 and answer.json()["code"] == 16
    # Filed under no workspace, and read in the trail of the user's workspace.
    entry = AuditEntry.objects.get(action="access_token.revoked")
    assert (entry.workspace, entry.actor_user) == (None, alice)
    trail = page.get("/v1beta/workspaces/acme/audit-events").json()["audit_events"]
    assert f"access-tokens/{token.pk}" in [e["resource_name"] for e in trail]


def test_nobody_revokes_someone_elses_personal_token(
    alice: User, bob: User, make_user: Callable[..., User]
) -> None:
    token, secret = personal(alice)
    root = make_user("root", is_superuser=True)
    for other in (bob, root):
        assert signed_in(other).post(f"/account/tokens/{token.pk}/revoke").status_code == 404
        _, their_secret = personal(other)
        assert bearer(their_secret).delete(f"{MINE}/{token.pk}").status_code == 404
        assert bearer(their_secret).get(f"{MINE}/{token.pk}").status_code == 404
    assert signed_in(alice).get(f"/account/tokens/{token.pk}/revoke").status_code == 405
    assert bearer(secret).get("/v1beta/workspaces").status_code == 200
    assert not AuditEntry.objects.filter(action="access_token.revoked").exists()


def test_api_lists_and_revokes_my_personal_tokens(alice: User, bob: User) -> None:
    token, secret = personal(alice)
    other, other_secret = personal(alice, "ci box")
    personal(bob)
    client = bearer(secret)
    listed = client.get(MINE).json()["access_tokens"]
    assert sorted(t["name"] for t in listed) == sorted(
        f"access-tokens/{t.pk}" for t in (token, other)
    )
    assert all("token" not in t for t in listed)
    assert client.delete(f"{MINE}/{other.pk}").status_code == 200
    assert bearer(other_secret).get(MINE).status_code == 401
    assert [t["id"] for t in client.get(MINE).json()["access_tokens"]] == [str(token.pk)]
    # A token may revoke itself.
    assert client.delete(f"{MINE}/{token.pk}").status_code == 200
    assert client.get(MINE).status_code == 401
    assert AuditEntry.objects.filter(action="access_token.revoked").count() == 2


def test_read_only_and_workspace_tokens_cannot_revoke(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    token, _ = personal(alice)
    _, read_only = personal(alice, "reader", scope=AccessToken.Scope.WORKSPACE_READ)
    response = bearer(read_only).delete(f"{MINE}/{token.pk}")
    assert response.status_code == 403 and response.json()["error"] == "insufficient scope"
    _, workspace_secret = do_create_workspace_token(
        principal=Principal(alice),
        workspace=make_workspace(alice, "acme"),
        description="ci",
        access_level=AccessToken.Access.OWNER,
    )
    for answer in (
        bearer(workspace_secret).get(MINE),
        bearer(workspace_secret).delete(f"{MINE}/{token.pk}"),
    ):
        assert answer.status_code == 403 and answer.json()["code"] == 7
    token.refresh_from_db()
    assert token.revoke_time is None
