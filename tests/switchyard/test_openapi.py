from __future__ import annotations

import json
import re

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
    update = doc["components"]["schemas"]["UpdateWorkspaceRequest"]
    beside, inside = update["anyOf"]
    assert set(beside["properties"]) == {"workspace", "update_mask"}
    assert set(inside["properties"]) == {"workspace"}


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


def _doc() -> dict:
    return json.loads(Client().get("/v1beta/openapi.json").content)


def _operations(doc: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
    ]


def test_every_update_documents_the_wrapped_body_with_its_mask_in_either_place() -> None:
    doc = _doc()
    schemas = doc["components"]["schemas"]
    patches = [(p, o) for p, m, o in _operations(doc) if m == "patch"]
    assert len(patches) >= 8
    for path, operation in patches:
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schemas[ref.rsplit("/", 1)[1]]
        beside, inside = body["anyOf"]
        (key,) = set(beside["properties"]) - {"update_mask"}
        # Unknown top-level fields are refused, a mask is optional (no mask: no change).
        assert beside["additionalProperties"] is False and "required" not in beside, path
        assert inside["additionalProperties"] is False and inside["required"] == [key], path
        mask = beside["properties"]["update_mask"]
        assert mask["properties"]["paths"]["type"] == "array", path
        # The mask inside the resource is the other way, never both at once.
        resource_with_mask = inside["properties"][key]["allOf"][1]
        assert resource_with_mask["required"] == ["update_mask"], path
        assert beside["properties"][key]["allOf"][1]["properties"]["update_mask"] == {"not": {}}


def test_update_mask_paths_are_the_writable_fields() -> None:
    schemas = _doc()["components"]["schemas"]
    beside = schemas["UpdateSourceRequest"]["anyOf"][0]
    items = beside["properties"]["update_mask"]["properties"]["paths"]["items"]
    top, nested = items["anyOf"]
    assert "source.display_name" in top["enum"] and "source.name" not in top["enum"]
    assert re.match(nested["pattern"], "source.settings.region")
    assert not re.match(nested["pattern"], "source.display_name.x")


def test_creates_are_wrapped_and_refuse_other_top_level_fields() -> None:
    doc = _doc()
    schemas = doc["components"]["schemas"]
    creates = [
        (p, o)
        for p, m, o in _operations(doc)
        # The kit's Creates; custom methods (preview, :test, :import...) take their own bodies.
        if m == "post" and o["operationId"].endswith("_create") and "requestBody" in o
        if not p.endswith("/preview") and ":" not in p.rsplit("/", 1)[-1]
    ]
    assert len(creates) >= 10
    for path, operation in creates:
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schemas[ref.rsplit("/", 1)[1]]
        assert body["additionalProperties"] is False, path
        assert body["required"] == list(body["properties"]), path
        assert "200" in operation["responses"] and "201" not in operation["responses"], path


def test_error_responses_are_documented_in_the_envelope() -> None:
    doc = _doc()
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "code"]
    for path, method, operation in _operations(doc):
        responses = operation["responses"]
        expected = {"400", "429"}
        if operation.get("security"):
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if method in ("post", "patch"):
            expected.add("409")
        if "requestBody" in operation:
            expected.add("413")
        assert expected <= set(responses), (method, path)
        for code in expected:
            schema = responses[code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, code)


def test_deletes_document_their_empty_object() -> None:
    for path, method, operation in _operations(_doc()):
        if method == "delete":
            answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert "$ref" in answer or answer["type"] == "object", path
            assert "204" not in operation["responses"], path


def test_list_parameters_declare_bounds_and_empty_values() -> None:
    doc = _doc()
    lists = [o for p, m, o in _operations(doc) if m == "get" and o["operationId"].endswith("_list")]
    for operation in lists:
        params = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        size = params["page_size"]
        assert (size["schema"]["minimum"], size["schema"]["maximum"]) == (1, 100)
        assert size["allowEmptyValue"] is True and params["page_token"]["allowEmptyValue"] is True


def test_names_and_label_parts_declare_their_patterns() -> None:
    schemas = _doc()["components"]["schemas"]
    workspace = schemas["WorkspaceCreateRequest"]["properties"]["name"]["pattern"]
    assert re.match(workspace, "workspaces/acme") and not re.match(workspace, "acme")
    assert not re.match(workspace, "workspaces/Acme")
    source = schemas["SourceCreateRequest"]["properties"]["name"]["pattern"]
    assert re.match(source, "workspaces/acme/sources/web-1")
    assert not re.match(source, "workspaces/acme/sources/-web")
    key = schemas["LabelCreateRequest"]["properties"]["key"]
    assert key["type"] == "string" and "oneOf" not in key
    assert re.match(key["pattern"], "env") and not re.match(key["pattern"], "")
