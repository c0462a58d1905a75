"""Privacy > Detection in Chromium, under the Content-Security-Policy: the sidebar
entry, a custom matcher created and deleted through htmx (data-confirm asks first),
and the test panel flagging the fields of a pasted event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from privacy.models import PiiMatcher
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in
from tests.browser.test_content_security_policy import Watch, watched
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["watched"]


def test_owner_manages_and_tests_matchers(
    live_server: Any, watched: tuple[Page, Watch], django_user_model: Any
) -> None:
    page, watch = watched
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    base = live_server.url
    sign_in(page, base, "olivia")
    expect(page).to_have_url(f"{base}/workspaces/acme/")

    page.get_by_role("link", name="Detection").click()
    expect(page).to_have_url(f"{base}/workspaces/acme/privacy/detection/")
    expect(page.locator("#matcher-credit-card")).to_contain_text("Red")

    form = page.locator("#matcher-create")
    form.get_by_label("Name").fill("SIN")
    form.get_by_label("Match on").select_option("VALUE")
    form.get_by_label("Pattern").fill(r"^\d{3}-\d{3}-\d{3}$")
    form.get_by_role("button", name="Create matcher").click()
    row = page.locator("#custom-matcher-table tr", has_text="SIN")
    expect(row).to_be_visible()
    expect(page.locator("#custom-count")).to_have_text("1 of 100")

    event = {"traits": {"sin": "123-456-789", "email": "ann@example.com"}}
    page.locator("#id_event").fill(json.dumps(event))
    page.get_by_role("button", name="Test").click()
    sin = PiiMatcher.objects.get(name="SIN").key_id
    expect(page.locator(f"#flag-{sin}")).to_contain_text("traits.sin")
    expect(page.locator("#flag-email")).to_contain_text("traits.email")

    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Deleted matcher SIN.")).to_be_visible()
    assert watch.dialogs == ["Delete matcher SIN?"]
    assert not PiiMatcher.objects.exists()
    assert watch.violations == []
