"""An owner opens Engage > Audiences, finds an audience computed from real profiles,
reads its overview (definition, members linking the explorer) and downloads its
members as CSV: the export is written by a real Celery worker while the page polls
its progress with htmx; the CSP refuses nothing."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PASSWORD, sign_in, watch_csp
from tests.engage.computation_pages_support import EVER_BOUGHT, make_pages
from tests.worker_support import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_overview_members_and_csv_export(live_server: Any, page: Page) -> None:
    pages = make_pages(definition=EVER_BOUGHT)
    owner = pages.acme.owner
    owner.set_password(PASSWORD)
    owner.save()
    refused = watch_csp(page)
    base = live_server.url

    sign_in(page, base, owner.username)
    page.goto(f"{base}{pages.url('audiences/')}")
    row = page.locator("#computation-recent_buyers")
    expect(row.locator(".computation-size")).to_have_text("3")
    expect(row).to_contain_text("Live")
    row.get_by_role("link", name="Recent Buyers").click()

    expect(page.locator("#definition-text")).to_contain_text("Order Completed")
    expect(page.locator("#members .member-row")).to_have_count(3)
    expect(page.locator("#members")).to_contain_text("u2@example.com")

    with celery_worker("export"):
        page.locator('#export-form input[value="user_id"]').check()
        page.get_by_role("button", name="Prepare CSV").click()
        expect(page.locator("#export-list tr[data-status='READY']")).to_have_count(
            1, timeout=60_000
        )
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    content = download.value.path().read_text()
    table = list(csv.reader(io.StringIO(content)))
    assert table[0] == ["segment_id", "user_id"]
    assert sorted(r[1] for r in table[1:]) == ["u1", "u2", "u3"]
    assert refused == []
