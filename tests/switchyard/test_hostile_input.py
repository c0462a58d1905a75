"""Input no view can store is refused: 400 (413 for size) in the envelope, nothing written.

NUL (PostgreSQL refuses it in text and jsonb), JSON nested past the documented
limit, bodies over DATA_UPLOAD_MAX_MEMORY_SIZE and a non-ASCII digit where an id
is expected, against real endpoints of the API and the UI.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from connections.models import Destination, Source, Subscription
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from switchyard.api.parsers import JSONParser, RequestTooLarge
from switchyard.validation import MAX_JSON_DEPTH
from workspace.models import AuditEntry, Workspace
from workspace.services.audit import REDACTED, redact

pytestmark = pytest.mark.django_db

WORKSPACE = "/v1beta/workspaces/acme"
SOURCE = f"{WORKSPACE}/sources/web"
DESTINATIONS = f"{SOURCE}/destinations"
EQUALS_URL = "https://equals.example/in"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def web(alice: User, acme: Workspace) -> Source:
    return do_create_source(
        principal=Principal(alice), workspace=acme, slug="web", display_name="Web"
    )


@pytest.fixture
def equals(alice: User, web: Source) -> Destination:
    return do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        settings={"url": EQUALS_URL},
    )


@pytest.fixture
def browser(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def raw_nested(depth: int) -> str:
    """JSON text ``depth`` levels deep, written without recursion."""
    return '{"a":' * (depth - 1) + '{"leaf":1}' + "}" * (depth - 1)


def assert_envelope(response: Any, status: int, code: int = 3) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "code"}
    assert body["code"] == code
    return str(body["error"])


def patch_settings(api: APIClient, body: str) -> Any:
    return api.generic("PATCH", WORKSPACE, body, content_type="application/json")


def settings_body(value_json: str) -> str:
    return (
        '{"workspace": {"settings": ' + value_json + "}, "
        '"update_mask": {"paths": ["workspace.settings"]}}'
    )


def audit_trail() -> list[tuple[str, str]]:
    return list(AuditEntry.objects.order_by("id").values_list("action", "resource_name"))


# -- NUL ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value_json",
    [
        '{"greeting": "hi\\u0000there"}',  # in a string
        '{"bad\\u0000key": "x"}',  # in a key
        '{"list": [["deep \\u0000"]]}',  # anywhere inside
    ],
)
def test_nul_in_workspace_settings_is_400_and_changes_nothing(
    api: APIClient, acme: Workspace, value_json: str
) -> None:
    trail = audit_trail()
    error = assert_envelope(patch_settings(api, settings_body(value_json)), 400)
    assert "NUL" in error
    acme.refresh_from_db()
    assert acme.settings == {}
    assert audit_trail() == trail


def test_nul_in_destination_settings_is_400_and_creates_nothing(
    api: APIClient, web: Source
) -> None:
    trail = audit_trail()
    body = {"destination": {"definition": "actions-equals", "settings": {"url": "https://x\0"}}}
    response = api.post(DESTINATIONS, body, format="json")
    assert "NUL" in assert_envelope(response, 400)
    assert not Destination.objects.exists()
    assert audit_trail() == trail


def test_nul_in_a_subscription_mapping_is_400_and_creates_nothing(
    api: APIClient, equals: Destination
) -> None:
    trail = audit_trail()
    mapping = {"data": {"@path": "$.\0"}}
    body = {"subscription": {"action": "send", "mapping": mapping}}
    url = f"{DESTINATIONS}/{equals.key_id}/subscriptions"
    before = Subscription.objects.count()
    assert_envelope(api.post(url, body, format="json"), 400)
    assert Subscription.objects.count() == before
    assert audit_trail() == trail


@pytest.mark.parametrize("query", ["page_token=%00", "page_size=1%00", "x%00=1"])
def test_nul_in_a_query_parameter_is_400(api: APIClient, acme: Workspace, query: str) -> None:
    assert "NUL" in assert_envelope(api.get(f"/v1beta/workspaces?{query}"), 400)


@pytest.mark.parametrize("path", [f"{WORKSPACE}%00", f"{WORKSPACE}/sources/we%00b"])
def test_nul_in_a_path_segment_is_400(api: APIClient, web: Source, path: str) -> None:
    assert_envelope(api.get(path), 400)
    trail = audit_trail()
    body = {"source": {"display_name": "Renamed"}, "update_mask": {"paths": ["display_name"]}}
    assert_envelope(api.patch(path, body, format="json"), 400)
    assert Source.objects.get(pk=web.pk).display_name == "Web"
    assert audit_trail() == trail


def test_nul_in_a_ui_form_is_a_400_page_and_changes_nothing(
    browser: Client, acme: Workspace
) -> None:
    trail = audit_trail()
    response = browser.post("/workspaces/acme/settings/", {"display_name": "Acme\0Inc"})
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")
    assert Workspace.objects.get(pk=acme.pk).display_name == "Acme"
    assert audit_trail() == trail


def test_nul_in_a_ui_path_or_query_is_a_400_page(browser: Client, web: Source) -> None:
    assert browser.get("/workspaces/acme/sources/we%00b/debugger/").status_code == 400
    assert browser.get("/workspaces/acme/sources/web/debugger/?event=%00").status_code == 400


# -- nesting ------------------------------------------------------------------------------


def test_settings_nested_500_deep_are_400_and_change_nothing(
    api: APIClient, acme: Workspace
) -> None:
    trail = audit_trail()
    response = patch_settings(api, settings_body(json.dumps(nested(500))))
    assert f"more than {MAX_JSON_DEPTH} levels" in assert_envelope(response, 400)
    acme.refresh_from_db()
    assert acme.settings == {}
    assert audit_trail() == trail


def test_settings_at_the_depth_limit_are_stored(api: APIClient, acme: Workspace) -> None:
    # The body wraps settings in two levels: {"workspace": {"settings": ...}}.
    value = nested(MAX_JSON_DEPTH - 2)
    response = patch_settings(api, settings_body(json.dumps(value)))
    assert response.status_code == 200, response.content
    acme.refresh_from_db()
    assert acme.settings == value


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_a_body_nested_about_1000_deep_is_400(api: APIClient, acme: Workspace, depth: int) -> None:
    trail = audit_trail()
    assert_envelope(patch_settings(api, settings_body(raw_nested(depth))), 400)
    assert_envelope(
        api.post("/v1beta/workspaces", raw_nested(depth), content_type="application/json"), 400
    )
    acme.refresh_from_db()
    assert acme.settings == {}
    assert audit_trail() == trail


def test_the_audit_trail_redacts_settings_nested_500_deep() -> None:
    # Services called outside the API (forms, tasks) still reach the audit code.
    value = nested(500)
    innermost: dict[str, Any] = value
    while "a" in innermost:
        innermost = innermost["a"]
    innermost["api_key"] = "hunter2"
    copy = redact({"settings": value, "items": [1, {"token": "t"}, [2]]})
    assert copy["items"] == [1, {"token": REDACTED}, [2]]
    while "a" in copy["settings"]:
        copy["settings"] = copy["settings"]["a"]
    assert copy["settings"] == {"leaf": 1, "api_key": REDACTED}
    assert innermost["api_key"] == "hunter2"  # the input is left alone


# -- size ---------------------------------------------------------------------------------


def too_large_body() -> str:
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    return settings_body(json.dumps({"padding": padding}))


def test_a_body_over_the_limit_is_413_and_changes_nothing(api: APIClient, acme: Workspace) -> None:
    trail = audit_trail()
    error = assert_envelope(patch_settings(api, too_large_body()), 413)
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in error
    acme.refresh_from_db()
    assert acme.settings == {}
    assert audit_trail() == trail


def test_the_parser_counts_what_it_reads_when_no_length_is_announced() -> None:
    # A chunked upload has no Content-Length for the middleware to refuse early.
    with pytest.raises(RequestTooLarge):
        JSONParser().parse(io.BytesIO(too_large_body().encode()))


def test_a_form_over_the_limit_is_a_400_page(browser: Client, acme: Workspace) -> None:
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = browser.post("/workspaces/acme/settings/", {"display_name": padding})
    assert response.status_code == 400
    assert Workspace.objects.get(pk=acme.pk).display_name == "Acme"


# -- the debugger's ``after`` -------------------------------------------------------------


@pytest.mark.parametrize("after", ["²", "١٢", "x", "-1"])
def test_debugger_after_that_is_not_an_ascii_id_is_400(
    browser: Client, web: Source, after: str
) -> None:
    response = browser.get("/workspaces/acme/sources/web/debugger/events/", {"after": after})
    assert response.status_code == 400


def test_debugger_api_with_a_non_ascii_digit_is_never_a_500(api: APIClient, web: Source) -> None:
    assert_envelope(api.get(f"{SOURCE}/events/²"), 404, 5)
    assert_envelope(api.get(f"{SOURCE}/events", {"page_token": "²"}), 400)
    # The API pages with page_token and has no ``after``: it is ignored, as unknown
    # parameters are.
    assert api.get(f"{SOURCE}/events", {"after": "²"}).status_code == 200
