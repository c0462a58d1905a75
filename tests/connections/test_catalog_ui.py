"""Connections > Catalog pages, through the Django test client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from workspace.models import Membership, Workspace

pytestmark = pytest.mark.django_db

PAGE = "/workspaces/acme/catalog/"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def client(alice: User, acme: Workspace) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def entries(html: str) -> set[str]:
    return {part.split('"', 1)[0] for part in html.split('data-catalog-entry="')[1:]}


def test_the_catalog_lists_destinations_by_default(client: Client) -> None:
    answer = client.get(PAGE)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "<title>Catalog · Acme · Switchyard</title>" in html
    assert {"actions-equals", "actions-webhook", "segment-connections"} <= entries(html)
    assert 'href="/workspaces/acme/catalog/destinations/actions-equals/"' in html
    assert ">Equals</a>" in html
    assert 'href="/workspaces/acme/catalog/"' in html  # the sidebar entry


def test_search_filters_the_list(client: Client) -> None:
    html = client.get(PAGE, {"q": "equals"}).content.decode()
    assert entries(html) == {"actions-equals"}
    assert 'value="equals"' in html
    html = client.get(PAGE, {"q": "no such thing"}).content.decode()
    assert entries(html) == set()
    assert "No destinations match." in html


def test_category_filter_and_the_sources_tab(client: Client) -> None:
    html = client.get(PAGE, {"category": "Livechat"}).content.decode()
    assert entries(html) == {"userengage"}
    html = client.get(PAGE, {"tab": "sources", "category": "mobile"}).content.decode()
    assert entries(html) == {"ios", "android", "kotlin", "swift", "react-native", "flutter"}
    html = client.get(PAGE, {"tab": "sources", "q": "http"}).content.decode()
    assert entries(html) == {"http-api"}


def test_an_unknown_category_shows_a_message_not_an_error(client: Client) -> None:
    answer = client.get(PAGE, {"category": "Gardening"})
    assert answer.status_code == 200
    assert "unknown category" in answer.content.decode()
    assert entries(answer.content.decode()) == set()


def test_htmx_live_search_answers_only_the_results(client: Client) -> None:
    answer = client.get(PAGE, {"q": "webhook"}, HTTP_HX_REQUEST="true")
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "<html" not in html
    assert entries(html) == {"actions-webhook"}


def test_the_destination_page_shows_settings_actions_fields_and_presets(client: Client) -> None:
    answer = client.get("/workspaces/acme/catalog/destinations/actions-equals/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert '<tr data-setting="url">' in html and "Equals URL" in html
    assert 'data-action="send"' in html
    assert 'data-field="data"' in html and "{&quot;@path&quot;: &quot;$.&quot;}" in html
    preset = html.split('<tr data-preset="Send">')[1].split("</tr>")[0]
    assert "<code>type = &quot;track&quot; or type = &quot;page&quot;" in preset
    assert preset.endswith("<td>Send</td>")  # the preset's action, by name
    # The owner may add it; the link works whether or not the add route exists yet.
    try:
        expected = reverse("connections:add_destination", args=["acme", "actions-equals"])
    except NoReverseMatch:
        expected = "/workspaces/acme/destinations/new/?definition=actions-equals"
    link = html.split('id="add-destination"')[1].split(">", 1)[0]
    assert f'href="{expected}"' in link


def test_secret_settings_are_badged(client: Client) -> None:
    html = client.get("/workspaces/acme/catalog/destinations/userengage/").content.decode()
    row = html.split('data-setting="api_key"')[1].split("</tr>")[0]
    assert "secret" in row


def test_members_without_create_rights_see_no_add_button(bob: User, acme: Workspace) -> None:
    Membership.objects.create(workspace=acme, user=bob)  # a plain member: no grants
    client = Client()
    client.force_login(bob)
    answer = client.get("/workspaces/acme/catalog/destinations/actions-equals/")
    assert answer.status_code == 200
    assert 'id="add-destination"' not in answer.content.decode()


def test_the_source_type_page(client: Client) -> None:
    answer = client.get("/workspaces/acme/catalog/sources/python/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "Python" in html and "Flagship" in html
    assert 'id="add-source"' in html


@pytest.mark.parametrize(
    "path",
    [
        "/workspaces/acme/catalog/destinations/carrier-pigeon/",
        "/workspaces/acme/catalog/sources/cobol/",
        "/workspaces/elsewhere/catalog/",
    ],
)
def test_unknown_entries_and_workspaces_are_404(client: Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_strangers_and_anonymous_users(bob: User, acme: Workspace) -> None:
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302
    assert "/login" in anonymous["Location"]
    stranger = Client()
    stranger.force_login(bob)
    assert stranger.get(PAGE).status_code == 404  # never reveal another workspace


def test_one_search_finds_the_webhook_in_the_api_the_catalog_and_the_picker(
    alice: User, client: Client
) -> None:
    # Every word must match somewhere (name, slug, description, categories): "raw" is
    # one of the webhook's categories, not part of its name.
    api = APIClient()
    api.force_login(alice)
    for query, found in (("webhook raw", True), ("WEBHOOK Raw", True), ("webhook nope", False)):
        listed = api.get("/v1beta/catalog/destinations", {"search": query}).json()
        api_slugs = {d["id"] for d in listed["destination_definitions"]}
        page_slugs = entries(client.get(PAGE, {"q": query}).content.decode())
        picker = client.get("/workspaces/acme/destinations/new/", {"q": query}).content.decode()
        picker_slugs = {part.split('"', 1)[0] for part in picker.split('data-definition="')[1:]}
        for where, slugs in (("api", api_slugs), ("catalog", page_slugs), ("picker", picker_slugs)):
            assert ("actions-webhook" in slugs) is found, (where, query, slugs)
        assert api_slugs == page_slugs == picker_slugs
