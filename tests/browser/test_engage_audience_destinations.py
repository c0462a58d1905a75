"""An owner connects an audience to an event destination from its overview: the
Destinations fragment (loaded by htmx) offers the workspace's destinations; after
Connect a real Celery worker sends every member to a local HTTP destination while
the fragment polls the sync status until it is Synced; Disconnect empties it. The
CSP refuses nothing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engage.models import ComputationDestination
from tests.browser.support import PASSWORD, sign_in, watch_csp
from tests.connections.delivery_support import Server, make_setup
from tests.engage.computation_pages_support import EVER_BOUGHT, make_pages
from tests.worker_support import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_connect_sync_and_disconnect_from_the_overview(live_server: Any, page: Page) -> None:
    pages = make_pages(definition=EVER_BOUGHT)
    owner = pages.acme.owner
    owner.set_password(PASSWORD)
    owner.save()
    hook = Server()
    try:
        setup = make_setup(owner, pages.acme.workspace, slug="engage-out")
        destination, _ = setup.webhook(f"{hook.url}/in", trigger='type = "identify"')
        refused = watch_csp(page)
        base = live_server.url
        sign_in(page, base, owner.username)
        page.goto(f"{base}{pages.url('audiences/recent_buyers/')}")
        fragment = page.locator("#computation-destinations")
        expect(fragment.locator("#no-destinations")).to_be_visible()

        with celery_worker("destinations", DELIVERY_ALLOW_PRIVATE_NETWORKS="true"):
            fragment.get_by_label("Destination").select_option(destination.key_id)
            fragment.get_by_role("button", name="Connect").click()
            row = fragment.locator(f"#destination-{destination.key_id}")
            expect(row).to_have_attribute("data-sync-state", "SYNCED", timeout=60_000)
            expect(row.locator(".messages-sent")).to_have_text("6")  # user_id + email each
            expect(row.locator(".profiles-synced")).to_have_text("3")
            bodies = [r.json() for r in hook.wait_for(6, timeout=60)]
        assert sorted(b["traits"].get("email", b.get("userId")) for b in bodies) == [
            "u1",
            "u1@example.com",
            "u2",
            "u2@example.com",
            "u3",
            "u3@example.com",
        ]
        assert {b["traits"]["recent_buyers"] for b in bodies} == {True}

        row.get_by_role("button", name="Disconnect").click()
        expect(fragment.locator("#no-destinations")).to_be_visible()
        assert not ComputationDestination.objects.exists()
        assert refused == []
    finally:
        hook.close()
