"""A user adding a destination whose URL is on their own machine sees at once that
delivery will refuse it, and which setting allows it; the destination is saved
anyway. Fixing the URL on the Settings tab makes the warning go."""

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

SETTING = "DELIVERY_ALLOW_PRIVATE_NETWORKS"


def test_a_private_url_warns_on_save_and_the_save_goes_through(
    live_server: Any, page: Page, django_user_model: Any, settings: Any
) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = False
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    base = live_server.url

    sign_in(page, base, "olivia")

    page.goto(f"{base}/workspaces/acme/destinations/new/?source=web&definition=actions-equals")
    page.get_by_label("Equals URL").fill("http://localhost:9000/hook")
    page.get_by_role("button", name="Create destination").click()
    expect(page.get_by_text("Added Equals to Web with 1 preset mapping.")).to_be_visible()
    warning = page.locator(".alert-warning")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("Delivery will refuse http://localhost:9000/hook")
    expect(warning).to_contain_text(f"{SETTING}=true")
    assert Destination.objects.get().settings == {"url": "http://localhost:9000/hook"}

    page.get_by_label("Equals URL").fill("https://8.8.8.8/hook")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Destination settings saved.")).to_be_visible()
    expect(page.locator(".alert-warning")).to_have_count(0)
