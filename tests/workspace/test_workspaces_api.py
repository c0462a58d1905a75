"""Workspaces through the REST API: List, Get, Create, Update (masked), Delete."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from workspace.models import AuditEntry, Membership, Workspace

pytestmark = pytest.mark.django_db

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def create(api: APIClient, slug: str, display_name: str = "Acme", **extra: object) -> dict:
    body = {"workspace": {"name": f"workspaces/{slug}", "display_name": display_name, **extra}}
    response = api.post("/v1beta/workspaces", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_create_returns_the_object_with_resource_name_and_rfc3339_time(api: APIClient) -> None:
    body = create(api, "acme", "Acme Corp")
    assert body["name"] == "workspaces/acme"
    assert body["display_name"] == "Acme Corp"
    assert body["settings"] == {}
    assert RFC3339_UTC.match(body["create_time"]), body["create_time"]
    workspace = Workspace.objects.get(slug="acme")
    assert body["id"] == workspace.id


def test_creator_becomes_owner_and_creation_is_audited(api: APIClient, alice: User) -> None:
    create(api, "acme")
    workspace = Workspace.objects.get(slug="acme")
    assert Membership.objects.get(workspace=workspace, user=alice).role == "owner"
    entry = AuditEntry.objects.get(action="workspace.created")
    assert entry.actor_user == alice
    assert entry.actor_token is not None
    assert entry.resource_name == "workspaces/acme"
    assert entry.after == {"slug": "acme", "display_name": "Acme", "settings": {}}


def test_get_returns_the_workspace(api: APIClient) -> None:
    created = create(api, "acme")
    response = api.get("/v1beta/workspaces/acme")
    assert response.status_code == 200
    assert response.json() == created


def test_create_twice_is_already_exists(api: APIClient) -> None:
    create(api, "acme")
    response = api.post(
        "/v1beta/workspaces",
        {"workspace": {"name": "workspaces/acme", "display_name": "Again"}},
        format="json",
    )
    assert response.status_code == 409
    assert response.json() == {"error": "workspace 'workspaces/acme' already exists", "code": 6}
    assert Workspace.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"workspace": {"name": "acme", "display_name": "A"}}, "expected 'workspaces/{workspace}'"),
        ({"workspace": {"name": "workspaces/Acme!", "display_name": "A"}}, "invalid slug"),
        ({"workspace": {"name": "workspaces/acme"}}, "display_name"),
        ({"workspace": {"name": "workspaces/acme", "display_name": " "}}, "display_name"),
        ({"name": "workspaces/acme", "display_name": "A"}, "unknown top-level field"),
        (
            {"workspace": {"name": "workspaces/acme", "display_name": "A", "settings": []}},
            "settings",
        ),
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(
    api: APIClient, body: dict, message: str
) -> None:
    response = api.post("/v1beta/workspaces", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == 3
    assert message in response.json()["error"]
    assert not Workspace.objects.exists()
    assert not AuditEntry.objects.filter(action="workspace.created").exists()


def test_update_with_mask_renames_and_audits_changed_fields(api: APIClient) -> None:
    create(api, "acme", "Acme")
    response = api.patch(
        "/v1beta/workspaces/acme",
        {
            "workspace": {"display_name": "Acme Inc"},
            "update_mask": {"paths": ["workspace.display_name"]},
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Acme Inc"
    assert Workspace.objects.get(slug="acme").display_name == "Acme Inc"
    entry = AuditEntry.objects.get(action="workspace.updated")
    assert entry.before == {"display_name": "Acme"}
    assert entry.after == {"display_name": "Acme Inc"}


def test_update_mask_inside_the_resource_as_the_docs_show_it(api: APIClient) -> None:
    create(api, "acme", "Acme")
    body = {
        "workspace": {"display_name": "Inner", "update_mask": {"paths": ["workspace.display_name"]}}
    }
    response = api.patch("/v1beta/workspaces/acme", body, format="json")
    assert response.status_code == 200
    assert Workspace.objects.get(slug="acme").display_name == "Inner"


def test_update_data_without_mask_changes_nothing(api: APIClient) -> None:
    created = create(api, "acme", "Acme")
    response = api.patch(
        "/v1beta/workspaces/acme", {"workspace": {"display_name": "X"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == created
    assert Workspace.objects.get(slug="acme").display_name == "Acme"
    assert not AuditEntry.objects.filter(action="workspace.updated").exists()


def test_update_masked_path_without_value_clears_it(api: APIClient) -> None:
    create(api, "acme", settings={"timezone": "UTC"})
    body = {"update_mask": {"paths": ["workspace.settings"]}}
    response = api.patch("/v1beta/workspaces/acme", body, format="json")
    assert response.status_code == 200
    assert Workspace.objects.get(slug="acme").settings == {}


def test_update_clearing_a_required_field_is_refused(api: APIClient) -> None:
    create(api, "acme", "Acme")
    body = {"update_mask": {"paths": ["workspace.display_name"]}}
    response = api.patch("/v1beta/workspaces/acme", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "display_name must not be empty", "code": 3}
    assert Workspace.objects.get(slug="acme").display_name == "Acme"


def test_update_nested_path_changes_one_setting(api: APIClient) -> None:
    create(api, "acme", settings={"timezone": "UTC", "locale": "en"})
    body = {
        "workspace": {"settings": {"timezone": "Europe/Paris", "locale": "fr"}},
        "update_mask": {"paths": ["workspace.settings.timezone"]},
    }
    response = api.patch("/v1beta/workspaces/acme", body, format="json")
    assert response.status_code == 200
    assert Workspace.objects.get(slug="acme").settings == {
        "timezone": "Europe/Paris",
        "locale": "en",
    }


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("workspace.id", "update_mask path 'workspace.id' is read-only"),
        ("workspace.create_time", "update_mask path 'workspace.create_time' is read-only"),
        ("workspace.name", "update_mask path 'workspace.name' is read-only"),
        ("workspace.colour", "unknown update_mask path 'workspace.colour'"),
    ],
)
def test_update_unknown_or_read_only_path_names_it_and_writes_nothing(
    api: APIClient, path: str, message: str
) -> None:
    create(api, "acme", "Acme")
    body = {
        "workspace": {"display_name": "Changed", "id": "x"},
        "update_mask": {"paths": ["workspace.display_name", path]},
    }
    response = api.patch("/v1beta/workspaces/acme", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert message in response.json()["error"]
    assert Workspace.objects.get(slug="acme").display_name == "Acme"


def test_delete_removes_workspace_and_audit_survives(api: APIClient) -> None:
    create(api, "acme")
    response = api.delete("/v1beta/workspaces/acme")
    assert response.status_code == 200
    assert response.json() == {}
    assert not Workspace.objects.filter(slug="acme").exists()
    entry = AuditEntry.objects.get(action="workspace.deleted")
    assert entry.workspace is None
    assert entry.workspace_slug == "acme"
    assert entry.before is not None and entry.before["slug"] == "acme"
    assert api.get("/v1beta/workspaces/acme").status_code == 404


def test_outsider_cannot_see_or_touch_a_workspace(
    api: APIClient, bob: User, token_client: Callable[..., APIClient]
) -> None:
    create(api, "acme")
    outsider = token_client(bob)
    assert outsider.get("/v1beta/workspaces").json() == {"workspaces": [], "next_page_token": ""}
    for response in (
        outsider.get("/v1beta/workspaces/acme"),
        outsider.patch(
            "/v1beta/workspaces/acme",
            {
                "workspace": {"display_name": "Pwned"},
                "update_mask": {"paths": ["workspace.display_name"]},
            },
            format="json",
        ),
        outsider.delete("/v1beta/workspaces/acme"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "workspace 'acme' not found", "code": 5}
    assert Workspace.objects.get(slug="acme").display_name == "Acme"


def test_member_can_read_but_not_change_or_delete(
    api: APIClient, bob: User, token_client: Callable[..., APIClient]
) -> None:
    create(api, "acme")
    Membership.objects.create(workspace=Workspace.objects.get(slug="acme"), user=bob)
    member = token_client(bob)
    assert member.get("/v1beta/workspaces/acme").status_code == 200
    rename = {
        "workspace": {"display_name": "X"},
        "update_mask": {"paths": ["workspace.display_name"]},
    }
    for response in (
        member.patch("/v1beta/workspaces/acme", rename, format="json"),
        member.delete("/v1beta/workspaces/acme"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == 7
    assert Workspace.objects.filter(slug="acme", display_name="Acme").exists()


def test_read_only_token_reads_but_writes_answer_insufficient_scope(
    api: APIClient, alice: User, token_client: Callable[..., APIClient]
) -> None:
    create(api, "acme")
    reader = token_client(alice, read_only=True)
    assert reader.get("/v1beta/workspaces/acme").status_code == 200
    insufficient = {"error": "insufficient scope", "code": 7}
    rename = {
        "workspace": {"display_name": "X"},
        "update_mask": {"paths": ["workspace.display_name"]},
    }
    new = {"workspace": {"name": "workspaces/other", "display_name": "Other"}}
    for response in (
        reader.post("/v1beta/workspaces", new, format="json"),
        reader.patch("/v1beta/workspaces/acme", rename, format="json"),
        reader.delete("/v1beta/workspaces/acme"),
    ):
        assert response.status_code == 403
        assert response.json() == insufficient
    assert list(Workspace.objects.values_list("slug", "display_name")) == [("acme", "Acme")]


def test_superuser_sees_every_workspace(
    api: APIClient, make_user: Callable[..., User], token_client: Callable[..., APIClient]
) -> None:
    create(api, "acme")
    root = token_client(make_user("root", is_superuser=True))
    assert [w["name"] for w in root.get("/v1beta/workspaces").json()["workspaces"]] == [
        "workspaces/acme"
    ]


def test_session_authentication_works_for_the_uis_own_calls(alice: User) -> None:
    client = APIClient()
    client.force_login(alice)
    response = client.get("/v1beta/workspaces")
    assert response.status_code == 200


def test_list_costs_a_constant_number_of_queries(
    alice: User, make_workspace: Callable[..., Workspace], token_client: Callable[..., APIClient]
) -> None:
    client = token_client(alice)
    make_workspace(alice, "first")
    client.get("/v1beta/workspaces")  # the token's first use records last_used_time
    with CaptureQueriesContext(connection) as small:
        assert client.get("/v1beta/workspaces?page_size=100").status_code == 200
    workspaces = Workspace.objects.bulk_create(
        Workspace(slug=f"ws-{i:04d}", display_name=f"WS {i}") for i in range(1000)
    )
    Membership.objects.bulk_create(Membership(workspace=w, user=alice) for w in workspaces)
    with CaptureQueriesContext(connection) as large:
        response = client.get("/v1beta/workspaces?page_size=100")
    assert response.status_code == 200
    assert len(response.json()["workspaces"]) == 100
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 3, [q["sql"] for q in large.captured_queries]
