"""Privacy > End User Privacy in Chromium, under the Content-Security-Policy: a
request submitted from the form (data-confirm asks first) shows in the history, and
a user suppressed from the Suppressed Users tab is unsuppressed (asked first too)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from privacy.models import Regulation, SuppressedUser
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in
from tests.browser.test_content_security_policy import Watch, watched
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["watched"]


def test_owner_requests_suppression_and_lifts_it(
    live_server: Any, watched: tuple[Page, Watch], django_user_model: Any
) -> None:
    page, watch = watched
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    base = live_server.url
    sign_in(page, base, "olivia")
    expect(page).to_have_url(f"{base}/workspaces/acme/")

    page.get_by_role("link", name="End User Privacy").click()
    expect(page).to_have_url(f"{base}/workspaces/acme/privacy/end-users/")
    form = page.locator("#regulation-form")
    # Suppression only: a deletion would queue a task no worker here takes.
    form.get_by_label("Request").select_option("SUPPRESS_ONLY")
    form.get_by_label("User IDs").fill("customer-31\ncustomer-32")
    form.get_by_role("button", name="Submit request").click()
    regulation = page.locator("#regulations tbody tr").first
    expect(regulation).to_contain_text("customer-32")
    expect(regulation).to_contain_text("Finished")
    assert watch.dialogs == ["Submit this request? Deleted data cannot be recovered."]

    page.get_by_role("link", name="Suppressed Users").click()
    row = page.locator("#suppressed-users tr", has_text="customer-31")
    expect(row).to_be_visible()
    row.get_by_role("button", name="Unsuppress").click()
    expect(page.get_by_text("customer-31 is no longer suppressed.")).to_be_visible()
    assert watch.dialogs[-1].startswith("Stop suppressing customer-31?")
    assert list(SuppressedUser.objects.values_list("user_id", flat=True)) == ["customer-32"]
    assert Regulation.objects.filter(regulation_type="UNSUPPRESS").count() == 1
    assert watch.violations == []
