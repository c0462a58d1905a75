"""Saving a destination or a mapping whose URL the SSRF guard will refuse is a
warning naming DELIVERY_ALLOW_PRIVATE_NETWORKS, at once (a ``warnings`` list in the
API's answer, a warning message in the UI), not a refusal: the save goes through."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from connections.dataplane.delivery import address_check
from connections.models import Destination, Source, Subscription
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import Workspace

pytestmark = pytest.mark.django_db

DESTINATIONS = "/v1beta/workspaces/acme/sources/web/destinations"
SETTING = "DELIVERY_ALLOW_PRIVATE_NETWORKS"


@pytest.fixture(autouse=True)
def guard_on(settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = False


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Source:
    workspace = make_workspace(alice, "acme", "Acme")
    return do_create_source(
        principal=Principal(alice), workspace=workspace, slug="web", display_name="Web"
    )


def create_equals(api: APIClient, url: str) -> Any:
    body = {"destination": {"definition": "actions-equals", "settings": {"url": url}}}
    return api.post(DESTINATIONS, body, format="json")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://localhost:8080/in",
        "https://[::1]/x",
        "http://10.1.2.3",
    ],
)
def test_api_create_warns_about_a_private_url_and_saves(
    api: APIClient, web: Source, url: str
) -> None:
    response = create_equals(api, url)
    assert response.status_code == 200, response.json()
    warnings = response.json()["warnings"]
    assert len(warnings) == 1
    assert url in warnings[0]
    assert SETTING in warnings[0]
    assert Destination.objects.get().settings == {"url": url}


def test_no_warning_for_a_public_address_or_with_private_networks_allowed(
    api: APIClient, web: Source, settings: Any
) -> None:
    assert create_equals(api, "https://8.8.8.8/hook").json()["warnings"] == []
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True
    assert create_equals(api, "http://127.0.0.1:9000/hook").json()["warnings"] == []


def test_get_and_list_carry_an_empty_warnings_list(api: APIClient, web: Source) -> None:
    created = create_equals(api, "http://127.0.0.1:9000/hook").json()
    assert api.get(f"{DESTINATIONS}/{created['id']}").json()["warnings"] == []
    assert api.get(DESTINATIONS).json()["destinations"][0]["warnings"] == []


def test_api_update_warns(api: APIClient, web: Source) -> None:
    created = create_equals(api, "https://8.8.8.8/hook").json()
    response = api.patch(
        f"{DESTINATIONS}/{created['id']}",
        {
            "destination": {"settings": {"url": "http://192.168.1.20/in"}},
            "update_mask": {"paths": ["destination.settings"]},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [w for w in response.json()["warnings"] if "192.168.1.20" in w and SETTING in w]


def test_a_webhook_mapping_url_warns_on_its_save_and_on_the_destination(
    api: APIClient, web: Source
) -> None:
    created = api.post(
        DESTINATIONS, {"destination": {"definition": "actions-webhook"}}, format="json"
    ).json()
    assert created["warnings"] == []
    mapping = {"url": "http://127.0.0.1:3000/events", "method": "POST", "data": {"@path": "$."}}
    body = {"subscription": {"action": "send", "mapping": mapping}}
    response = api.post(f"{DESTINATIONS}/{created['id']}/subscriptions", body, format="json")
    assert response.status_code == 200, response.json()
    assert SETTING in response.json()["warnings"][0]
    assert Subscription.objects.get().mapping["url"] == "http://127.0.0.1:3000/events"
    # The destination's own save mentions its mappings' URLs too.
    patched = api.patch(
        f"{DESTINATIONS}/{created['id']}",
        {
            "destination": {"display_name": "Hook"},
            "update_mask": {"paths": ["destination.display_name"]},
        },
        format="json",
    )
    assert "127.0.0.1:3000" in patched.json()["warnings"][0]


def test_templates_and_directives_are_not_urls_yet() -> None:
    from connections.services.address_warnings import _literal_urls

    mapping = {
        "url": "http://{{properties.host}}/x",
        "data": {"@template": "http://127.0.0.1/{{userId}}"},
        "headers": {"X-Origin": "http://10.0.0.1/a"},
    }
    assert list(_literal_urls(mapping)) == ["http://10.0.0.1/a"]


def test_a_name_that_does_not_resolve_in_time_says_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    released = threading.Event()

    def hanging(*args: Any, **kwargs: Any) -> Any:
        released.wait(5)
        raise socket.gaierror("gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    try:
        assert address_check.refusal("http://slow.example/x", timeout=0.05) is None
    finally:
        released.set()


def test_names_resolve_side_by_side_and_a_slow_one_holds_up_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    released = threading.Event()
    real = socket.getaddrinfo

    def slow_for_one(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "slow.example":
            released.wait(5)
            raise socket.gaierror("gave up")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_for_one)
    urls = ["http://slow.example/a", "http://localhost:8080/b", "http://10.9.8.7/c"]
    try:
        found = address_check.warnings_for(urls, timeout=2)
    finally:
        released.set()
    assert len(found) == 2
    assert "localhost:8080" in found[0] and "10.9.8.7" in found[1]


def test_a_name_that_does_not_resolve_says_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror("no such name")

    monkeypatch.setattr(socket, "getaddrinfo", failing)
    assert address_check.warnings_for(["http://nowhere.invalid/x"]) == []


def test_ui_settings_save_shows_the_warning(alice: User, web: Source) -> None:
    destination = do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        settings={"url": "https://8.8.8.8/hook"},
    )
    client = Client()
    client.force_login(alice)
    page = f"/workspaces/acme/sources/web/destinations/{destination.key_id}/"
    response = client.post(
        page,
        {"intent": "save", "display_name": "Equals", "s_url": "http://127.0.0.1:9000/hook"},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Destination settings saved." in text
    assert "alert-warning" in text
    assert SETTING in text
    destination.refresh_from_db()
    assert destination.settings == {"url": "http://127.0.0.1:9000/hook"}
    # A public URL saves without one.
    response = client.post(
        page,
        {"intent": "save", "display_name": "Equals", "s_url": "https://8.8.8.8/x"},
        follow=True,
    )
    assert SETTING not in response.content.decode()
