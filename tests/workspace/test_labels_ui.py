"""Settings > Labels in the browser UI: everyone reads the catalogue, owners change it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from workspace.models import AuditEntry, Label, Membership, Workspace

pytestmark = pytest.mark.django_db

URL = "/workspaces/acme/settings/labels/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def owner(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def member(acme: Workspace, bob: User) -> Client:
    Membership.objects.create(workspace=acme, user=bob)
    client = Client()
    client.force_login(bob)
    return client


def state(workspace: Workspace) -> tuple[list[tuple[str, str, str]], int]:
    """Everything a label write could change: the catalogue and the label audit entries."""
    catalogue = list(
        Label.objects.filter(workspace=workspace)
        .order_by("key", "value")
        .values_list("key", "value", "description")
    )
    return catalogue, AuditEntry.objects.filter(resource_type="label").count()


def delete_url(key: str, value: str) -> str:
    return f"{URL}{key}:{value}/delete"


def test_owner_sees_the_defaults_grouped_by_key_and_the_create_form(
    acme: Workspace, owner: Client
) -> None:
    page = owner.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="label-group-environment"' in html
    group = html[html.index('id="label-group-environment"') :]
    group = group[: group.index("</tbody>")]
    assert group.index('id="label-environment:dev"') < group.index('id="label-environment:prod"')
    assert group.count('scope="rowgroup"') == 1
    assert 'id="label-create"' in html
    assert f'action="{delete_url("environment", "prod")}"' in html
    assert 'id="labels-read-only"' not in html


def test_nav_link_follows_general_for_everyone(
    acme: Workspace, owner: Client, member: Client
) -> None:
    for client in (owner, member):
        html = client.get("/workspaces/acme/").content.decode()
        general = html.index('href="/workspaces/acme/settings/">General</a>')
        assert html.index(f'href="{URL}">Labels</a>') > general
    assert 'class="nav-link active" href="/workspaces/acme/settings/labels/"' in (
        owner.get(URL).content.decode()
    )


def test_create_with_a_plain_post_redirects_and_audits(acme: Workspace, owner: Client) -> None:
    form = {"key": "team", "value": "growth", "description": "Growth team"}
    response = owner.post(URL, form)
    assert response.status_code == 302 and response["Location"] == URL
    label = Label.objects.get(workspace=acme, key="team", value="growth")
    assert label.description == "Growth team"
    assert AuditEntry.objects.filter(action="label.created").count() == 1
    page = owner.get(URL).content.decode()
    assert "Created label team:growth." in page and "label-group-team" in page


def test_create_with_htmx_swaps_the_catalogue(acme: Workspace, owner: Client) -> None:
    response = owner.post(URL, {"key": "team", "value": "growth"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="label-catalogue">')
    assert 'id="label-team:growth"' in html and "Created label team:growth." in html
    assert 'value="team"' not in html and 'value="growth"' not in html  # a fresh form
    assert Label.objects.filter(workspace=acme, key="team", value="growth").exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_bad_key_shows_the_rule_and_creates_nothing(
    acme: Workspace, owner: Client, htmx: bool
) -> None:
    before = state(acme)
    response = owner.post(URL, {"key": "1team", "value": "growth"}, **(HTMX if htmx else {}))
    assert response.status_code == (200 if htmx else 400)
    html = response.content.decode()
    assert "is-invalid" in html
    assert "invalid label key &#x27;1team&#x27;: a label key begins with a letter" in html
    assert state(acme) == before


def test_bad_value_is_shown_on_the_value_field(acme: Workspace, owner: Client) -> None:
    before = state(acme)
    response = owner.post(URL, {"key": "team", "value": "growth team"})
    assert response.status_code == 400
    html = response.content.decode()
    value_field = html[html.index('name="value"') :]
    assert "invalid label value" in value_field[: value_field.index("</div>")]
    assert state(acme) == before


def test_duplicate_shows_already_exists(acme: Workspace, owner: Client) -> None:
    before = state(acme)
    response = owner.post(URL, {"key": "environment", "value": "prod"})
    assert response.status_code == 409
    assert b"label environment:prod already exists in this workspace" in response.content
    assert state(acme) == before


def test_delete_with_a_plain_post_redirects_and_audits_once(acme: Workspace, owner: Client) -> None:
    response = owner.post(delete_url("environment", "dev"))
    assert response.status_code == 302 and response["Location"] == URL
    assert not Label.objects.filter(workspace=acme, value="dev").exists()
    entries = AuditEntry.objects.filter(resource_type="label")
    assert [(e.action, e.resource_name) for e in entries] == [
        ("label.deleted", "workspaces/acme/labels/environment:dev")
    ]
    assert b"Deleted label environment:dev." in owner.get(URL).content


def test_delete_with_htmx_swaps_the_catalogue(acme: Workspace, owner: Client) -> None:
    response = owner.post(delete_url("environment", "dev"), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="label-environment:dev"' not in html and 'id="label-environment:prod"' in html


def test_delete_of_an_unknown_label_is_not_found(acme: Workspace, owner: Client) -> None:
    assert owner.post(delete_url("environment", "staging")).status_code == 404


def test_delete_requires_post(acme: Workspace, owner: Client) -> None:
    assert owner.get(delete_url("environment", "dev")).status_code == 405
    assert Label.objects.filter(workspace=acme, value="dev").exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_delete_of_a_label_in_use_shows_the_usages(
    acme: Workspace, owner: Client, alice: User, htmx: bool
) -> None:
    from connections.services.sources import do_create_source
    from switchyard.access import Principal

    do_create_source(
        principal=Principal(alice),
        workspace=acme,
        slug="js",
        display_name="JS",
        labels=["environment:prod"],
    )
    before = state(acme)
    response = owner.post(delete_url("environment", "prod"), **(HTMX if htmx else {}))
    assert response.status_code == (200 if htmx else 400)
    html = response.content.decode()
    assert 'id="label-error"' in html
    assert "label environment:prod is in use: source workspaces/acme/sources/js" in html
    assert 'id="label-environment:prod"' in html
    assert state(acme) == before


def test_members_see_the_catalogue_read_only(acme: Workspace, member: Client) -> None:
    page = member.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="label-environment:dev"' in html and 'id="label-environment:prod"' in html
    assert 'id="labels-read-only"' in html
    assert 'id="label-create"' not in html and "/delete" not in html


def test_members_cannot_create_or_delete(acme: Workspace, member: Client) -> None:
    before = state(acme)
    created = member.post(URL, {"key": "team", "value": "growth"})
    assert created.status_code == 403
    assert b"you may not administer this workspace" in created.content
    deleted = member.post(delete_url("environment", "prod"))
    assert deleted.status_code == 403
    assert b"you may not administer this workspace" in deleted.content
    assert member.post(URL, {"key": "team", "value": "growth"}, **HTMX).status_code == 200
    assert state(acme) == before


def test_outsiders_get_not_found(acme: Workspace, bob: User) -> None:
    client = Client()
    client.force_login(bob)
    before = state(acme)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"key": "team", "value": "growth"}).status_code == 404
    assert client.post(delete_url("environment", "prod")).status_code == 404
    assert state(acme) == before


def test_pages_require_sign_in(acme: Workspace) -> None:
    before = state(acme)
    for response in (
        Client().get(URL),
        Client().post(URL, {"key": "team", "value": "growth"}),
        Client().post(delete_url("environment", "prod")),
    ):
        assert response.status_code == 302 and response["Location"].startswith("/login?next=")
    assert state(acme) == before


def test_a_workspace_created_in_the_ui_has_the_defaults(owner: Client) -> None:
    assert owner.post("/workspaces/new", {"display_name": "New", "slug": "new"}).status_code == 302
    html = owner.get("/workspaces/new/settings/labels/").content.decode()
    assert 'id="label-environment:dev"' in html and 'id="label-environment:prod"' in html
