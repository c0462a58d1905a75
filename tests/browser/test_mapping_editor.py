"""An owner builds a Webhook mapping with typed inputs (a URL typed without quotes, a
pick list, a number, a toggle, key/value headers, a path), saves it and sees the same
on reload; then builds a destination filter with the condition builder and sees the
FQL it made. Chromium reports no Content-Security-Policy violation on the way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from connections.models import DestinationFilter
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "https://hooks.example.com/in?src=switchyard"

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCsp(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page, and the CSP violations it reports or Chromium logs ("Refused to ...")."""
    violations: list[str] = []
    context = browser.new_context()
    context.set_default_timeout(15_000)
    context.expose_binding("__reportCsp", lambda _source, text: violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()

    def on_console(message: Any) -> None:
        if message.type == "error" and (
            "Refused to" in message.text or "Content Security Policy" in message.text
        ):
            violations.append(message.text)

    page.on("console", on_console)
    try:
        yield page, violations
    finally:
        context.close()


def test_build_a_webhook_mapping_and_a_filter(
    live_server: Any, watched: tuple[Page, list[str]], django_user_model: Any
) -> None:
    page, violations = watched
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    source = do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    webhook = do_create_destination(
        principal=Principal(owner), source=source, definition="actions-webhook", settings={}
    )
    page_url = f"{live_server.url}/workspaces/acme/sources/web/destinations/{webhook.key_id}/"
    sign_in(page, live_server.url, "olivia")

    # --- the mapping ---
    page.goto(page_url + "mappings/new/")
    page.locator("#id_name").fill("To my hook")
    page.locator("#id_v_url").fill(URL)
    # (Switching a row's mode is htmx; tests/connections/test_mapping_field_inputs.py
    # covers the redraw. Scripted at machine speed here, a change could land before
    # htmx had wired up the swapped-in row, so the browser walk does not switch back
    # and forth.)
    page.locator("#id_v_method").select_option("PUT")
    headers = page.locator("#field-headers")
    headers.locator("input[name=k_headers]").nth(0).fill("X-Api-Key")
    headers.locator("input[name=kv_headers]").nth(0).fill("abc123")
    headers.get_by_role("button", name="Add key").click()
    headers.locator("input[name=k_headers]").nth(1).fill("X-User")
    headers.locator("input[name=kv_headers]").nth(1).fill("$.userId")
    expect(page.locator("#id_p_data")).to_have_value("$.")  # the default, a path
    page.locator("#id_p_data").fill("$.properties")
    page.locator("#id_v_enable_batching").check()
    page.locator("#id_v_batch_size").fill("25")
    page.get_by_role("button", name="Create mapping").click()
    expect(page.get_by_text("Created mapping To my hook.")).to_be_visible()

    saved = webhook.subscriptions.get()
    assert saved.mapping == {
        "url": URL,
        "method": "PUT",
        "headers": {"X-Api-Key": "abc123", "X-User": {"@path": "$.userId"}},
        "data": {"@path": "$.properties"},
        "enable_batching": True,
        "batch_size": 25,
    }

    page.goto(page_url + f"mappings/{saved.key_id}/")
    expect(page.locator("#id_v_url")).to_have_value(URL)
    expect(page.locator("#id_v_method")).to_have_value("PUT")
    # Two rows and a blank one (PostgreSQL's jsonb keeps its own key order).
    expect(headers.locator("input[name=k_headers]")).to_have_count(3)
    keys = headers.locator("input[name=k_headers]").evaluate_all("els => els.map(e => e.value)")
    values = headers.locator("input[name=kv_headers]").evaluate_all("els => els.map(e => e.value)")
    assert dict(zip(keys, values, strict=True)) == {
        "X-Api-Key": "abc123",
        "X-User": "$.userId",
        "": "",
    }
    expect(page.locator("#id_p_data")).to_have_value("$.properties")
    expect(page.locator("#id_v_enable_batching")).to_be_checked()
    expect(page.locator("#id_v_batch_size")).to_have_value("25")
    # Saving unchanged keeps the mapping as it was.
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Saved mapping To my hook.")).to_be_visible()
    before = saved.mapping
    saved.refresh_from_db()
    assert saved.mapping == before

    # --- the filter ---
    page.goto(page_url + "filters/new/")
    page.locator("#id_title").fill("No test events")
    page.locator("#id_match").select_option("any")
    first = page.locator("#conditions .trigger-condition").nth(0)
    first.get_by_label("Field").select_option("event")
    first.get_by_label("Operator").select_option("starts_with")
    first.get_by_label("Value").fill("Test")
    page.get_by_role("button", name="Add condition").click()
    second = page.locator("#conditions .trigger-condition").nth(1)
    second.get_by_label("Field").select_option("property")
    second.get_by_label("Property path").fill("properties.email")
    second.get_by_label("Operator").select_option("ends_with")
    second.get_by_label("Value").fill("@example.com")
    fql = 'match(event, "Test*") or match(properties.email, "*@example.com")'
    # (The live preview answers each edit; scripted edits outrun it, so the saved FQL
    # is what is checked here, and the preview in test_mapping_field_inputs.py.)
    page.get_by_label("Drop event").check()
    page.get_by_role("button", name="Create filter").click()
    expect(page.get_by_text("Created filter No test events.")).to_be_visible()
    expect(page.locator("#filters tbody tr[data-filter] code")).to_have_text(fql)
    assert DestinationFilter.objects.get().condition == fql

    # Editing it shows the builder rows again, the advanced FQL box closed and empty.
    page.get_by_role("link", name="No test events").click()
    expect(page.locator("#conditions .trigger-condition")).to_have_count(2)
    expect(page.locator("#conditions [name=cond_value]").nth(1)).to_have_value("@example.com")
    expect(page.locator("#id_condition")).to_be_hidden()

    assert violations == []
