"""An owner adds Equals to a source through the UI, switches its preset mapping
off and on again (htmx), then tests a sample event and sees the mapped payload."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from connections.models import Destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in
from workspace.services.workspaces import do_create_workspace

pytestmark = pytest.mark.browser


def test_add_equals_enable_mapping_and_test(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    base = live_server.url

    sign_in(page, base, "olivia")

    page.goto(f"{base}/workspaces/acme/destinations/new/?source=web")
    page.get_by_label("Search destinations").fill("equals")
    expect(page.locator('[data-definition="userengage"]')).to_be_hidden()
    page.locator('[data-definition="actions-equals"]').click()
    expect(page.get_by_role("heading", name="Set up Equals for Web")).to_be_visible()
    page.get_by_label("Equals URL").fill("https://equals.example.com/hook")
    expect(page.get_by_label("Quick Setup: create the preset mappings")).to_be_checked()
    page.get_by_label("Enable destination").check()
    page.get_by_role("button", name="Create destination").click()
    expect(page.get_by_text("Added Equals to Web with 1 preset mapping.")).to_be_visible()
    destination = Destination.objects.get(source__slug="web")
    assert destination.enabled is True

    page.get_by_role("link", name="Mappings").click()
    row = page.locator("#mappings tbody tr[data-mapping]")
    expect(row).to_have_count(1)
    toggle = row.locator("button.mapping-toggle")
    expect(toggle).to_have_text("On")
    toggle.click()
    expect(page.locator("#mappings button.mapping-toggle")).to_have_text("Off")
    page.locator("#mappings button.mapping-toggle").click()
    expect(page.locator("#mappings button.mapping-toggle")).to_have_text("On")
    assert destination.subscriptions.get().enabled is True

    page.get_by_role("link", name="Test").click()
    page.get_by_label("Sample event (JSON)").fill(
        '{"type": "track", "event": "Order Completed", "userId": "u-42",'
        ' "properties": {"revenue": 25}}'
    )
    page.get_by_role("button", name="Test event", exact=True).click()
    expect(page.locator("#test-summary")).to_contain_text("1 mapping would send this event.")
    payload = page.locator(".mapped-payload pre")
    expect(payload).to_contain_text('"userId": "u-42"')
    expect(payload).to_contain_text('"revenue": 25')
