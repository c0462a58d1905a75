"""A user looks rather than reads: the Connections overview lights each connection
with its last day's deliveries, and a source's page charts its events by type."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from connections.dataplane import counters
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in, watch_csp
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_overview_lights_and_source_volume_chart(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    web = do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    hook = do_create_destination(
        principal=Principal(owner),
        source=web,
        definition="actions-equals",
        display_name="Equals",
        settings={"url": "https://equals.example.com/hook"},
        enabled=True,
    )

    def key(stage: str, outcome: str, reason: str = "", dst: int = 0) -> counters.Key:
        return counters.Key(web.workspace_id, web.pk, stage, outcome, reason, dst)

    now = timezone.now()
    counters.add(
        Counter(
            {
                key("ingest", "accepted", "track"): 30,
                key("ingest", "accepted", "identify"): 5,
                key("delivery", "delivered", "", hook.pk): 27,
                key("delivery", "failed", "errors.discarded.400", hook.pk): 8,
            }
        ),
        at=now,
    )
    counters.add(Counter({key("ingest", "accepted", "page"): 11}), at=now - dt.timedelta(days=2))
    base = live_server.url

    refused = watch_csp(page)
    sign_in(page, base, "olivia")
    page.goto(f"{base}/workspaces/acme/connections/")
    connection = page.locator(f'.connection[data-destination="{hook.key_id}"]')
    expect(connection).to_contain_text("27 delivered, 8 failed in 24 h")
    expect(connection.get_by_role("img", name="Failing")).to_be_visible()
    connection.get_by_text("27 delivered").click()
    expect(page.locator("#step-failed_delivery .step-count")).to_have_text("8")

    page.goto(f"{base}/workspaces/acme/sources/web/")
    chart = page.get_by_role("img", name="Events received by Web over the last 24h, by type")
    expect(chart).to_be_visible()
    expect(page.locator("#volume-total")).to_have_text(
        "35 events received in the last 24h, by type."
    )
    expect(chart).to_contain_text("track")  # the legend
    page.get_by_role("link", name="Last 7d").click()
    expect(page.locator("#volume-total")).to_have_text(
        "46 events received in the last 7d, by type."
    )
    week = page.get_by_role("img", name="Events received by Web over the last 7d, by type")
    expect(week).to_contain_text("page")
    page.locator("#event-volume").get_by_text("Show the numbers").click()
    expect(page.locator("#volume-chart-data")).to_be_visible()
    assert refused == []  # the Content-Security-Policy refused nothing
