"""create_access_token and Django's admin: the operator's tools."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from workspace.models import AccessToken

pytestmark = pytest.mark.django_db


def test_create_access_token_prints_a_working_secret_stored_only_hashed(alice: User) -> None:
    out = StringIO()
    call_command("create_access_token", "alice", stdout=out)
    secret = out.getvalue().strip()
    assert secret.startswith("sy_")
    token = AccessToken.objects.get(user=alice)
    assert secret not in (token.secret_hash, token.prefix)
    assert token.last_used_time is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/v1beta/workspaces").status_code == 200
    token.refresh_from_db()
    assert token.last_used_time is not None


def test_create_access_token_read_only(alice: User) -> None:
    out = StringIO()
    call_command("create_access_token", "alice", "--read-only", stdout=out)
    assert AccessToken.objects.get(user=alice).scope == "workspace:read"


def test_create_access_token_unknown_user() -> None:
    with pytest.raises(CommandError, match="no user 'ghost'"):
        call_command("create_access_token", "ghost")


def test_revoked_token_is_unauthenticated(
    alice: User, token_client: Callable[..., APIClient]
) -> None:
    from django.utils import timezone

    client = token_client(alice)
    AccessToken.objects.filter(user=alice).update(revoke_time=timezone.now())
    response = client.get("/v1beta/workspaces")
    assert response.status_code == 401
    assert response.json()["code"] == 16


def test_django_admin_is_for_superusers_only(make_user: Callable[..., User]) -> None:
    client = Client()
    client.force_login(make_user("staff-but-not-super", is_staff=True))
    assert client.get("/django-admin/").status_code == 302  # back to the admin login
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    assert client.get("/django-admin/").status_code == 200
