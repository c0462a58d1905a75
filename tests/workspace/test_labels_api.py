"""The label catalogue through the REST API: owners manage it, the workspace reads it."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from switchyard.access import Principal
from switchyard.errors import InvalidArgument
from workspace import selectors
from workspace.models import AuditEntry, Label, Membership, Workspace
from workspace.services import labels as service

pytestmark = pytest.mark.django_db

LABELS = "/v1beta/workspaces/acme/labels"
DEFAULTS = [("environment", "dev"), ("environment", "prod")]
RULE = "begins with a letter and contains only letters, digits, hyphens or underscores, 1-64"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def member(acme: Workspace, bob: User, token_client: Callable[..., APIClient]) -> APIClient:
    Membership.objects.create(workspace=acme, user=bob)
    return token_client(bob)


def state(workspace: Workspace) -> tuple[list[tuple[str, str, str]], int]:
    """Everything a label write could change: the catalogue and the label audit entries."""
    catalogue = list(
        Label.objects.filter(workspace=workspace)
        .order_by("key", "value")
        .values_list("key", "value", "description")
    )
    return catalogue, AuditEntry.objects.filter(resource_type="label").count()


def create(api: APIClient, key: str, value: str, description: str = "") -> dict:
    body = {"label": {"key": key, "value": value, "description": description}}
    response = api.post(LABELS, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_new_workspace_has_the_default_environment_labels(api: APIClient) -> None:
    body = {"workspace": {"name": "workspaces/fresh", "display_name": "Fresh"}}
    assert api.post("/v1beta/workspaces", body, format="json").status_code == 200
    listed = api.get("/v1beta/workspaces/fresh/labels").json()
    assert [(item["key"], item["value"]) for item in listed["labels"]] == DEFAULTS
    assert listed["labels"][1]["name"] == "workspaces/fresh/labels/environment:prod"
    # Part of the workspace's creation: that is the one audit entry.
    assert not AuditEntry.objects.filter(resource_type="label").exists()


def test_create_returns_the_label_and_audits_it_once(acme: Workspace, api: APIClient) -> None:
    created = create(api, "team", "growth", "The growth team")
    assert created["name"] == "workspaces/acme/labels/team:growth"
    assert (created["key"], created["value"]) == ("team", "growth")
    assert created["description"] == "The growth team"
    assert created["create_time"].endswith("Z")
    assert api.get(f"{LABELS}/team:growth").json() == created
    entry = AuditEntry.objects.get(resource_type="label")
    assert entry.action == "label.created" and entry.workspace == acme
    assert entry.resource_name == "workspaces/acme/labels/team:growth"
    assert entry.after == {"key": "team", "value": "growth", "description": "The growth team"}


GOOD = ["env", "E", "prod_eu", "prod-eu", "a1", "A-_9", "x" * 64]
BAD = {
    "leading digit": "1env",
    "leading hyphen": "-env",
    "leading underscore": "_env",
    "space": "prod env",
    "colon": "env:prod",
    "slash": "env/prod",
    "unicode letter": "café",
    "unicode digit": "env٣",
    "trailing newline": "env\n",
    "empty": "",
    "65 chars": "x" * 65,
}


@pytest.mark.parametrize("part", GOOD)
def test_good_keys_and_values_are_accepted(acme: Workspace, api: APIClient, part: str) -> None:
    create(api, part, "v")
    create(api, "k", part)
    assert Label.objects.filter(workspace=acme, key=part, value="v").exists()
    assert Label.objects.filter(workspace=acme, key="k", value=part).exists()


@pytest.mark.parametrize("field", ["key", "value"])
@pytest.mark.parametrize("part", BAD.values(), ids=BAD.keys())
def test_bad_keys_and_values_name_the_part_and_the_rule(
    acme: Workspace, api: APIClient, field: str, part: str
) -> None:
    before = state(acme)
    fields = {"key": "team", "value": "growth", field: part}
    response = api.post(LABELS, {"label": fields}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == 3
    assert error["error"].startswith(f"invalid label {field} {part!r}: a label {field} {RULE}")
    assert state(acme) == before


def test_bad_parts_raise_invalid_argument_with_the_field(acme: Workspace, alice: User) -> None:
    for field, key, value in (("key", "9lives", "x"), ("value", "x", "no way")):
        with pytest.raises(InvalidArgument) as caught:
            service.do_create_label(
                principal=Principal(alice), workspace=acme, key=key, value=value
            )
        assert caught.value.field == field


def test_create_needs_key_and_value(acme: Workspace, api: APIClient) -> None:
    before = state(acme)
    for body in ({"label": {"key": "team"}}, {"label": {"value": "x"}}, {"key": "a", "value": "b"}):
        response = api.post(LABELS, body, format="json")
        assert response.status_code == 400 and response.json()["code"] == 3
    assert state(acme) == before


def test_description_longer_than_200_is_refused(acme: Workspace, api: APIClient) -> None:
    before = state(acme)
    body = {"label": {"key": "team", "value": "growth", "description": "d" * 201}}
    response = api.post(LABELS, body, format="json")
    assert response.status_code == 400 and "description" in response.json()["error"]
    assert state(acme) == before


def test_duplicate_is_already_exists_naming_the_label(acme: Workspace, api: APIClient) -> None:
    before = state(acme)
    body = {"label": {"key": "environment", "value": "prod"}}
    response = api.post(LABELS, body, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "error": "label environment:prod already exists in this workspace",
        "code": 6,
    }
    assert state(acme) == before


def test_same_label_in_another_workspace_is_fine(
    acme: Workspace, bob: User, make_workspace: Callable[..., Workspace], api: APIClient
) -> None:
    other = make_workspace(bob, "other")
    create(api, "team", "growth")
    service.do_create_label(principal=Principal(bob), workspace=other, key="team", value="growth")
    assert Label.objects.filter(key="team", value="growth").count() == 2


def test_members_read_the_catalogue_but_cannot_change_it(
    acme: Workspace, api: APIClient, member: APIClient
) -> None:
    create(api, "team", "growth", "Growth")
    listed = member.get(LABELS).json()["labels"]
    assert [(item["key"], item["value"]) for item in listed] == [*DEFAULTS, ("team", "growth")]
    assert member.get(f"{LABELS}/team:growth").status_code == 200
    before = state(acme)
    patch = {"label": {"description": "Mine"}, "update_mask": {"paths": ["label.description"]}}
    for response in (
        member.post(LABELS, {"label": {"key": "team", "value": "sales"}}, format="json"),
        member.patch(f"{LABELS}/team:growth", patch, format="json"),
        member.delete(f"{LABELS}/team:growth"),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == 7
    assert state(acme) == before


def test_outsiders_get_not_found_for_everything(
    acme: Workspace, bob: User, token_client: Callable[..., APIClient]
) -> None:
    outsider = token_client(bob)
    before = state(acme)
    patch = {"label": {"description": "x"}, "update_mask": {"paths": ["label.description"]}}
    for response in (
        outsider.get(LABELS),
        outsider.get(f"{LABELS}/environment:prod"),
        outsider.post(LABELS, {"label": {"key": "team", "value": "x"}}, format="json"),
        outsider.patch(f"{LABELS}/environment:prod", patch, format="json"),
        outsider.delete(f"{LABELS}/environment:prod"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "workspace 'acme' not found", "code": 5}
    assert state(acme) == before


def test_read_only_token_reads_but_writes_answer_insufficient_scope(
    acme: Workspace, alice: User, token_client: Callable[..., APIClient]
) -> None:
    reader = token_client(alice, read_only=True)
    assert reader.get(LABELS).status_code == 200
    before = state(acme)
    patch = {"label": {"description": "x"}, "update_mask": {"paths": ["label.description"]}}
    for response in (
        reader.post(LABELS, {"label": {"key": "team", "value": "x"}}, format="json"),
        reader.patch(f"{LABELS}/environment:prod", patch, format="json"),
        reader.delete(f"{LABELS}/environment:prod"),
    ):
        assert response.status_code == 403
        assert response.json() == {"error": "insufficient scope", "code": 7}
    assert state(acme) == before


def test_get_unknown_or_malformed_label_is_not_found(acme: Workspace, api: APIClient) -> None:
    for key in ("environment:staging", "environment", "nope:x"):
        response = api.get(f"{LABELS}/{key}")
        assert response.status_code == 404
        assert response.json() == {"error": f"label {key!r} not found", "code": 5}


def test_patch_description_with_a_mask(acme: Workspace, api: APIClient) -> None:
    body = {
        "label": {"description": "Live traffic", "key": "ignored"},
        "update_mask": {"paths": ["label.description"]},
    }
    response = api.patch(f"{LABELS}/environment:prod", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["description"] == "Live traffic"
    assert response.json()["key"] == "environment"
    label = Label.objects.get(workspace=acme, key="environment", value="prod")
    assert label.description == "Live traffic"
    entry = AuditEntry.objects.get(resource_type="label")
    assert entry.action == "label.updated"
    assert entry.resource_name == "workspaces/acme/labels/environment:prod"
    assert entry.before == {"description": "Production"}
    assert entry.after == {"description": "Live traffic"}


def test_patch_without_a_mask_or_without_a_change_writes_nothing(
    acme: Workspace, api: APIClient
) -> None:
    before = state(acme)
    unmasked = {"label": {"description": "Changed"}}
    assert api.patch(f"{LABELS}/environment:prod", unmasked, format="json").status_code == 200
    same = {"label": {"description": "Production"}, "update_mask": {"paths": ["label.description"]}}
    assert api.patch(f"{LABELS}/environment:prod", same, format="json").status_code == 200
    assert state(acme) == before


@pytest.mark.parametrize("path", ["label.key", "label.value", "label.name", "label.create_time"])
def test_patch_of_a_read_only_path_names_it_and_writes_nothing(
    acme: Workspace, api: APIClient, path: str
) -> None:
    before = state(acme)
    body = {
        "label": {"key": "env", "value": "live", "description": "Renamed"},
        "update_mask": {"paths": ["label.description", path]},
    }
    response = api.patch(f"{LABELS}/environment:prod", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": f"update_mask path {path!r} is read-only", "code": 3}
    assert state(acme) == before


def test_service_refuses_renames(acme: Workspace, alice: User) -> None:
    label = Label.objects.get(workspace=acme, key="environment", value="prod")
    before = state(acme)
    with pytest.raises(InvalidArgument, match="labels cannot be renamed"):
        service.do_update_label(principal=Principal(alice), label=label, changes={"key": "env"})
    assert state(acme) == before


def test_delete_removes_the_label_and_audits_it_once(acme: Workspace, api: APIClient) -> None:
    create(api, "team", "growth", "Growth")
    AuditEntry.objects.filter(resource_type="label").delete()
    response = api.delete(f"{LABELS}/team:growth")
    assert response.status_code == 200 and response.json() == {}
    assert not Label.objects.filter(workspace=acme, key="team").exists()
    entry = AuditEntry.objects.get(resource_type="label")
    assert entry.action == "label.deleted" and entry.workspace == acme
    assert entry.resource_name == "workspaces/acme/labels/team:growth"
    assert entry.before == {"key": "team", "value": "growth", "description": "Growth"}
    assert api.get(f"{LABELS}/team:growth").status_code == 404
    assert api.delete(f"{LABELS}/team:growth").status_code == 404


def test_delete_of_a_label_in_use_is_refused_and_names_the_usages(
    acme: Workspace, api: APIClient, alice: User, bob: User
) -> None:
    from connections.services.sources import do_create_source
    from switchyard.access import Principal
    from workspace.models import Membership
    from workspace.services.grants import do_create_grant

    do_create_source(
        principal=Principal(alice),
        workspace=acme,
        slug="js",
        display_name="JS",
        labels=["environment:prod"],
    )
    Membership.objects.create(workspace=acme, user=bob)
    do_create_grant(
        principal=Principal(alice),
        workspace=acme,
        grantee=bob,
        role="source-admin",
        scope="labels",
        labels=[Label.objects.get(workspace=acme, key="environment", value="prod")],
    )
    before = state(acme)
    response = api.delete(f"{LABELS}/environment:prod")
    assert response.status_code == 400
    assert response.json() == {
        "error": "label environment:prod is in use: source workspaces/acme/sources/js, "
        "grant of source-admin to bob",
        "code": 9,
    }
    assert state(acme) == before


def test_an_unused_label_has_no_usages(acme: Workspace) -> None:
    label = Label.objects.get(workspace=acme, key="environment", value="prod")
    assert selectors.label_usages(label) == []


def test_list_pages_through_the_catalogue_by_key_then_value(
    acme: Workspace, api: APIClient
) -> None:
    added = [("team", f"t{i:02d}") for i in range(6)]
    added += [
        ("region", "us"),
        ("region", "eu"),
        ("alpha", "z"),
        ("alpha", "a"),
        ("team", "growth"),
    ]
    for key, value in added:
        create(api, key, value)
    pages: list[list[str]] = []
    token = ""
    while True:
        page = api.get(LABELS, {"page_token": token} if token else {}).json()
        pages.append([item["name"].rsplit("/", 1)[1] for item in page["labels"]])
        token = page["next_page_token"]
        if not token:
            break
    assert [len(p) for p in pages] == [10, 3]
    assert [*pages[0], *pages[1]] == [
        "alpha:a",
        "alpha:z",
        "environment:dev",
        "environment:prod",
        "region:eu",
        "region:us",
        "team:growth",
        "team:t00",
        "team:t01",
        "team:t02",
        "team:t03",
        "team:t04",
        "team:t05",
    ]


def test_page_token_from_another_list_is_refused(acme: Workspace, api: APIClient) -> None:
    for i in range(10):
        create(api, "team", f"t{i}")
    token = api.get(LABELS).json()["next_page_token"]
    assert token
    response = api.get("/v1beta/workspaces", {"page_token": token})
    assert response.status_code == 400 and response.json()["error"] == "invalid page_token"


def test_list_costs_a_constant_number_of_queries(acme: Workspace, api: APIClient) -> None:
    api.get(LABELS)  # the token's first use records last_used_time
    with CaptureQueriesContext(connection) as small:
        assert api.get(f"{LABELS}?page_size=100").status_code == 200
    Label.objects.bulk_create(Label(workspace=acme, key="team", value=f"t{i}") for i in range(150))
    with CaptureQueriesContext(connection) as large:
        response = api.get(f"{LABELS}?page_size=100")
    assert len(response.json()["labels"]) == 100
    assert len(large.captured_queries) == len(small.captured_queries)


def test_ensure_default_labels_is_idempotent_and_keeps_edits(acme: Workspace) -> None:
    Label.objects.filter(workspace=acme, value="dev").delete()
    Label.objects.filter(workspace=acme, value="prod").update(description="Edited")
    service.ensure_default_labels(acme)
    service.ensure_default_labels(acme)
    assert list(
        Label.objects.filter(workspace=acme)
        .order_by("value")
        .values_list("key", "value", "description")
    ) == [("environment", "dev", "Development"), ("environment", "prod", "Edited")]


def test_data_migration_gives_existing_workspaces_the_defaults(acme: Workspace) -> None:
    bare = Workspace.objects.create(slug="bare", display_name="Bare")  # as before labels existed
    Label.objects.filter(workspace=acme, value="dev").delete()
    migration = importlib.import_module("workspace.migrations.0006_default_environment_labels")
    migration.create_default_labels(apps, None)
    for workspace in (acme, bare):
        assert (
            sorted(Label.objects.filter(workspace=workspace).values_list("key", "value"))
            == DEFAULTS
        )
