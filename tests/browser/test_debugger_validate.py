"""A user searches the debugger by payload text, reads nested properties as JSON,
validates an event on a destination (the tester opens with it loaded) and loads
another recent event into the tester from its picker."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from connections.models import WriteKey
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in, watch_csp
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def containing(text: str) -> re.Pattern[str]:
    return re.compile(".*" + re.escape(text) + ".*", re.S)


def send_track(base: str, write_key: str, event: str, properties: dict[str, Any]) -> None:
    response = httpx.post(
        f"{base}/v1/track",
        json={"userId": "u-42", "event": event, "properties": properties},
        auth=(write_key, ""),
        timeout=10,
    )
    assert response.status_code == 200


def test_search_validate_and_load_a_recent_event(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    source = do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    do_create_destination(
        principal=Principal(owner),
        source=source,
        definition="actions-equals",
        display_name="Equals",
        settings={"url": "https://equals.example.com/hook"},
        presets=True,
    )
    key = WriteKey.objects.get(source=source).secret
    base = live_server.url
    send_track(base, key, "Order Completed", {"coupon": "SPRING-50", "flags": {"vip": True}})
    send_track(base, key, "Signed Up", {"via": "google", "referrer": None})

    refused = watch_csp(page)
    sign_in(page, base, "olivia")
    page.goto(f"{base}/workspaces/acme/sources/web/debugger/")
    expect(page.locator(".debugger-event")).to_have_count(2)

    page.get_by_label("Search the raw payload").fill("spring-5")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator(".debugger-event")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_contain_text("Order Completed")
    row.locator("summary").click()
    flags = row.locator(".debugger-property pre")
    expect(flags).to_have_text('{\n  "vip": true\n}')

    page.get_by_label("Search the raw payload").fill("")
    page.get_by_label("Event or page name contains").fill("signed")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".debugger-event")).to_have_count(1)
    signed = page.locator(".debugger-event").first
    signed.locator("summary").click()
    expect(signed.locator(".debugger-property").first).to_have_text("null")  # referrer

    signed.get_by_role("button", name="Validate").click()
    signed.get_by_role("link", name="Equals").click()
    expect(page.get_by_role("heading", name="Test on a sample event")).to_be_visible()
    tester = page.get_by_label("Sample event (JSON)")
    expect(tester).to_have_value(containing('"event": "Signed Up"'))
    page.get_by_role("button", name="Test event", exact=True).click()
    expect(page.locator("#test-summary")).to_contain_text("would send")

    picker = page.get_by_label("Load a recent event from Web")
    picker.select_option(label=picker.locator("option", has_text="Order Completed").inner_text())
    expect(tester).to_have_value(containing('"coupon": "SPRING-50"'))
    assert refused == []  # the Content-Security-Policy refused nothing
