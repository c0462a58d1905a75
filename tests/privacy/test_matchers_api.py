"""/v1beta/workspaces/{w}/pii-matchers: defaults listed read-only, custom matchers
written by Workspace Owners (at most 100, RE2 patterns), and the :test method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from privacy.matching.defaults import DEFAULT_MATCHERS
from privacy.models import PiiMatcher
from privacy.services import matchers as service
from switchyard.access import Principal
from tests.resource_contract import client_for
from workspace.models import AuditEntry, Membership, Workspace

pytestmark = pytest.mark.django_db

URL = "/v1beta/workspaces/acme/pii-matchers"
SIN = {
    "display_name": "SIN",
    "classification": "RED",
    "match_on": "KEY",
    "synonyms": ["Social Insurance Number", "Social Insurance No.", "SocInsNo"],
}


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def api(acme: Workspace, alice: User) -> APIClient:
    return client_for(alice)[0]


def create(api: APIClient, **fields: Any) -> Any:
    return api.post(URL, {"pii_matcher": {**SIN, **fields}}, format="json")


def state(workspace: Workspace) -> tuple[list[tuple[Any, ...]], int]:
    rows = PiiMatcher.objects.filter(workspace=workspace).order_by("pk")
    values = list(rows.values_list("name", "classification", "pattern", "enabled", "synonyms"))
    return values, AuditEntry.objects.filter(action__startswith="pii_matcher.").count()


def all_pages(api: APIClient) -> list[dict[str, Any]]:
    items, token = [], ""
    while True:
        page = api.get(URL, {"page_size": 100, "page_token": token}).json()
        items += page["pii_matchers"]
        token = page["next_page_token"]
        if not token:
            return items


def test_list_shows_every_default_read_only_then_custom_matchers(api: APIClient) -> None:
    create(api)
    items = all_pages(api)
    defaults = [i for i in items if i["default"]]
    assert [d["id"] for d in defaults] == [m.id for m in DEFAULT_MATCHERS]
    email = next(d for d in defaults if d["id"] == "email")
    assert email == {
        "name": "workspaces/acme/pii-matchers/email",
        "id": "email",
        "display_name": "email",
        "classification": "YELLOW",
        "match_on": "KEY",
        "precision": "SIMILAR",
        "pattern": "",
        "synonyms": ["email address", "e-mail", "mail"],
        "enabled": True,
        "default": True,
        "overrides": "",
        "overridden_by": "",
        "create_time": None,
        "update_time": None,
    }
    assert next(d for d in defaults if d["id"] == "phone-value")["match_on"] == "VALUE"
    custom = items[-1]
    assert custom["default"] is False and custom["display_name"] == "SIN"
    assert custom["id"].startswith("pm_")
    assert custom["synonyms"] == SIN["synonyms"]


def test_pages_walk_defaults_then_custom_matchers_without_repeats(api: APIClient) -> None:
    for n in range(3):
        create(api, display_name=f"m{n}")
    seen, token = [], ""
    while True:
        page = api.get(URL, {"page_size": 7, "page_token": token}).json()
        seen += [i["id"] for i in page["pii_matchers"]]
        if not (token := page["next_page_token"]):
            break
    assert len(seen) == len(set(seen)) == len(DEFAULT_MATCHERS) + 3


def test_a_default_is_read_only(api: APIClient, acme: Workspace) -> None:
    assert api.get(f"{URL}/credit-card").json()["classification"] == "RED"
    before = state(acme)
    patch = api.patch(
        f"{URL}/credit-card",
        {"pii_matcher": {"enabled": False}, "update_mask": {"paths": ["pii_matcher.enabled"]}},
        format="json",
    )
    assert patch.status_code == 400 and patch.json()["code"] == 9
    assert "create a custom matcher with the same name" in patch.json()["error"]
    delete = api.delete(f"{URL}/credit-card")
    assert delete.status_code == 400 and delete.json()["code"] == 9
    assert state(acme) == before
    assert api.get(f"{URL}/no-such").status_code == 404


def test_a_custom_matcher_of_a_defaults_name_overrides_it(api: APIClient) -> None:
    made = create(api, display_name="Email", classification="RED").json()
    assert made["overrides"] == "email"
    assert api.get(f"{URL}/email").json()["overridden_by"] == made["id"]
    result = api.post(f"{URL}:test", {"event": {"traits": {"email": "x"}}}, format="json")
    flagged = {m["id"]: m for m in result.json()["matches"]}
    assert "email" not in flagged
    assert flagged[made["id"]]["classification"] == "RED"
    assert flagged[made["id"]]["paths"] == ["traits.email"]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?<=a)b", "lookarounds and backreferences are not supported"),
        (r"(\w)\1", "invalid escape sequence"),
        ("([a-z]", "missing )"),
    ],
)
def test_patterns_re2_refuses_are_refused_at_save_with_the_reason(
    api: APIClient, acme: Workspace, pattern: str, reason: str
) -> None:
    before = state(acme)
    response = create(api, match_on="VALUE", pattern=pattern)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == 3
    assert reason in response.json()["error"]
    made = create(api, match_on="VALUE", pattern=r"^\d{3}-\d{3}-\d{3}$").json()
    after_make = state(acme)
    update = api.patch(
        f"{URL}/{made['id']}",
        {"pii_matcher": {"pattern": pattern}, "update_mask": {"paths": ["pii_matcher.pattern"]}},
        format="json",
    )
    assert update.status_code == 400 and reason in update.json()["error"]
    assert state(acme) == after_make != before


def test_a_value_matcher_needs_a_pattern(api: APIClient, acme: Workspace) -> None:
    response = create(api, match_on="VALUE")
    assert response.status_code == 400
    assert "needs a pattern" in response.json()["error"]
    made = create(api, match_on="VALUE", pattern="x").json()
    cleared = api.patch(
        f"{URL}/{made['id']}",
        {"pii_matcher": {"pattern": ""}, "update_mask": {"paths": ["pii_matcher.pattern"]}},
        format="json",
    )
    assert cleared.status_code == 400
    assert PiiMatcher.objects.get(key_id=made["id"]).pattern == "x"


def test_green_is_not_a_matcher_classification(api: APIClient, acme: Workspace) -> None:
    response = create(api, classification="GREEN")
    assert response.status_code == 400
    assert state(acme) == ([], 0)


def test_names_are_unique_per_workspace_ignoring_case(api: APIClient, acme: Workspace) -> None:
    assert create(api).status_code == 200
    again = create(api, display_name="sin")
    assert again.status_code == 409 and again.json()["code"] == 6
    assert PiiMatcher.objects.filter(workspace=acme).count() == 1


def test_the_101st_custom_matcher_is_refused(api: APIClient, acme: Workspace, alice: User) -> None:
    made = [
        service.do_create_pii_matcher(
            principal=Principal(alice),
            workspace=acme,
            name=f"m{n}",
            classification="RED",
            match_on="KEY",
        )
        for n in range(service.LIMIT - 1)
    ]
    assert create(api, display_name="the 100th").status_code == 200
    before = state(acme)
    refused = create(api, display_name="the 101st")
    assert refused.status_code == 400 and refused.json()["code"] == 9
    assert "at most 100 custom matchers" in refused.json()["error"]
    assert state(acme) == before
    # Deleting one makes room again.
    assert api.delete(f"{URL}/{made[0].key_id}").status_code == 200
    assert create(api, display_name="the 101st").status_code == 200


def test_update_changes_only_what_the_mask_names_and_audits_it(api: APIClient) -> None:
    made = create(api).json()
    response = api.patch(
        f"{URL}/{made['id']}",
        {
            "pii_matcher": {
                "synonyms": ["SIN number"],
                "enabled": False,
                "classification": "YELLOW",
            },
            "update_mask": {"paths": ["pii_matcher.synonyms", "pii_matcher.enabled"]},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["synonyms"], body["enabled"], body["classification"]) == (
        ["SIN number"],
        False,
        "RED",
    )
    entry = AuditEntry.objects.filter(action="pii_matcher.updated").get()
    assert entry.after == {"synonyms": ["SIN number"], "enabled": False}
    assert entry.resource_name == f"workspaces/acme/pii-matchers/{made['id']}"


def test_members_cannot_open_the_privacy_portal(acme: Workspace, alice: User, bob: User) -> None:
    """The docs: "only workspace owners can access the Privacy Portal"."""
    made = service.do_create_pii_matcher(
        principal=Principal(alice), workspace=acme, name="SIN", classification="RED", match_on="KEY"
    )
    Membership.objects.create(workspace=acme, user=bob)
    client = client_for(bob)[0]
    before = state(acme)
    for response in (
        client.get(URL),
        client.get(f"{URL}/{made.key_id}"),
        client.get(f"{URL}/email"),
        client.post(f"{URL}:test", {"event": {}}, format="json"),
        client.post(URL, {"pii_matcher": SIN}, format="json"),
        client.delete(f"{URL}/{made.key_id}"),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == 7
    assert state(acme) == before


def test_test_method_reports_what_each_matcher_flags(api: APIClient, acme: Workspace) -> None:
    create(api, match_on="VALUE", pattern=r"^\d{3}-\d{3}-\d{3}$", display_name="SIN value")
    create(api, display_name="Loyalty", enabled=False)
    event = {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "ann@example.com", "sin": "123-456-789", "loyalty": "gold"},
        "properties": {"note": "nothing here"},
    }
    before = state(acme)
    response = api.post(f"{URL}:test", {"event": event}, format="json")
    assert response.status_code == 200, response.content
    matches = {m["display_name"]: m for m in response.json()["matches"]}
    assert matches["email"]["paths"] == ["traits.email"]
    assert matches["email"]["default"] is True
    assert matches["email address value"]["paths"] == ["traits.email"]
    assert matches["SIN value"]["paths"] == ["traits.sin"]
    assert matches["SIN value"]["matcher"].startswith("workspaces/acme/pii-matchers/pm_")
    assert "Loyalty" not in matches  # disabled
    assert state(acme) == before  # stores nothing


@pytest.mark.parametrize("body", [{}, {"event": "text"}, {"event": [1]}, []])
def test_test_method_wants_an_event_object(api: APIClient, body: Any) -> None:
    response = api.post(f"{URL}:test", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == 3
