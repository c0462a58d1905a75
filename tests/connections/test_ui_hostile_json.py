"""JSON typed into the UI is held to the API's limits: a clear error, nothing stored, never a 500.

The API's parser refuses JSON deeper than MAX_JSON_DEPTH and NUL escapes; the
UI's JSON fields (mapping fields, the test panels' sample events) parse text
themselves, so they must refuse the same input the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from connections.models import Destination, Source, Subscription
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from switchyard.validation import MAX_JSON_DEPTH
from workspace.models import Workspace

pytestmark = pytest.mark.django_db

BASE = "/workspaces/acme/sources/web/destinations"


@pytest.fixture
def equals(alice: User, make_workspace: Callable[..., Workspace]) -> Destination:
    acme = make_workspace(alice, "acme", "Acme")
    web: Source = do_create_source(
        principal=Principal(alice), workspace=acme, slug="web", display_name="Web"
    )
    return do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        settings={"url": "https://equals.example/in"},
    )


@pytest.fixture
def browser(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def deep(depth: int) -> str:
    return '{"a":' * (depth - 1) + '{"leaf":1}' + "}" * (depth - 1)


DEPTH = f"JSON must not be nested more than {MAX_JSON_DEPTH} levels deep"
NUL = "text must not contain NUL"
HOSTILE = {
    "past the depth limit": (deep(MAX_JSON_DEPTH + 1), DEPTH),
    "past the parser's recursion": (deep(100_000), DEPTH),
    "a NUL escape": ('{"@path": "$.a\\u0000b"}', NUL),
}


@pytest.mark.parametrize(("text", "reason"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_mapping_field_with_hostile_json_is_a_form_error_and_stores_nothing(
    browser: Client, equals: Destination, text: str, reason: str
) -> None:
    response = browser.post(
        f"{BASE}/{equals.key_id}/mappings/new/",
        {"action": "send", "name": "Send", "f_data": text, "trigger": 'type = "track"'},
    )
    assert response.status_code == 400
    assert f"Data: {reason}" in response.content.decode()
    assert not Subscription.objects.filter(destination=equals).exists()


@pytest.mark.parametrize("path", ["test", "send-test"])
@pytest.mark.parametrize(("text", "reason"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_test_panel_sample_event_with_hostile_json_is_explained(
    browser: Client, equals: Destination, path: str, text: str, reason: str
) -> None:
    response = browser.post(f"{BASE}/{equals.key_id}/{path}/", {"event": text})
    assert response.status_code == 200
    assert f"event is refused: {reason}" in response.content.decode()
