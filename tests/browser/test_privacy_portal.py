"""The Privacy Portal walked by an owner in Chromium, under the Content-Security-
Policy: events sent to the Tracking API are detected (the delivery worker's batch
run), the Inbox recommends the email field, the owner classifies it Red and adds
it to the Inventory (and a custom field Yellow), opens a row's detail, filters the
Inventory and opens a field's detail with its sample, turns on Block Red for the
source in Controls; the next event is stored without the field (the debugger)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from connections.dataplane.delivery.deliver import deliver_batch
from connections.models import DeliveryBatch, Event, WriteKey
from connections.services.sources import do_create_source
from privacy.models import InventoryField, ObservedField, SourceControls
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in
from tests.browser.test_content_security_policy import Watch, watched
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["watched"]

# Values no page or token holds by chance.
EMAIL = "ada.q7x3@example.org"
EMAIL_AFTER = "grace.k9w2@example.org"
TEAM = "rosenborg-zq4"  # traits.favorite_team: a custom field no matcher flags
TEAM_AFTER = "molde-vx8"


def send(base: str, key: str, *messages: dict[str, Any]) -> None:
    """POST to the live server's Tracking API, then run the delivery batches once,
    as the worker does after the commit (detection observes them there)."""
    sent = httpx.post(
        f"{base}/v1/batch", json={"batch": list(messages)}, auth=(key, ""), timeout=10
    )
    assert sent.status_code == 200, sent.text
    for batch_id in DeliveryBatch.objects.order_by("id").values_list("id", flat=True):
        deliver_batch(batch_id)


def htmx_ready(page: Page) -> None:
    """htmx has wired up the page and any swapped-in content: a form clicked before
    that would post without htmx (htmx processes new content after its settle delay,
    removing htmx-added then)."""
    page.wait_for_load_state("load")
    busy = ".htmx-added, .htmx-settling, .htmx-swapping, .htmx-request"
    expect(page.locator(busy)).to_have_count(0)


def identify(user_id: str, email: str, team: str) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": user_id,
        "traits": {"email": email, "favorite_team": team, "plan": "pro"},
    }


def test_owner_classifies_inventories_and_blocks_a_field(
    live_server: Any, watched: tuple[Page, Watch], django_user_model: Any
) -> None:
    page, watch = watched
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    source = do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    key = WriteKey.objects.get(source=source).secret
    base = live_server.url
    send(base, key, identify("u-1", EMAIL, TEAM))
    assert ObservedField.objects.filter(path="traits.email", source=source).exists()

    sign_in(page, base, "olivia")
    expect(page).to_have_url(f"{base}/workspaces/acme/")

    # The Inbox: the email field recommended by a matcher, the custom field Green.
    page.get_by_role("link", name="Inbox", exact=True).click()
    expect(page).to_have_url(f"{base}/workspaces/acme/privacy/inbox/")
    email_row = page.locator('.inbox-row[data-path="traits.email"]')
    expect(email_row.locator(".recommended")).to_contain_text("Yellow")
    team_row = page.locator('.inbox-row[data-path="traits.favorite_team"]')
    expect(team_row.locator(".recommended")).to_contain_text("Green")
    expect(team_row.locator(".sample")).to_contain_text(TEAM)

    # Classify email Red and add it; wait for the swapped-in table before the next form.
    htmx_ready(page)
    email_row.get_by_label("Classification of traits.email").select_option("RED")
    email_row.get_by_role("button", name="Add to Inventory").click()
    expect(page.locator("#inbox-notice")).to_have_text("Added traits.email to the Inventory.")
    email_row = page.locator('.inbox-row[data-path="traits.email"]')
    expect(email_row.locator(".in-inventory")).to_be_visible()
    htmx_ready(page)
    team_row = page.locator('.inbox-row[data-path="traits.favorite_team"]')
    team_row.get_by_label("Classification of traits.favorite_team").select_option("YELLOW")
    team_row.get_by_role("button", name="Add to Inventory").click()
    expect(page.locator("#inbox-notice")).to_have_text(
        "Added traits.favorite_team to the Inventory."
    )
    assert dict(InventoryField.objects.values_list("path", "classification")) == {
        "traits.email": "RED",
        "traits.favorite_team": "YELLOW",
    }

    # A row's detail: the matcher, the events, the sources and the example.
    page.locator('.inbox-row[data-path="traits.email"] .inbox-detail-link').click()
    expect(page.locator("h1")).to_contain_text("traits.email")
    expect(page.locator("#inbox-field-matcher .matcher-type")).to_have_text(
        re.compile(r"^(Key|Value) matcher")
    )
    expect(page.locator("#inbox-field-snippet")).to_contain_text(EMAIL)
    expect(page.locator('#inbox-field-sources tr[data-source="web"]')).to_contain_text(EMAIL)
    expect(page.locator("#inbox-field-events")).to_contain_text("identify")

    # The Inventory, filtered to Red, and a field's detail with its sample.
    page.get_by_role("link", name="Inventory", exact=True).click()
    expect(page).to_have_url(f"{base}/workspaces/acme/privacy/inventory/")
    expect(page.locator(".inventory-row")).to_have_count(2)
    page.locator("#filter-classification").select_option("RED")
    page.locator("#inventory-filter").get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/privacy/inventory/\?classification=RED"))
    rows = page.locator(".inventory-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-path", "traits.email")
    rows.first.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("traits.email")
    expect(page.locator('#field-sources tr[data-source="web"] .sample')).to_contain_text(EMAIL)

    # Controls: Block Red for the source.
    page.get_by_role("link", name="Controls", exact=True).click()
    expect(page).to_have_url(f"{base}/workspaces/acme/privacy/controls/")
    row = page.locator("#controls-web")
    htmx_ready(page)
    row.get_by_label("Red").check()
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#controls-web")).to_contain_text("Saved the controls of Web.")
    expect(page.locator("#block-red-web")).to_be_checked()
    assert SourceControls.objects.get(source=source).block_red

    # The next event is stored without the Red field; the Yellow one still flows.
    send(base, key, identify("u-after", EMAIL_AFTER, TEAM_AFTER))
    stored = Event.objects.get(user_id="u-after")
    assert "email" not in stored.payload["traits"]
    page.goto(f"{base}/workspaces/acme/sources/web/debugger/")
    event = page.locator(f'.debugger-event[data-id="{stored.pk}"]')
    expect(event).to_be_visible()
    event.locator("summary").click()
    # Bootstrap makes the server-rendered pills role=tab (live rows keep role=button).
    event.locator("button", has_text="Raw").click()
    raw = event.locator(".raw-event")
    expect(raw).to_contain_text(TEAM_AFTER)
    expect(raw).not_to_contain_text('"email"')
    assert EMAIL_AFTER not in page.content()
    assert watch.violations == []
