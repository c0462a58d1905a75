"""An owner reads a connection's delivery overview: the pipeline steps with their
counts and reasons, the chart of the window and its numbers, and changes window."""

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


def test_the_pipeline_steps_and_chart(live_server: Any, page: Page, django_user_model: Any) -> None:
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    web = do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    equals = do_create_destination(
        principal=Principal(owner),
        source=web,
        definition="actions-equals",
        display_name="Equals",
        settings={"url": "https://equals.example.com/hook"},
    )

    def key(stage: str, outcome: str, reason: str = "", dst: int = 0) -> counters.Key:
        return counters.Key(web.workspace_id, web.pk, stage, outcome, reason, dst)

    now = timezone.now()
    counters.add(
        Counter(
            {
                key("ingest", "accepted", "track"): 12,
                key("ingest", "duplicate"): 2,
                key("delivery", "filtered", "FILTERED_BY_RULES", equals.pk): 3,
                key("delivery", "failed", "errors.discarded.400", equals.pk): 1,
                key("delivery", "delivered", "", equals.pk): 8,
            }
        ),
        at=now,
    )
    counters.add(
        Counter({key("delivery", "delivered", "", equals.pk): 5}), at=now - dt.timedelta(hours=3)
    )
    base = live_server.url

    refused = watch_csp(page)
    sign_in(page, base, "olivia")
    page.goto(f"{base}/workspaces/acme/sources/web/destinations/{equals.key_id}/")
    page.get_by_role("link", name="Delivery").click()

    expect(page.locator("#step-received .step-count")).to_have_text("12")
    expect(page.locator("#step-filtered_at_source")).to_contain_text(
        "Duplicate messageId (seen in the last 24 hours): 2"
    )
    expect(page.locator("#step-filtered_at_destination")).to_contain_text(
        "Dropped by a destination filter: 3"
    )
    expect(page.locator("#step-failed_delivery")).to_contain_text("errors.discarded.400: 1")
    expect(page.locator("#step-delivered .step-count")).to_have_text("13")
    chart = page.get_by_role("img", name="Events at this destination over the last 24h")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.chart-bar")).to_have_count(4)  # 2 bins: 5 | 8 + 3 + 1
    page.get_by_text("Show the numbers").click()
    expect(page.locator("#delivery-chart-data")).to_be_visible()

    page.get_by_role("link", name="Last 1h").click()
    expect(page.locator("#step-delivered .step-count")).to_have_text("8")
    expect(
        page.get_by_role("img", name="Events at this destination over the last 1h")
    ).to_be_visible()
    assert refused == []  # the Content-Security-Policy refused nothing
