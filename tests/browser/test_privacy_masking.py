"""A Source Read-only member without PII Access watches the debugger: an identify
sent to the Tracking API appears live with its email and name masked, nowhere in
the page; once an owner grants PII Access, a reload shows them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from connections.models import WriteKey
from connections.services.sources import do_create_source
from privacy.masking import MARKER
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in
from workspace.models import Membership
from workspace.services.grants import do_create_grant
from workspace.services.workspaces import do_create_workspace

from .support import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "ada.q7x3@example.org"
LAST_NAME = "Lovelacezq"


def test_the_debugger_masks_pii_until_pii_access_is_granted(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    reader = django_user_model.objects.create_user(username="rita", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    source = do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    Membership.objects.create(workspace=workspace, user=reader)
    do_create_grant(
        principal=Principal(owner),
        workspace=workspace,
        grantee=reader,
        role="source-read-only",
        scope="all",
    )
    key = WriteKey.objects.get(source=source).secret
    base = live_server.url
    refused = watch_csp(page)

    sign_in(page, base, "rita")
    page.goto(f"{base}/workspaces/acme/sources/web/debugger/")
    expect(page.locator("#no-events")).to_be_visible()

    sent = httpx.post(
        f"{base}/v1/identify",
        json={
            "userId": "u-42",
            "traits": {"email": EMAIL, "last_name": LAST_NAME, "plan": "pro"},
        },
        auth=(key, ""),
        timeout=10,
    )
    assert sent.status_code == 200
    row = page.locator(".debugger-event").first
    expect(row).to_be_visible(timeout=10_000)  # the live rows (htmx) are masked too
    row.locator("summary").click()
    row.get_by_role("button", name="Raw").click()
    expect(row.locator(".raw-event")).to_contain_text(f'"email": "{MARKER}"')
    expect(row.locator(".raw-event")).to_contain_text('"plan": "pro"')
    html = page.content()
    assert EMAIL not in html and LAST_NAME not in html

    page.reload()
    expect(page.locator(".debugger-event").first).to_be_visible()
    html = page.content()
    assert MARKER in html and EMAIL not in html and LAST_NAME not in html

    do_create_grant(
        principal=Principal(owner),
        workspace=workspace,
        grantee=reader,
        role="pii-access",
        scope="all",
    )
    page.reload()
    expect(page.locator(".debugger-event").first.locator(".raw-event")).to_contain_text(EMAIL)
    assert LAST_NAME in page.content()
    assert refused == []
