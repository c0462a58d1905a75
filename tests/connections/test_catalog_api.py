"""The catalog API: any authenticated caller reads it; lists page like every list."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from connections import catalog

pytestmark = pytest.mark.django_db

SOURCES = "/v1beta/catalog/sources"
DESTINATIONS = "/v1beta/catalog/destinations"


def test_list_source_types_pages_in_name_order(api: APIClient) -> None:
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        answer = api.get(
            SOURCES, {"page_size": 5, "page_token": token} if token else {"page_size": 5}
        )
        assert answer.status_code == 200, answer.json()
        body = answer.json()
        assert set(body) == {"source_types", "next_page_token"}
        assert len(body["source_types"]) <= 5
        seen += [s["id"] for s in body["source_types"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert seen == [s.slug for s in catalog.source_types()]
    assert pages == -(-len(seen) // 5)


def test_the_default_page_is_ten(api: APIClient) -> None:
    body = api.get(SOURCES).json()
    assert len(body["source_types"]) == 10
    assert body["next_page_token"]
    rest = api.get(SOURCES, {"page_token": body["next_page_token"]}).json()
    assert [s["id"] for s in body["source_types"] + rest["source_types"]] == [
        s.slug for s in catalog.source_types()
    ]
    assert rest["next_page_token"] == ""


def test_a_source_type_shape(api: APIClient) -> None:
    answer = api.get(f"{SOURCES}/javascript")
    assert answer.status_code == 200
    assert answer.json() == {
        "name": "catalog/sources/javascript",
        "id": "javascript",
        "display_name": "Javascript",
        "category": "website",
        "description": catalog.source_type("javascript").description,  # type: ignore[union-attr]
        "library_tier": "flagship",
    }


def test_filters(api: APIClient) -> None:
    mobile = api.get(SOURCES, {"category": "mobile", "page_size": 100}).json()["source_types"]
    assert {s["category"] for s in mobile} == {"mobile"}
    assert len(mobile) == 6
    found = api.get(DESTINATIONS, {"search": "equals"}).json()["destination_definitions"]
    assert [d["id"] for d in found] == ["actions-equals"]
    raw = api.get(DESTINATIONS, {"category": "Raw Data"}).json()["destination_definitions"]
    assert "actions-webhook" in {d["id"] for d in raw}
    assert all("Raw Data" in d["categories"] for d in raw)


def test_an_unknown_category_is_an_invalid_argument(api: APIClient) -> None:
    answer = api.get(DESTINATIONS, {"category": "Gardening"})
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == 3
    assert "unknown category 'Gardening'" in body["error"]


def test_a_bad_page_token_is_an_invalid_argument(api: APIClient) -> None:
    answer = api.get(SOURCES, {"page_token": "forged"})
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid page_token", "code": 3}
    # A token from the other list is refused too (tokens are signed per list).
    token = api.get(DESTINATIONS, {"page_size": 1}).json()["next_page_token"]
    assert token
    assert api.get(SOURCES, {"page_token": token}).status_code == 400


def test_list_destinations_is_a_summary(api: APIClient) -> None:
    answer = api.get(DESTINATIONS, {"page_size": 100})
    assert answer.status_code == 200
    body = answer.json()
    assert body["next_page_token"] == ""
    items = body["destination_definitions"]
    assert [d["id"] for d in items] == [d.slug for d in catalog.destinations()]
    equals = next(d for d in items if d["id"] == "actions-equals")
    assert equals["name"] == "catalog/destinations/actions-equals"
    assert equals["display_name"] == "Equals"
    assert "settings" not in equals and "actions" not in equals


def test_get_destination_has_settings_actions_and_presets(api: APIClient) -> None:
    answer = api.get(f"{DESTINATIONS}/actions-equals")
    assert answer.status_code == 200
    body = answer.json()
    assert body["settings"] == [
        {
            "name": "url",
            "label": "Equals URL",
            "type": "string",
            "required": True,
            "default": None,
            "secret": False,
            "description": "Equals URL to send data to.",
            "choices": [],
        }
    ]
    (action,) = body["actions"]
    assert action["key"] == "send"
    assert action["platform"] == "cloud"
    assert action["default_mapping"] == {"data": {"@path": "$."}}
    assert action["fields"][0]["key"] == "data"
    assert action["fields"][0]["type"] == "OBJECT"
    assert action["fields"][0]["default"] == {"@path": "$."}
    assert body["presets"] == [
        {
            "name": "Send",
            "action": "send",
            "trigger": action["default_trigger"],
            "mapping": {"data": {"@path": "$."}},
        }
    ]


def test_secret_settings_are_marked(api: APIClient) -> None:
    body = api.get(f"{DESTINATIONS}/segment-connections").json()
    secrets = {s["name"]: s["secret"] for s in body["settings"]}
    assert secrets == {"source_write_key": True, "endpoint": False}
    assert [a["key"] for a in body["actions"]] == [
        "send_page",
        "send_track",
        "send_identify",
        "send_group",
        "send_screen",
    ]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (f"{SOURCES}/cobol", "source type 'cobol' not found"),
        (f"{DESTINATIONS}/carrier-pigeon", "destination definition 'carrier-pigeon' not found"),
    ],
)
def test_unknown_entries_answer_the_not_found_envelope(
    api: APIClient, path: str, message: str
) -> None:
    answer = api.get(path)
    assert answer.status_code == 404
    assert answer.json() == {"error": message, "code": 5}


@pytest.mark.parametrize("path", [SOURCES, f"{DESTINATIONS}/actions-equals"])
def test_unauthenticated_callers_get_401(path: str) -> None:
    answer = APIClient().get(path)
    assert answer.status_code == 401
    assert answer.json()["code"] == 16
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.get(path).status_code == 401


def test_any_token_or_session_may_read(bob: User, token_client: Callable[..., APIClient]) -> None:
    # bob belongs to no workspace; the catalog is the same for everyone.
    assert token_client(bob, read_only=True).get(f"{DESTINATIONS}/connect").status_code == 200
    session = APIClient()
    session.force_login(bob)
    assert session.get(SOURCES).status_code == 200


def test_the_catalog_is_read_only(api: APIClient) -> None:
    assert api.post(SOURCES, {"source_type": {}}, format="json").status_code == 405
    assert api.delete(f"{DESTINATIONS}/actions-equals").status_code == 405
    assert catalog.destination("actions-equals") is not None


def test_the_openapi_document_describes_the_catalog() -> None:
    import json

    from django.test import Client

    doc = json.loads(Client().get("/v1beta/openapi.json").content)
    paths = doc["paths"]
    assert set(paths["/v1beta/catalog/sources"]) == {"get"}
    assert set(paths["/v1beta/catalog/destinations/{destination}"]) == {"get"}
    listed = paths["/v1beta/catalog/destinations"]["get"]["responses"]["200"]["content"]
    ref = listed["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    shape = doc["components"]["schemas"][ref]["properties"]
    assert set(shape) == {"destination_definitions", "next_page_token"}
    detail = doc["components"]["schemas"]["DestinationDefinitionDetail"]["properties"]
    assert {"settings", "actions", "presets"} <= set(detail)
