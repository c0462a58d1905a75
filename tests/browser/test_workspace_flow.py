"""A person signs in, creates a workspace, renames it and deletes it, in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PASSWORD, sign_in
from workspace.models import Workspace

pytestmark = pytest.mark.browser

SLUG = "flow-test"


def test_sign_in_create_rename_and_delete_workspace(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    django_user_model.objects.create_user(username="flow-user", password=PASSWORD)
    base = live_server.url

    # Sign in; with no workspace yet, / sends us to the create form.
    sign_in(page, base, "flow-user")
    expect(page).to_have_url(f"{base}/workspaces/new")

    # Create a workspace and land on its home page.
    page.get_by_label("Workspace name").fill("Flow Test")
    page.get_by_label("Slug").fill(SLUG)
    page.get_by_role("button", name="Create workspace").click()
    expect(page).to_have_url(f"{base}/workspaces/{SLUG}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Flow Test")
    expect(page.locator("#workspace-switcher")).to_have_text("Flow Test")
    workspace = Workspace.objects.get(slug=SLUG)
    assert workspace.display_name == "Flow Test"

    # Settings: rename through htmx (the card is swapped in place, no navigation).
    page.get_by_role("link", name="General").click()
    expect(page).to_have_url(f"{base}/workspaces/{SLUG}/settings/")
    page.get_by_label("Workspace name").fill("Renamed Flow")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: the workspace is now called Renamed Flow.")).to_be_visible()
    expect(page).to_have_url(f"{base}/workspaces/{SLUG}/settings/")
    # Out-of-band swaps renamed it everywhere else on the page as well.
    expect(page.locator("#workspace-switcher")).to_have_text("Renamed Flow")
    expect(page.locator("#delete-name")).to_have_text("Renamed Flow")
    page.locator("#workspace-switcher").click()
    expect(page.get_by_role("link", name=f"Renamed Flow {SLUG}")).to_be_visible()
    page.keyboard.press("Escape")
    workspace.refresh_from_db()
    assert workspace.display_name == "Renamed Flow"

    # A wrong confirmation re-renders the form with an error and deletes nothing.
    confirm = page.get_by_label("Type the workspace slug to confirm")
    confirm.fill("not-the-slug")
    page.get_by_role("button", name="Delete workspace").click()
    expect(page.get_by_text(f"Type '{SLUG}' exactly to delete this workspace.")).to_be_visible()
    expect(page.get_by_label("Type the workspace slug to confirm")).to_have_class(
        re.compile(r"\bis-invalid\b")
    )
    assert Workspace.objects.filter(slug=SLUG).exists()

    # The right confirmation deletes it and redirects to / (which, with no
    # workspace left, forwards to the create form).
    page.get_by_label("Type the workspace slug to confirm").fill(SLUG)
    page.get_by_role("button", name="Delete workspace").click()
    expect(page).to_have_url(f"{base}/workspaces/new")
    expect(page.get_by_text("Deleted workspace Renamed Flow.")).to_be_visible()
    assert not Workspace.objects.filter(slug=SLUG).exists()
    assert not Workspace.objects.filter(pk=workspace.pk).exists()
