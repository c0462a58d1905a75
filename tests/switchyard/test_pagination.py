"""List pagination: page_size, opaque keyset page tokens, tampering."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from workspace.models import Membership, Workspace

pytestmark = pytest.mark.django_db


def add_workspaces(user: User, slugs: list[str]) -> None:
    created = Workspace.objects.bulk_create(Workspace(slug=s, display_name=s) for s in slugs)
    Membership.objects.bulk_create(Membership(workspace=w, user=user) for w in created)


def test_walk_250_items_by_7_while_inserting_collects_each_exactly_once(
    alice: User, api: APIClient
) -> None:
    original = [f"ws-{i:03d}" for i in range(250)]
    add_workspaces(alice, original)
    seen: list[str] = []
    token, pages = "", 0
    while True:
        params = {"page_size": 7} | ({"page_token": token} if token else {})
        body = api.get("/v1beta/workspaces", params).json()
        assert len(body["workspaces"]) <= 7
        seen += [w["name"].removeprefix("workspaces/") for w in body["workspaces"]]
        pages += 1
        # Someone creates workspaces while we page through.
        add_workspaces(alice, [f"late-{pages}-a", f"late-{pages}-b"])
        token = body["next_page_token"]
        if not token:
            break
        assert pages < 200, "pagination did not terminate"
    original_seen = [s for s in seen if s.startswith("ws-")]
    assert original_seen == original  # every original item, once, in order
    assert len(seen) == len(set(seen))  # nothing repeated, late arrivals included


def test_default_page_size_is_10_and_last_page_has_empty_token(alice: User, api: APIClient) -> None:
    add_workspaces(alice, [f"ws-{i:02d}" for i in range(12)])
    first = api.get("/v1beta/workspaces").json()
    assert len(first["workspaces"]) == 10
    assert first["next_page_token"]
    second = api.get("/v1beta/workspaces", {"page_token": first["next_page_token"]}).json()
    assert [w["name"] for w in second["workspaces"]] == ["workspaces/ws-10", "workspaces/ws-11"]
    assert second["next_page_token"] == ""


@pytest.mark.parametrize("size", ["0", "101", "-3", "ten", "1.5", " 5", "+5", "\u0665"])
def test_bad_page_size_is_invalid_argument(api: APIClient, size: str) -> None:
    response = api.get("/v1beta/workspaces", {"page_size": size})
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert "page_size" in response.json()["error"]


def test_page_size_100_is_allowed(api: APIClient) -> None:
    assert api.get("/v1beta/workspaces", {"page_size": 100}).status_code == 200


def test_tampered_page_token_is_rejected(alice: User, api: APIClient) -> None:
    add_workspaces(alice, [f"ws-{i:02d}" for i in range(5)])
    token = api.get("/v1beta/workspaces", {"page_size": 2}).json()["next_page_token"]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (flipped, "garbage", token + "x"):
        response = api.get("/v1beta/workspaces", {"page_size": 2, "page_token": bad})
        assert response.status_code == 400
        assert response.json() == {"error": "invalid page_token", "code": 3}


def test_token_from_another_list_is_rejected(
    alice: User, api: APIClient, make_user: Callable[..., User]
) -> None:
    from switchyard.api.pagination import make_token

    foreign = make_token("/v1beta/workspaces/acme/sources:sources", ["2020-01-01", 1])
    response = api.get("/v1beta/workspaces", {"page_token": foreign})
    assert response.status_code == 400
    assert response.json()["code"] == 3


def test_empty_page_size_and_token_mean_the_defaults(api: APIClient) -> None:
    # The document allows empty values (allowEmptyValue) for both.
    response = api.get("/v1beta/workspaces?page_size=&page_token=")
    assert response.status_code == 200
    assert "workspaces" in response.json()
