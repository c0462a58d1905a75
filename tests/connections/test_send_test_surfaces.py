"""The Event Tester through the API (`:test`) and the UI buttons, against a real local server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from connections.models import PipelineCount
from tests.connections.delivery_support import (
    Server,
    Setup,
    make_setup,
    track,
)
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_network(settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Setup:
    return make_setup(alice, make_workspace(alice, "acme"))


def test_api_test_method_sends_and_answers_the_exchange(
    api: APIClient, web: Setup, server: Server
) -> None:
    destination, subscription = web.webhook(f"{server.url}/hook")
    url = f"/v1beta/{destination.resource_name}:test"
    body = api.post(url, {"event": track(messageId="m-test")}, format="json").json()
    (received,) = server.wait_for(1)
    assert received.json()["messageId"] == "m-test"
    (mapping,) = body["mappings"]
    assert mapping["id"] == subscription.key_id and mapping["sent"] is True
    assert mapping["result"]["status"] == "delivered"
    assert not PipelineCount.objects.filter(stage="delivery").exists()


def test_api_test_method_refuses_bad_input_and_unknown_mappings(
    api: APIClient, web: Setup, server: Server
) -> None:
    destination, _ = web.webhook(f"{server.url}/hook")
    url = f"/v1beta/{destination.resource_name}:test"
    assert api.post(url, {"event": {"userId": "u"}}, format="json").status_code == 400
    missing = api.post(url, {"event": track(), "subscription": "sub_nope"}, format="json")
    assert missing.status_code == 404
    assert server.requests == []


def test_ui_send_test_event_button_sends_for_real(alice: User, web: Setup, server: Server) -> None:
    destination, subscription = web.webhook(f"{server.url}/hook")
    client = Client()
    client.force_login(alice)
    page = client.get(f"/{destination.resource_name}/?tab=test").content.decode()
    assert 'id="send-test"' in page
    answer = client.post(
        f"/{destination.resource_name}/send-test/",
        {"event": json.dumps(track(messageId="ui-test")), "subscription": subscription.key_id},
    ).content.decode()
    assert server.wait_for(1)[0].json()["messageId"] == "ui-test"
    assert "delivered" in answer
    bad = client.post(f"/{destination.resource_name}/send-test/", {"event": "{"}).content
    assert b"not valid JSON" in bad
