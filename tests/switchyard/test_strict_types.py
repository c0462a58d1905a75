"""The API takes the JSON types its document states; DRF alone would coerce them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [("display_name", 0, "a string"), ("settings", {}, None)],
)
def test_create_refuses_a_number_for_a_string(
    api: APIClient, field: str, value: object, expected: str | None
) -> None:
    body = {"name": "workspaces/typed", "display_name": "Typed", field: value}
    response = api.post("/v1beta/workspaces", {"workspace": body}, format="json")
    if expected is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert response.json() == {"error": f"{field}: must be {expected}", "code": 3}


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("enabled", "true", "enabled: must be a boolean"),
        ("enabled", 1, "enabled: must be a boolean"),
        ("labels", [7], "labels[0]: must be a string"),
        ("display_name", 5, "display_name: must be a string"),
    ],
)
def test_update_refuses_coercible_values(
    api: APIClient, path: str, value: object, message: str
) -> None:
    api.post(
        "/v1beta/workspaces",
        {"workspace": {"name": "workspaces/typed", "display_name": "Typed"}},
        format="json",
    )
    created = api.post(
        "/v1beta/workspaces/typed/sources",
        {"source": {"name": "workspaces/typed/sources/web", "display_name": "Web"}},
        format="json",
    )
    assert created.status_code == 200
    response = api.patch(
        "/v1beta/workspaces/typed/sources/web",
        {"source": {path: value}, "update_mask": {"paths": [f"source.{path}"]}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"error": message, "code": 3}
    assert api.get("/v1beta/workspaces/typed/sources/web").json()["enabled"] is True
