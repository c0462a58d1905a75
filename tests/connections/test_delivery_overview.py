"""The delivery overview: Segment's pipeline steps with counts and reasons over a
window, from the pipeline counters, and a chart of the window drawn as SVG."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

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
def equals(alice: User, make_workspace: Callable[..., Workspace]) -> Destination:
    workspace = make_workspace(alice, "acme", "Acme")
    web = do_create_source(
        principal=Principal(alice), workspace=workspace, slug="web", display_name="Web"
    )
    return do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        settings={"url": "https://equals.example"},
    )


def add(
    source: Source,
    stage: str,
    outcome: str,
    n: int,
    *,
    reason: str = "",
    dst: int = 0,
    ago: float = 0,
) -> None:
    key = counters.Key(source.workspace_id, source.pk, stage, outcome, reason, dst)
    counters.add(Counter({key: n}), at=timezone.now() - dt.timedelta(minutes=ago))


def steps(overview: dict[str, object]) -> dict[str, tuple[int, list[tuple[str, int]]]]:
    return {
        s["key"]: (s["count"], [(r["reason"], r["count"]) for r in s["reasons"]])
        for s in overview["steps"]  # type: ignore[attr-defined]
    }


def test_each_step_counts_its_events_and_reasons(equals: Destination, alice: User) -> None:
    web, dst = equals.source, equals.pk
    other = do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        settings={"url": "https://other.example"},
    )
    add(web, "ingest", "accepted", 10, reason="track")
    add(web, "ingest", "accepted", 2, reason="identify")
    add(web, "ingest", selectors.INGEST_FAILED, 3, reason="invalid_payload")
    add(web, "ingest", "duplicate", 1)
    add(web, "ingest", "dropped", 4, reason="source_disabled")
    add(web, "delivery", "filtered", 2, reason="FILTERED_BY_RULES", dst=dst)
    add(web, "delivery", "failed", 1, reason="errors.discarded.400", dst=dst)
    add(web, "delivery", "retrying", 5, reason="errors.awaiting-retry.500", dst=dst)
    add(web, "delivery", "delivered", 6, dst=dst)
    add(web, "delivery", "delivered", 99, dst=other.pk)  # another connection
    add(web, "delivery", "delivered", 50, dst=dst, ago=2 * 60)  # outside the hour
    overview = selectors.delivery_overview(equals, "1h")
    assert [s["label"] for s in overview["steps"]] == [
        "Successfully received",
        "Failed on ingest",
        "Filtered at source",
        "Filtered at destination",
        "Failed delivery",
        "Successful delivery",
    ]
    assert steps(overview) == {
        "received": (12, [("track", 10), ("identify", 2)]),
        "failed_on_ingest": (3, [("invalid_payload", 3)]),
        "filtered_at_source": (5, [("source_disabled", 4), ("", 1)]),
        "filtered_at_destination": (2, [("FILTERED_BY_RULES", 2)]),
        "failed_delivery": (1, [("errors.discarded.400", 1)]),
        "delivered": (6, [("", 6)]),
    }
    assert overview["retrying"] == 5
    assert steps(selectors.delivery_overview(equals, "24h"))["delivered"][0] == 56


def test_the_timeline_puts_counts_in_their_bins(equals: Destination) -> None:
    now = dt.datetime(2026, 12, 1, 18, 47, 30, tzinfo=dt.UTC)
    key = counters.Key(
        equals.source.workspace_id, equals.source_id, "delivery", "delivered", "", equals.pk
    )
    counters.add(Counter({key: 3}), at=now - dt.timedelta(minutes=1))  # 18:46 -> bin 18:45
    counters.add(Counter({key: 4}), at=now - dt.timedelta(minutes=2))  # 18:45 -> bin 18:45
    counters.add(Counter({key: 5}), at=now - dt.timedelta(minutes=58))  # 17:49 -> bin 17:45
    failed = counters.Key(
        equals.source.workspace_id, equals.source_id, "delivery", "failed", "x", equals.pk
    )
    counters.add(Counter({failed: 1}), at=now - dt.timedelta(minutes=20))  # 18:27 -> 18:25
    timeline = selectors.delivery_timeline(equals, "1h", now=now)
    labels = timeline["labels"]
    assert labels[0] == "17:45" and labels[-1] == "18:45" and len(labels) == 13
    delivered = dict(zip(labels, timeline["series"]["delivered"], strict=True))
    assert (delivered["17:45"], delivered["18:45"], sum(delivered.values())) == (5, 7, 12)
    assert dict(zip(labels, timeline["series"]["failed"], strict=True))["18:25"] == 1


def test_the_delivery_tab_shows_the_steps_and_the_chart(alice: User, equals: Destination) -> None:
    add(equals.source, "ingest", "accepted", 9, reason="track")
    add(equals.source, "ingest", "duplicate", 1)
    add(equals.source, "delivery", "delivered", 7, dst=equals.pk)
    add(equals.source, "delivery", "failed", 2, reason="errors.discarded.400", dst=equals.pk)
    client = Client()
    client.force_login(alice)
    page = client.get(
        f"/workspaces/acme/sources/web/destinations/{equals.key_id}/?tab=delivery"
    ).content.decode()
    received = page.split('id="step-received"')[1][:600]
    assert "track: <strong>9</strong>" in received  # what arrived, by event type
    step = page.split('id="step-filtered_at_source"')[1][:600]
    assert '<div class="fs-4 step-count">1</div>' in step
    assert "Duplicate messageId (seen in the last 24 hours): <strong>1</strong>" in step
    assert "errors.discarded.400" in page.split('id="delivery-reasons"')[1]
    svg = re.search(r'<svg class="chart" id="delivery-chart".*?</svg>', page, re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(0) and "style=" not in svg.group(0)
    assert "Totals: Delivered 7, Filtered at destination 0, Failed 2." in html.unescape(
        svg.group(0)
    )
    table = page.split('id="delivery-chart-data"')[1]
    assert '<td class="text-end">7</td>' in table


def test_the_metrics_api_has_the_pipeline_steps(
    equals: Destination, token_client: Callable[..., Any], alice: User
) -> None:
    add(equals.source, "ingest", "accepted", 4, reason="track")
    add(equals.source, "ingest", selectors.INGEST_FAILED, 2, reason="invalid_json")
    add(equals.source, "delivery", "delivered", 3, dst=equals.pk)
    url = f"/v1beta/workspaces/acme/sources/web/destinations/{equals.key_id}/delivery-metrics"
    body = token_client(alice).get(url).json()
    pipeline = {step["key"]: step for step in body["pipeline"]}
    assert [step["key"] for step in body["pipeline"]] == [
        "received",
        "failed_on_ingest",
        "filtered_at_source",
        "filtered_at_destination",
        "failed_delivery",
        "delivered",
    ]
    assert pipeline["received"]["count"] == 4 and pipeline["delivered"]["count"] == 3
    assert pipeline["failed_on_ingest"]["reasons"] == [
        {
            "outcome": "failed",
            "reason": "invalid_json",
            "label": "Body is not a JSON object (or is empty)",
            "count": 2,
        }
    ]
