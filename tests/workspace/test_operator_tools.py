"""The operator's tools: Django's admin, and revoked tokens (create_access_token has
tests/workspace/test_create_access_token_command.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from workspace.models import AccessToken

pytestmark = pytest.mark.django_db


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
