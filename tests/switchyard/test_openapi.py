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


def test_every_list_operation_documents_pagination() -> None:
    doc = json.loads(Client().get("/v1beta/openapi.json").content)
    schemas = doc["components"]["schemas"]
    lists = [
        (path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method == "get" and operation["operationId"].endswith("_list")
    ]
    assert len(lists) >= 15
    for path, operation in lists:
        params = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        assert params["page_size"]["schema"]["maximum"] == 100, path
        assert params["page_token"]["schema"]["type"] == "string", path
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        shape = schemas[answer["$ref"].rsplit("/", 1)[1]]
        assert shape["properties"]["next_page_token"]["type"] == "string", path
        (items,) = set(shape["properties"]) - {"next_page_token"}
        assert shape["properties"][items]["type"] == "array", path
