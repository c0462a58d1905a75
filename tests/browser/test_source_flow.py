"""An owner adds a source from the catalog and renames it: the type the catalog page
was for is picked, and saving the settings form keeps the source enabled."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from connections.models import Source
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in
from workspace.services.workspaces import do_create_workspace

pytestmark = pytest.mark.browser


def test_add_a_source_from_the_catalog_and_rename_it_keeps_it_enabled(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    base = live_server.url
    sign_in(page, base, "olivia")

    # The catalog's "Add source" picks the type in a picker fed by the catalog.
    page.goto(f"{base}/workspaces/acme/catalog/sources/python/")
    page.get_by_role("link", name="Add source").click()
    picker = page.get_by_label("Source type")
    expect(picker).to_have_js_property("tagName", "SELECT")
    expect(picker).to_have_value("python")
    assert picker.locator("option").count() > 10
    page.get_by_label("Display name").fill("Backend")
    page.get_by_label("Slug").fill("backend")
    page.get_by_role("button", name="Create source").click()
    expect(page).to_have_url(f"{base}/workspaces/acme/sources/backend/")
    source = Source.objects.get(slug="backend")
    assert (source.source_type, source.enabled) == ("python", True)

    # The Enabled checkbox shows the source's state; renaming leaves it enabled.
    enabled = page.get_by_label("Enabled")
    expect(enabled).to_be_checked()
    page.get_by_label("Display name").fill("Backend API")
    page.locator("#source-settings").get_by_role("button", name="Save").click()
    expect(page.get_by_label("Display name")).to_have_value("Backend API")
    expect(page.get_by_label("Enabled")).to_be_checked()
    source.refresh_from_db()
    assert (source.display_name, source.enabled) == ("Backend API", True)

    # Unticking it is what disables the source, and the page says so.
    page.get_by_label("Enabled").uncheck()
    page.locator("#source-settings").get_by_role("button", name="Save").click()
    expect(page.get_by_label("Enabled")).not_to_be_checked()
    source.refresh_from_db()
    assert source.enabled is False
