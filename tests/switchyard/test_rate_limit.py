from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@override_settings(API_RATE_LIMIT_PER_MINUTE=3)
def test_token_over_its_limit_gets_429_code_8_with_retry_after(
    alice: User, token_client: Callable[..., APIClient]
) -> None:
    client = token_client(alice)
    for _ in range(3):
        assert client.get("/v1beta/workspaces").status_code == 200
    response = client.get("/v1beta/workspaces")
    assert response.status_code == 429
    assert response.json()["code"] == 8
    assert 0 < int(response["Retry-After"]) <= 60
    # The limit is per token: another token of the same user is unaffected.
    assert token_client(alice).get("/v1beta/workspaces").status_code == 200


@override_settings(API_RATE_LIMIT_PER_MINUTE=2)
def test_limited_requests_change_nothing(
    alice: User, token_client: Callable[..., APIClient]
) -> None:
    from workspace.models import Workspace

    client = token_client(alice)
    client.get("/v1beta/workspaces")
    client.get("/v1beta/workspaces")
    response = client.post(
        "/v1beta/workspaces",
        {"workspace": {"name": "workspaces/late", "display_name": "Late"}},
        format="json",
    )
    assert response.status_code == 429
    assert not Workspace.objects.filter(slug="late").exists()
