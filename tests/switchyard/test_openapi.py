from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_openapi_document_describes_the_workspace_api() -> None:
    response = Client().get("/v1beta/openapi.json")
    assert response.status_code == 200
    doc = json.loads(response.content)
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    assert set(paths["/v1beta/workspaces"]) >= {"get", "post"}
    assert set(paths["/v1beta/workspaces/{workspace}"]) >= {"get", "patch", "delete"}
    assert "put" not in paths["/v1beta/workspaces/{workspace}"]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["accessToken"] == {"type": "http", "scheme": "bearer"}
    update = doc["components"]["schemas"]["PatchedUpdateWorkspaceRequest"]["properties"]
    assert set(update) == {"workspace", "update_mask"}


def test_docs_page_uses_only_local_assets() -> None:
    response = Client().get("/v1beta/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    asset = Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


def test_schema_validates_without_warnings() -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out
    )
    doc = json.loads(out.getvalue())
    for collection in (
        "sources",
        "grants",
        "labels",
        "users",
        "invites",
        "groups",
        "access-tokens",
    ):
        assert f"/v1beta/workspaces/{{workspace}}/{collection}" in doc["paths"], collection
