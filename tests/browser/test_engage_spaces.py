"""Engage > Spaces in Chromium, under the Content-Security-Policy: a workspace
without spaces creates its Dev space in one click, connects a Dev-labelled source,
generates a Profile API token (shown once), requests the space's deletion by
typing its name (data-confirm asks first) and cancels it from the banner."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from connections.services.sources import do_create_source
from engage.models import Space, SpaceSource
from engage.services.tokens import space_for_token
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in
from tests.browser.test_content_security_policy import Watch, watched
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["watched"]


def test_owner_creates_a_space_connects_a_source_makes_a_token_and_cancels_deletion(
    live_server: Any, watched: tuple[Page, Watch], django_user_model: Any
) -> None:
    page, watch = watched
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    principal = Principal(owner)
    workspace = do_create_workspace(principal=principal, slug="acme", display_name="Acme")
    for slug, label in (("web", "environment:dev"), ("ios", "environment:prod")):
        do_create_source(
            principal=principal,
            workspace=workspace,
            slug=slug,
            display_name=slug.title(),
            labels=[label],
        )
    base = live_server.url
    sign_in(page, base, "olivia")

    page.get_by_role("link", name="Spaces").click()
    expect(page).to_have_url(f"{base}/workspaces/acme/engage/spaces/")
    expect(page.locator("#no-spaces")).to_be_visible()
    page.get_by_role("button", name="Create Dev space").click()
    expect(page).to_have_url(f"{base}/workspaces/acme/engage/spaces/dev/settings/")
    expect(page.get_by_text("Created the space Dev.")).to_be_visible()

    # The Dev space's policy admits only Dev-labelled sources: the prod one is refused.
    connect = page.locator("#connect-form")
    connect.get_by_label("Source").select_option("ios")
    connect.get_by_role("button", name="Connect source").click()
    expect(page.get_by_text("connection policy requires")).to_be_visible()
    page.locator("#connect-form").get_by_label("Source").select_option("web")
    page.locator("#connect-form").get_by_role("button", name="Connect source").click()
    expect(page.locator("#connected-web")).to_be_visible()
    assert list(SpaceSource.objects.values_list("source__slug", flat=True)) == ["web"]

    tokens = page.locator("#token-form")
    tokens.get_by_label("Description").fill("personalization service")
    tokens.get_by_role("button", name="Generate token").click()
    secret = page.locator("#new-token code").inner_text().strip()
    assert space_for_token(secret) == Space.objects.get(slug="dev")
    page.goto(f"{base}/workspaces/acme/engage/spaces/dev/settings/")
    expect(page.locator("#new-token")).to_have_count(0)
    expect(page.locator("#tokens")).to_contain_text("personalization service")

    delete = page.locator("#delete-form")
    delete.get_by_label("Type Dev to confirm").fill("Dev")
    delete.get_by_role("button", name="Delete space").click()
    banner = page.locator("#deletion-banner")
    expect(banner).to_contain_text("Deletion requested.")
    assert watch.dialogs == ["Delete the space Dev and all its data in 5 days?"]
    assert Space.objects.get(slug="dev").delete_time is not None

    banner.get_by_role("button", name="Cancel deletion").click()
    expect(page.get_by_text("Deletion of Dev cancelled.")).to_be_visible()
    expect(page.locator("#deletion-banner")).to_have_count(0)
    assert Space.objects.get(slug="dev").delete_time is None
    assert watch.violations == []
