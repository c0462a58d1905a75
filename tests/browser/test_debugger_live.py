"""The source debugger updates live: an event sent to the Tracking API while the
page is open appears without a reload, and its raw view shows the stored message."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from connections.models import WriteKey
from connections.services.sources import do_create_source
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def send_track(base: str, write_key: str, event: str) -> None:
    response = httpx.post(
        f"{base}/v1/track",
        json={"userId": "u-42", "event": event, "properties": {"plan": "pro"}},
        auth=(write_key, ""),
        timeout=10,
    )
    assert response.status_code == 200


def test_an_event_appears_in_the_open_debugger(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    source = do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    key = WriteKey.objects.get(source=source).secret
    base = live_server.url

    sign_in(page, base, "olivia")
    page.goto(f"{base}/workspaces/acme/sources/web/")
    page.get_by_role("link", name="Debugger").click()
    expect(page.locator("#no-events")).to_be_visible()

    send_track(base, key, "Plan Upgraded")
    row = page.locator(".debugger-event").filter(has_text="Plan Upgraded")
    expect(row).to_be_visible(timeout=10_000)  # polled in, no reload
    row.locator("summary").click()
    row.get_by_role("button", name="Raw").click()
    expect(row.locator(".raw-event")).to_contain_text('"messageId"')
    expect(row.locator(".raw-event")).to_contain_text('"plan": "pro"')
