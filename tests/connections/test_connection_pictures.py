"""Pictures: each connection's last 24 hours and health on the Connections overview,
and a source's event volume by type (24 h / 7 d) on its page, from the counters."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from connections import selectors
from connections.dataplane import counters
from connections.models import Destination, Source
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Source:
    workspace = make_workspace(alice, "acme", "Acme")
    return do_create_source(
        principal=Principal(alice), workspace=workspace, slug="web", display_name="Web"
    )


@pytest.fixture
def owner(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def destination(web: Source, alice: User, name: str, *, enabled: bool = True) -> Destination:
    return do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        display_name=name,
        settings={"url": "https://equals.example"},
        enabled=enabled,
    )


def add(
    source: Source,
    stage: str,
    outcome: str,
    n: int,
    *,
    reason: str = "",
    dst: int = 0,
    hours_ago: float = 0,
) -> None:
    key = counters.Key(source.workspace_id, source.pk, stage, outcome, reason, dst)
    counters.add(Counter({key: n}), at=timezone.now() - dt.timedelta(hours=hours_ago))


@pytest.mark.parametrize(
    ("enabled", "delivered", "failed", "health"),
    [
        (False, 10, 0, "disabled"),
        (True, 0, 0, "idle"),
        (True, 10, 0, "healthy"),
        (True, 91, 9, "degraded"),
        (True, 90, 10, "failing"),
        (True, 0, 1, "failing"),
    ],
)
def test_health_of_a_connection(enabled: bool, delivered: int, failed: int, health: str) -> None:
    assert selectors.health_of(enabled, delivered, failed)[0] == health


def test_overview_shows_each_connection_s_last_day(owner: Client, web: Source, alice: User) -> None:
    good = destination(web, alice, "Good")
    bad = destination(web, alice, "Bad")
    off = destination(web, alice, "Off", enabled=False)
    add(web, "delivery", "delivered", 12, dst=good.pk)
    add(web, "delivery", "delivered", 100, dst=good.pk, hours_ago=30)  # older than a day
    add(web, "delivery", "delivered", 3, dst=bad.pk)
    add(web, "delivery", "failed", 5, reason="errors.discarded.400", dst=bad.pk)
    add(web, "delivery", "filtered", 7, reason="FILTERED_BY_RULES", dst=good.pk)
    page = owner.get("/workspaces/acme/connections/").content.decode()

    def connection(d: Destination) -> str:
        found = re.search(rf'<div [^>]*data-destination="{d.key_id}"[^>]*>.*?</div>', page, re.S)
        assert found is not None
        return html.unescape(found.group(0))

    assert 'data-health="healthy"' in connection(good)
    assert "12 delivered" in connection(good) and "0 failed" in connection(good)
    assert 'data-health="failing"' in connection(bad)
    assert "3 delivered" in connection(bad) and "5 failed" in connection(bad)
    assert 'data-health="disabled"' in connection(off)
    # The light is a picture that says what it means, coloured without style=.
    assert '<svg class="status-dot"' in connection(bad) and 'aria-label="Failing"' in connection(
        bad
    )
    assert 'fill="#dc3545"' in connection(bad)
    assert "style=" not in page


def test_source_page_charts_volume_by_type(owner: Client, web: Source) -> None:
    add(web, "ingest", "accepted", 4, reason="track")
    add(web, "ingest", "accepted", 2, reason="page", hours_ago=3)
    add(web, "ingest", "accepted", 9, reason="identify", hours_ago=48)  # only in 7 days
    add(web, "ingest", "duplicate", 50)  # not received events
    day = owner.get("/workspaces/acme/sources/web/").content.decode()
    assert "6 events received in the last 24h, by type." in day
    svg = re.search(r'<svg class="chart" id="volume-chart".*?</svg>', day, re.S)
    assert svg is not None and "Totals: track 4, page 2." in svg.group(0)
    week = owner.get("/workspaces/acme/sources/web/?volume=7d").content.decode()
    assert "15 events received in the last 7d, by type." in week
    assert "Totals: identify 9, track 4, page 2." in week
    table = week.split('id="volume-chart-data"')[1].split("</table>")[0]
    assert len(re.findall("<tr>", table)) == len(selectors.bins_of("7d", timezone.now())) + 1


def test_volume_bins_cover_the_window(web: Source) -> None:
    now = dt.datetime(2026, 12, 1, 18, 47, tzinfo=dt.UTC)
    bins = selectors.bins_of("24h", now)
    assert bins[0] == dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
    assert bins[-1] == dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC)
    week = selectors.bins_of("7d", now)
    assert len(week) == 29 and week[-1] == dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC)


def test_source_page_lights_each_destination(owner: Client, web: Source, alice: User) -> None:
    hook = destination(web, alice, "Hook")
    add(web, "delivery", "delivered", 4, dst=hook.pk)
    page = owner.get("/workspaces/acme/sources/web/").content.decode()
    row = page.split(f'<tr data-destination="{hook.key_id}"')[1].split("</tr>")[0]
    assert 'data-health="healthy"' in row and "4 delivered, 0 failed" in row
    assert 'aria-label="Healthy"' in row
