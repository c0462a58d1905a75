"""The permission matrix: what each source role and scope lets a member do, API and UI."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from connections.models import Source
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import Label, Membership, Workspace
from workspace.services.grants import do_create_grant

pytestmark = pytest.mark.django_db

API = "/v1beta/workspaces/acme/sources"
UI = "/workspaces/acme/sources"
RENAME = {"source": {"display_name": "Renamed"}, "update_mask": {"paths": ["source.display_name"]}}

# (role, scope) -> sources listed, whether it may change/delete what it sees, may create
MATRIX = {
    ("owner", None): (["dev-1", "other", "prod-1"], True, True),
    ("minimal", None): ([], False, False),
    ("source-admin", "all"): (["dev-1", "other", "prod-1"], True, True),
    ("source-admin", "specific"): (["prod-1"], True, False),
    ("source-admin", "labels"): (["prod-1"], True, False),
    ("source-read-only", "all"): (["dev-1", "other", "prod-1"], False, False),
    ("source-read-only", "specific"): (["prod-1"], False, False),
    ("source-read-only", "labels"): (["prod-1"], False, False),
}
CASES = list(MATRIX)


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    for slug, labels in (
        ("prod-1", ["environment:prod"]),
        ("dev-1", ["environment:dev"]),
        ("other", []),
    ):
        do_create_source(
            principal=Principal(alice),
            workspace=workspace,
            slug=slug,
            display_name=slug,
            labels=labels,
        )
    return workspace


@pytest.fixture
def subject(
    request: pytest.FixtureRequest, acme: Workspace, alice: User, make_user: Callable[..., User]
) -> tuple[User, tuple[list[str], bool, bool]]:
    role, scope = request.param
    if role == "owner":
        return alice, MATRIX[(role, scope)]
    user = make_user(f"{role}-{scope}")
    Membership.objects.create(workspace=acme, user=user)
    if role != "minimal":
        do_create_grant(
            principal=Principal(alice),
            workspace=acme,
            grantee=user,
            role=role,
            scope=scope,
            labels=[Label.objects.get(workspace=acme, key="environment", value="prod")]
            if scope == "labels"
            else None,
            resources=[Source.objects.get(slug="prod-1")] if scope == "specific" else None,
        )
    return user, MATRIX[(role, scope)]


def names_of(rows: list[dict]) -> list[str]:
    return sorted(r["name"].rsplit("/", 1)[1] for r in rows)


@pytest.mark.parametrize("subject", CASES, indirect=True, ids=[f"{r}-{s}" for r, s in CASES])
def test_api(subject: tuple[User, tuple], token_client: Callable[..., APIClient]) -> None:
    user, (listed, may_write, may_create) = subject
    client = token_client(user)
    assert names_of(client.get(API).json()["sources"]) == listed
    for slug in ("prod-1", "dev-1", "other"):
        read = client.get(f"{API}/{slug}")
        assert read.status_code == (200 if slug in listed else 404), slug
        rename = client.patch(f"{API}/{slug}", RENAME, format="json")
        expected = 404 if slug not in listed else 200 if may_write else 403
        assert rename.status_code == expected, (slug, rename.content)
    create = client.post(
        API,
        {"source": {"name": "workspaces/acme/sources/new", "display_name": "New"}},
        format="json",
    )
    assert create.status_code == (200 if may_create else 403), create.content
    assert Source.objects.filter(slug="new").exists() == may_create
    renamed = set(Source.objects.filter(display_name="Renamed").values_list("slug", flat=True))
    assert renamed == (set(listed) if may_write else set())
    for slug in ("prod-1", "dev-1", "other"):
        deleted = client.delete(f"{API}/{slug}")
        assert deleted.status_code == (404 if slug not in listed else 200 if may_write else 403)
    remaining = set(Source.objects.values_list("slug", flat=True)) - {"new"}
    assert remaining == (
        {"prod-1", "dev-1", "other"} - set(listed) if may_write else {"prod-1", "dev-1", "other"}
    )


@pytest.mark.parametrize("subject", CASES, indirect=True, ids=[f"{r}-{s}" for r, s in CASES])
def test_ui(subject: tuple[User, tuple]) -> None:
    user, (listed, may_write, may_create) = subject
    client = Client()
    client.force_login(user)
    page = client.get(f"{UI}/").content.decode()
    shown = sorted(s for s in ("prod-1", "dev-1", "other") if f'data-source="{s}"' in page)
    assert shown == listed
    assert ("Create source" in page) == may_create
    for slug in ("prod-1", "dev-1", "other"):
        detail = client.get(f"{UI}/{slug}/")
        assert detail.status_code == (200 if slug in listed else 404)
        if slug in listed:
            assert ('id="source-settings"' in detail.content.decode()) == may_write
        saved = client.post(f"{UI}/{slug}/", {"display_name": "Renamed", "labels": ""})
        if slug not in listed:
            assert saved.status_code == 404
    renamed = set(Source.objects.filter(display_name="Renamed").values_list("slug", flat=True))
    assert renamed == (set(listed) if may_write else set())
    client.post(
        f"{UI}/", {"display_name": "New", "slug": "new", "labels": "", "source_type": "python"}
    )
    assert Source.objects.filter(slug="new").exists() == may_create


def test_a_source_holds_one_value_per_label_key(acme: Workspace, api: APIClient) -> None:
    body = {
        "source": {"labels": ["environment:prod", "environment:dev"]},
        "update_mask": {"paths": ["source.labels"]},
    }
    response = api.patch(f"{API}/prod-1", body, format="json")
    assert response.status_code == 400
    assert "one value per label key" in response.json()["error"]
    assert Source.objects.get(slug="prod-1").label_names == ["environment:prod"]
    body["source"]["labels"] = ["environment:dev"]
    assert api.patch(f"{API}/prod-1", body, format="json").json()["labels"] == ["environment:dev"]
