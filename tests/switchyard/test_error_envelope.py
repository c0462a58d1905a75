"""Every error under /v1beta/ is the JSON envelope with the Config API's code."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_envelope(response: object, status: int, code: int) -> dict:
    assert response.status_code == status, response.content  # type: ignore[attr-defined]
    assert response["Content-Type"].startswith("application/json")  # type: ignore[index]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "code"}
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]
    return body


def test_400_malformed_json(api: APIClient) -> None:
    response = api.post("/v1beta/workspaces", data="{not json", content_type="application/json")
    body = assert_envelope(response, 400, 3)
    assert "JSON parse error" in body["error"]


def test_400_body_that_is_not_an_object(api: APIClient) -> None:
    response = api.post("/v1beta/workspaces", data="[1, 2]", content_type="application/json")
    assert_envelope(response, 400, 3)


def test_401_without_credentials() -> None:
    response = APIClient().get("/v1beta/workspaces")
    body = assert_envelope(response, 401, 16)
    assert "Bearer" in body["error"]
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer", "Basic dXNlcjpwYXNz", "Token abc"])
def test_401_with_bad_credentials(header: str) -> None:
    response = APIClient().get("/v1beta/workspaces", HTTP_AUTHORIZATION=header)
    assert_envelope(response, 401, 16)


def test_403_read_only_token_write(alice: object, token_client: object) -> None:
    reader = token_client(alice, read_only=True)  # type: ignore[operator]
    response = reader.delete("/v1beta/workspaces/anything")
    body = assert_envelope(response, 403, 7)
    assert body["error"] == "insufficient scope"


def test_403_csrf_failure_for_session_writes_is_an_envelope(alice: object) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)  # type: ignore[arg-type]
    response = client.post(
        "/v1beta/workspaces",
        {"workspace": {"name": "workspaces/x", "display_name": "X"}},
        format="json",
    )
    body = assert_envelope(response, 403, 7)
    assert "CSRF" in body["error"]


def test_404_unknown_resource(api: APIClient) -> None:
    assert_envelope(api.get("/v1beta/workspaces/nope"), 404, 5)


def test_404_unknown_path_is_json_not_html(api: APIClient) -> None:
    body = assert_envelope(api.get("/v1beta/no/such/thing"), 404, 5)
    assert "/v1beta/no/such/thing" in body["error"]
    assert_envelope(Client().get("/v1beta/nothing-here"), 404, 5)


@pytest.mark.parametrize("method", ["put", "post"])
def test_405_unsupported_method(api: APIClient, method: str) -> None:
    response = getattr(api, method)("/v1beta/workspaces/acme", {}, format="json")
    body = assert_envelope(response, 405, 12)
    assert method.upper() in body["error"]


def test_415_non_json_body(api: APIClient) -> None:
    response = api.post("/v1beta/workspaces", data="a=b", content_type="text/plain")
    assert_envelope(response, 415, 3)


@pytest.mark.urls("tests.switchyard.boom_urls")
@pytest.mark.parametrize("path", ["/v1beta/boom/plain", "/v1beta/boom/api"])
def test_500_unhandled_exception(api: APIClient, path: str) -> None:
    body = assert_envelope(api.get(path), 500, 13)
    assert body["error"] == "internal error"  # no traceback or internals leak


def test_errors_outside_the_api_stay_html_pages() -> None:
    response = Client().get("/v1beta-not/anything")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
