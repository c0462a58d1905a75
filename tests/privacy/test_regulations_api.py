"""/v1beta/workspaces/{w}/regulations and /suppressed-users: the Config API shapes
(wrapped bodies, snake_case fields, keyset pages, the error envelope), owners only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from privacy.models import Regulation, SuppressedUser
from tests.resource_contract import client_for
from workspace.models import AuditEntry, Membership, Workspace

pytestmark = pytest.mark.django_db

URL = "/v1beta/workspaces/acme/regulations"
SUPPRESSED = "/v1beta/workspaces/acme/suppressed-users"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def api(acme: Workspace, alice: User) -> APIClient:
    return client_for(alice)[0]


def create(api: APIClient, kind: str, ids: list[str], subject: str = "USER_ID") -> Any:
    body = {"regulation": {"regulation_type": kind, "subject_type": subject, "subject_ids": ids}}
    return api.post(URL, body, format="json")


def state() -> tuple[Any, ...]:
    return (
        Regulation.objects.count(),
        SuppressedUser.objects.count(),
        AuditEntry.objects.filter(action__startswith="regulation.").count(),
    )


def test_create_answers_the_regulation(api: APIClient, alice: User) -> None:
    response = create(api, "SUPPRESS_WITH_DELETE", ["u-1", "u-2", "u-1"])
    assert response.status_code == 200, response.content
    body = response.json()
    key = body["id"]
    assert key.startswith("rg")
    assert body == {
        "name": f"workspaces/acme/regulations/{key}",
        "id": key,
        "regulation_type": "SUPPRESS_WITH_DELETE",
        "subject_type": "USER_ID",
        "subject_ids": ["u-1", "u-2"],
        "status": "INITIALIZED",
        "counts": {"suppressed": 2},
        "error": "",
        "created_by": "alice",
        "create_time": body["create_time"],
        "start_time": None,
        "finish_time": None,
    }
    assert api.get(f"{URL}/{key}").json() == body


def test_list_is_newest_first_in_keyset_pages(api: APIClient) -> None:
    made = [create(api, "SUPPRESS_ONLY", [f"u-{i}"]).json()["id"] for i in range(3)]
    first = api.get(URL, {"page_size": 2}).json()
    assert [r["id"] for r in first["regulations"]] == made[::-1][:2]
    rest = api.get(URL, {"page_size": 2, "page_token": first["next_page_token"]}).json()
    assert [r["id"] for r in rest["regulations"]] == made[:1]
    assert rest["next_page_token"] == ""


def test_suppressed_users_are_listed_and_got_by_user_id(api: APIClient) -> None:
    regulation = create(api, "SUPPRESS_ONLY", ["zed", "amy", "team/42"]).json()
    listed = api.get(SUPPRESSED, {"page_size": 2}).json()
    assert [u["user_id"] for u in listed["suppressed_users"]] == ["amy", "team/42"]
    more = api.get(SUPPRESSED, {"page_token": listed["next_page_token"]}).json()
    assert [u["user_id"] for u in more["suppressed_users"]] == ["zed"]
    got = api.get(f"{SUPPRESSED}/team/42")
    assert got.status_code == 200, got.content
    assert got.json() == {
        "name": "workspaces/acme/suppressed-users/team/42",
        "user_id": "team/42",
        "regulation": regulation["name"],
        "regulation_type": "SUPPRESS_ONLY",
        "create_time": got.json()["create_time"],
    }
    create(api, "UNSUPPRESS", ["team/42"])
    missing = api.get(f"{SUPPRESSED}/team/42")
    assert missing.status_code == 404
    assert missing.json()["code"] == 5


@pytest.mark.parametrize(
    ("body", "status", "code", "says"),
    [
        (
            {"regulation_type": "NUKE", "subject_type": "USER_ID", "subject_ids": ["u"]},
            400,
            3,
            "regulation_type",
        ),
        ({"regulation_type": "DELETE_ONLY", "subject_ids": ["u"]}, 400, 3, "subject_type"),
        (
            {"regulation_type": "DELETE_ONLY", "subject_type": "USER_ID", "subject_ids": []},
            400,
            3,
            "at least one",
        ),
        (
            {
                "regulation_type": "DELETE_ONLY",
                "subject_type": "USER_ID",
                "subject_ids": [f"u-{i}" for i in range(5001)],
            },
            400,
            3,
            "at most 5000",
        ),
        (
            {"regulation_type": "DELETE_ONLY", "subject_type": "USER_ID", "subject_ids": "u"},
            400,
            3,
            "subject_ids",
        ),
        (
            {"regulationType": "DELETE_ONLY", "subjectType": "USER_ID", "subjectIds": ["u"]},
            400,
            3,
            "regulation_type",
        ),
    ],
)
def test_bad_requests_get_the_error_envelope_and_change_nothing(
    api: APIClient, body: dict[str, Any], status: int, code: int, says: str
) -> None:
    before = state()
    response = api.post(URL, {"regulation": body}, format="json")
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert says in str(response.json())
    assert state() == before


def test_the_quota_is_a_429_with_code_8(api: APIClient, acme: Workspace) -> None:
    Regulation.objects.create(
        key_id="rg_seeded",
        workspace=acme,
        regulation_type="SUPPRESS_ONLY",
        subject_type="USER_ID",
        subject_ids=[f"u-{i}" for i in range(110_000)],
        status="FINISHED",
    )
    before = state()
    response = create(api, "DELETE_ONLY", ["one-more"])
    assert response.status_code == 429, response.content
    assert response.json()["code"] == 8
    assert "110,000" in response.json()["error"]
    assert state() == before


def test_regulations_cannot_be_changed_or_deleted(api: APIClient) -> None:
    key = create(api, "SUPPRESS_ONLY", ["u-1"]).json()["id"]
    assert api.patch(f"{URL}/{key}", {}, format="json").status_code == 405
    assert api.delete(f"{URL}/{key}").status_code == 405
    assert api.post(SUPPRESSED, {}, format="json").status_code == 405


def test_members_and_strangers_cannot_use_them(
    api: APIClient,
    acme: Workspace,
    bob: User,
    make_user: Callable[..., User],
    make_workspace: Callable[..., Workspace],
) -> None:
    key = create(api, "SUPPRESS_ONLY", ["u-1"]).json()["id"]
    Membership.objects.create(workspace=acme, user=bob)
    member = client_for(bob)[0]
    carol = make_user("carol")
    make_workspace(carol, "globex")
    stranger = client_for(carol)[0]
    before = state()
    for client, status in ((member, 403), (stranger, 404)):
        for url in (URL, f"{URL}/{key}", SUPPRESSED, f"{SUPPRESSED}/u-1"):
            assert client.get(url).status_code == status, url
        assert create(client, "UNSUPPRESS", ["u-1"]).status_code == status
    assert state() == before
