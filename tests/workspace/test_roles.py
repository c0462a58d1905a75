from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from switchyard.access.roles import CATALOGUE, Scope
from workspace.models import Workspace

pytestmark = pytest.mark.django_db

EXPECTED = {
    "Workspace Owner",
    "Workspace Member",
    "Minimal Workspace Access",
    "Source Admin",
    "Source Read-only",
    "Warehouse Destination Admin",
    "Warehouse Destination Read-only",
    "Tracking Plan Admin",
    "Tracking Plan Read-only",
    "Unify and Engage Admin",
    "Unify and Engage Read-only",
    "Unify Read-only, Engage User",
    "Identity Admin",
    "End User Privacy Admin",
    "Entities Admin",
    "Entities Read-only",
    "PII Access",
}


def test_catalogue_names_every_role_of_the_docs() -> None:
    assert {role.name for role in CATALOGUE} == EXPECTED


def test_label_scopes_only_where_the_docs_allow_them() -> None:
    labelled = {role.name for role in CATALOGUE if Scope.LABELS in role.scopes}
    assert labelled == {
        "Source Admin",
        "Source Read-only",
        "Unify and Engage Admin",
        "Unify and Engage Read-only",
        "Unify Read-only, Engage User",
    }


def test_roles_api_lists_and_gets_the_catalogue(
    alice: User, api: APIClient, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(alice, "acme")
    roles = api.get("/v1beta/workspaces/acme/roles", {"page_size": 100}).json()["roles"]
    assert {r["display_name"] for r in roles} == EXPECTED
    source_admin = api.get("/v1beta/workspaces/acme/roles/source-admin").json()
    assert source_admin["name"] == "workspaces/acme/roles/source-admin"
    assert source_admin["resource_type"] == "source"
    assert source_admin["scopes"] == ["all", "specific", "labels"]
    assert source_admin["actions"] == ["change", "create", "delete", "view"]
    assert api.get("/v1beta/workspaces/acme/roles/nope").status_code == 404
    assert api.get("/v1beta/workspaces/other/roles").status_code == 404
    assert api.post("/v1beta/workspaces/acme/roles", {}, format="json").status_code == 405


def test_roles_page_like_every_list(
    alice: User, api: APIClient, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(alice, "acme")
    seen: list[str] = []
    token, pages = "", 0
    while True:
        params = {"page_size": 2} | ({"page_token": token} if token else {})
        body = api.get("/v1beta/workspaces/acme/roles", params).json()
        assert len(body["roles"]) <= 2
        seen += [r["id"] for r in body["roles"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
        assert pages < 20, "pagination did not terminate"
    assert pages == 9  # 17 roles, 2 a page
    assert seen == sorted(role.slug for role in CATALOGUE)  # by slug, each once
    assert len(api.get("/v1beta/workspaces/acme/roles").json()["roles"]) == 10  # the default
    forged = api.get("/v1beta/workspaces/acme/roles", {"page_token": "forged"})
    assert forged.status_code == 400 and forged.json()["error"] == "invalid page_token"
