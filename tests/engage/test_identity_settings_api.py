"""/v1beta/workspaces/{w}/spaces/{space}/identifiers and identifiers:import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from engage.models import IdentifierSetting, Space
from tests.engage.identity_support import add_member, make_space
from tests.resource_contract import client_for
from workspace.models import AuditEntry, Workspace

pytestmark = pytest.mark.django_db

URL = "/v1beta/workspaces/acme/spaces/prod/identifiers"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


@pytest.fixture
def space(acme: Workspace) -> Space:
    return make_space(acme)


@pytest.fixture
def api(space: Space, alice: User) -> APIClient:
    return client_for(alice)[0]


def patch(api: APIClient, type: str, **fields: Any) -> Any:
    body = {"identifier": fields, "update_mask": {"paths": [f"identifier.{f}" for f in fields]}}
    return api.patch(f"{URL}/{type}", body, format="json")


def state(space: Space) -> tuple[list[tuple[Any, ...]], int]:
    rows = IdentifierSetting.objects.filter(space=space).order_by("priority")
    values = list(rows.values_list("type", "priority", "limit", "period", "blocked_values"))
    return values, AuditEntry.objects.count()


def test_list_is_in_priority_order_with_each_identifier_s_settings(api: APIClient) -> None:
    answer = api.get(URL, {"page_size": 100}).json()
    types = [i["type"] for i in answer["identifiers"]]
    assert types[:3] == ["user_id", "email", "android.id"]
    assert len(types) == 11
    email = api.get(f"{URL}/email").json()
    assert email["name"] == "workspaces/acme/spaces/prod/identifiers/email"
    assert (email["priority"], email["limit"], email["period"]) == (2, 5, "ANNUALLY")
    assert {"value": "anonymous", "kind": "EXACT"} in email["blocked_values"]
    assert api.get(f"{URL}/android.idfa").json()["custom"] is False


def test_update_with_a_mask_changes_only_the_masked_fields(api: APIClient, space: Space) -> None:
    body = {
        "identifier": {"limit": 2, "period": "MONTHLY"},
        "update_mask": {"paths": ["identifier.limit"]},
    }
    answer = api.patch(f"{URL}/anonymous_id", body, format="json")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["limit"], answer.json()["period"]) == (2, "WEEKLY")
    moved = patch(api, "anonymous_id", priority=1).json()
    assert moved["priority"] == 1
    assert api.get(f"{URL}/user_id").json()["priority"] == 2


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"blocked_values": [{"value": "a(b", "kind": "REGEX"}]}, "not a valid regular"),
        ({"priority": 40}, "from 1 to 11"),
        ({"period": "HOURLY"}, "period"),
    ],
)
def test_bad_updates_are_invalid_arguments_that_change_nothing(
    api: APIClient, space: Space, fields: dict[str, Any], says: str
) -> None:
    before = state(space)
    answer = patch(api, "email", **fields)
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] == 3
    assert says in answer.content.decode()
    assert state(space) == before


def test_custom_identifiers_are_lower_case_created_and_deleted(
    api: APIClient, space: Space
) -> None:
    before = state(space)
    upper = api.post(URL, {"identifier": {"type": "Phone"}}, format="json")
    assert upper.status_code == 400
    assert "must be lower-case" in upper.json()["error"]
    assert state(space) == before
    created = api.post(URL, {"identifier": {"type": "phone", "limit": 2}}, format="json")
    assert created.status_code == 200, created.content
    assert (created.json()["priority"], created.json()["custom"]) == (12, True)
    assert api.delete(f"{URL}/phone").status_code == 200
    refused = api.delete(f"{URL}/email")
    assert refused.status_code == 400
    assert refused.json()["code"] == 9
    assert "defaults cannot be removed" in refused.json()["error"]


def test_import_copies_another_space_s_settings(api: APIClient, acme: Workspace) -> None:
    make_space(acme, "dev")
    dev = "/v1beta/workspaces/acme/spaces/dev/identifiers"
    assert api.post(dev, {"identifier": {"type": "crm_id"}}, format="json").status_code == 200
    assert patch(api, "email", limit=1).status_code == 200
    answer = api.post(f"{URL}:import", {"from_space": "dev"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["identifiers"][-1]["type"] == "crm_id"
    assert api.get(f"{URL}/email").json()["limit"] == 5
    missing = api.post(f"{URL}:import", {"from_space": "nowhere"}, format="json")
    assert missing.status_code == 404


def test_a_member_without_a_role_gets_404_and_an_identity_admin_edits(
    alice: User, acme: Workspace, space: Space, make_user: Callable[..., User]
) -> None:
    nobody = client_for(add_member(alice, acme, make_user(email="n@example.com")))[0]
    assert nobody.get(URL).status_code == 404
    assert patch(nobody, "email", limit=1).status_code == 404
    admin_user = add_member(alice, acme, make_user(email="i@example.com"), "identity-admin")
    admin = client_for(admin_user)[0]
    assert admin.get(URL).status_code == 200
    assert patch(admin, "email", limit=1).status_code == 200
    engage_user = add_member(
        alice, acme, make_user(email="e@example.com"), "unify-read-only-engage-user"
    )
    refused = patch(client_for(engage_user)[0], "email", limit=3)
    assert refused.status_code == 403
    assert api_limit(space, "email") == 1


def api_limit(space: Space, type: str) -> int:
    return IdentifierSetting.objects.get(space=space, type=type).limit
