"""Workspace pages through Django's test client (the browser test drives the same flow)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from workspace.models import AuditEntry, Membership, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def test_pages_require_sign_in() -> None:
    for url in ("/", "/workspaces/", "/workspaces/new", "/workspaces/acme/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login?next=")


def test_sign_in_with_username_and_password(alice: User) -> None:
    client = Client()
    page = client.get("/login")
    assert b'name="username"' in page.content and b'name="password"' in page.content
    bad = client.post("/login", {"username": "alice", "password": "wrong"})
    assert bad.status_code == 200 and b"alert-danger" in bad.content
    good = client.post("/login", {"username": "alice", "password": "correct-horse-42"})
    assert good.status_code == 302


def test_without_workspaces_the_index_leads_to_creating_one(browser: Client) -> None:
    response = browser.get("/")
    assert response["Location"] == "/workspaces/new"


def test_create_workspace_from_the_form(browser: Client, alice: User) -> None:
    response = browser.post("/workspaces/new", {"display_name": "Acme", "slug": "acme"})
    assert response.status_code == 302
    assert response["Location"] == "/workspaces/acme/"
    workspace = Workspace.objects.get(slug="acme")
    assert Membership.objects.get(workspace=workspace, user=alice).role == "owner"
    home = browser.get("/workspaces/acme/")
    assert b"Acme" in home.content
    assert b"workspace.created" in home.content  # recent activity, from the audit trail


def test_create_with_a_taken_or_bad_slug_shows_the_error(
    browser: Client, bob: User, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(bob, "taken")
    taken = browser.post("/workspaces/new", {"display_name": "Mine", "slug": "taken"})
    assert taken.status_code == 200
    assert b"already exists" in taken.content
    bad = browser.post("/workspaces/new", {"display_name": "Mine", "slug": "Not A Slug"})
    assert b"invalid slug" in bad.content
    assert Workspace.objects.count() == 1


def test_switcher_lists_only_my_workspaces(
    browser: Client, alice: User, bob: User, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(alice, "mine", "Mine")
    make_workspace(bob, "theirs", "Theirs")
    page = browser.get("/workspaces/mine/")
    assert b'href="/workspaces/mine/"' in page.content
    assert b"theirs" not in page.content
    assert browser.get("/workspaces/theirs/").status_code == 404


def test_rename_with_htmx_swaps_the_card(
    browser: Client, alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(alice, "acme", "Acme")
    response = browser.post(
        "/workspaces/acme/settings/", {"display_name": "Acme Inc"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b'id="rename-card"' in response.content
    assert b"<html" not in response.content
    assert b"now called Acme Inc" in response.content
    # out-of-band swaps update the switcher and the delete card too
    assert b'<span id="switcher-label" hx-swap-oob="true">Acme Inc</span>' in response.content
    assert b'<strong id="delete-name" hx-swap-oob="true">Acme Inc</strong>' in response.content
    assert b'<span id="switcher-entry-acme" hx-swap-oob="true">Acme Inc</span>' in response.content
    assert Workspace.objects.get(slug="acme").display_name == "Acme Inc"


def test_rename_without_htmx_redirects(
    browser: Client, alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(alice, "acme", "Acme")
    response = browser.post("/workspaces/acme/settings/", {"display_name": "Renamed"})
    assert response.status_code == 302
    assert Workspace.objects.get(slug="acme").display_name == "Renamed"


def test_member_cannot_rename_or_delete(
    alice: User, bob: User, make_workspace: Callable[..., Workspace]
) -> None:
    workspace = make_workspace(alice, "acme", "Acme")
    Membership.objects.create(workspace=workspace, user=bob)
    client = Client()
    client.force_login(bob)
    page = client.get("/workspaces/acme/settings/").content.decode()
    # A member is shown the settings, not forms they may not use.
    assert 'id="workspace-read-only"' in page and "Only a Workspace Owner can" in page
    assert 'name="display_name"' not in page and "Delete workspace" not in page
    response = client.post("/workspaces/acme/settings/", {"display_name": "Bob's"})
    assert b"you may not change this workspace" in response.content
    client.post("/workspaces/acme/delete", {"confirm": "acme"})
    assert Workspace.objects.get(slug="acme").display_name == "Acme"


def test_an_owner_is_shown_the_rename_and_delete_forms(
    browser: Client, alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(alice, "acme", "Acme")
    page = browser.get("/workspaces/acme/settings/").content.decode()
    assert 'name="display_name"' in page and "Delete workspace" in page
    assert 'id="workspace-read-only"' not in page


def test_delete_needs_the_typed_slug(
    browser: Client, alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(alice, "acme", "Acme")
    wrong = browser.post("/workspaces/acme/delete", {"confirm": "ACME"})
    assert wrong.status_code == 400
    assert b"Type &#x27;acme&#x27; exactly" in wrong.content
    assert Workspace.objects.filter(slug="acme").exists()
    right = browser.post("/workspaces/acme/delete", {"confirm": "acme"})
    assert right.status_code == 302
    assert not Workspace.objects.filter(slug="acme").exists()
    assert AuditEntry.objects.filter(action="workspace.deleted", workspace_slug="acme").exists()


def test_static_assets_are_served_locally(browser: Client) -> None:
    page = browser.get("/workspaces/new").content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in page
    assert "/static/vendor/htmx/htmx.min.js" in page
    assert "http://" not in page and "https://" not in page
    for asset in ("vendor/bootstrap/bootstrap.min.css", "vendor/htmx/htmx.min.js"):
        assert Client().get(f"/static/{asset}").status_code == 200
