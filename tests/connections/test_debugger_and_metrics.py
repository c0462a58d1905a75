"""The source debugger and its events API; a destination's delivery metrics."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from connections.dataplane import counters
from connections.models import Destination, Event, Source
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import Membership, Workspace

pytestmark = pytest.mark.django_db

API = "/v1beta/workspaces/acme/sources/web"
UI = "/workspaces/acme/sources/web"


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Source:
    workspace = make_workspace(alice, "acme", "Acme")
    return do_create_source(
        principal=Principal(alice), workspace=workspace, slug="web", display_name="Web"
    )


def stored(source: Source, n: int, **fields: object) -> list[Event]:
    # Strictly later than anything stored before, even within one clock tick.
    now = timezone.now() + dt.timedelta(seconds=Event.objects.filter(source_id=source.pk).count())
    events = []
    for i in range(n):
        kind = str(fields.get("type", "track"))
        name = str(fields.get("event_name", f"Event {i}"))
        payload = {
            "type": kind,
            "event": name,
            "userId": f"u{i}",
            "messageId": f"m{i}-{name}",
            "properties": {"plan": "pro"},
        }
        events.append(
            Event.objects.create(
                received_at=now + dt.timedelta(milliseconds=i),
                workspace_id=source.workspace_id,
                source_id=source.pk,
                message_id=payload["messageId"],
                type=kind,
                event_name=name,
                user_id=f"u{i}",
                timestamp=now,
                payload=payload,
            )
        )
    return events


def test_events_api_lists_newest_first_with_pages_and_filters(api: APIClient, web: Source) -> None:
    stored(web, 3)
    stored(web, 2, type="page", event_name="Home")
    first = api.get(f"{API}/events?page_size=3").json()
    assert [e["event_name"] for e in first["events"]] == ["Home", "Home", "Event 2"]
    rest = api.get(f"{API}/events?page_size=3&page_token={first['next_page_token']}").json()
    assert [e["event_name"] for e in rest["events"]] == ["Event 1", "Event 0"]
    pages = api.get(f"{API}/events?type=page").json()["events"]
    assert {e["type"] for e in pages} == {"page"} and len(pages) == 2
    named = api.get(f"{API}/events?event=Event%201").json()["events"]
    assert [e["message_id"] for e in named] == ["m1-Event 1"]
    assert named[0]["payload"]["properties"] == {"plan": "pro"}


def test_events_api_rejects_an_unknown_type(api: APIClient, web: Source) -> None:
    response = api.get(f"{API}/events?type=purchase")
    assert response.status_code == 400
    assert "type must be one of" in response.json()["error"]


def test_events_of_another_source_are_not_listed(api: APIClient, web: Source, alice: User) -> None:
    other = do_create_source(
        principal=Principal(alice), workspace=web.workspace, slug="other", display_name="O"
    )
    stored(other, 2)
    assert api.get(f"{API}/events").json()["events"] == []


def test_members_without_access_to_the_source_see_no_events(
    web: Source, make_user: Callable[..., User], token_client: Callable[..., APIClient]
) -> None:
    stored(web, 1)
    stranger = make_user("stranger")
    Membership.objects.create(workspace=web.workspace, user=stranger)
    assert token_client(stranger).get(f"{API}/events").status_code == 404
    client = Client()
    client.force_login(stranger)
    assert client.get(f"{UI}/debugger/").status_code == 404


def test_debugger_page_shows_pretty_and_raw_and_polls_for_newer(alice: User, web: Source) -> None:
    events = stored(web, 2)
    client = Client()
    client.force_login(alice)
    page = client.get(f"{UI}/debugger/").content.decode()
    assert f'data-id="{events[1].id}"' in page and "Event 1" in page
    assert "&quot;messageId&quot;: &quot;m0-Event 0&quot;" in page  # the raw JSON view
    assert "every 2s" in page
    newer = stored(web, 1, event_name="Late")
    rows = client.get(f"{UI}/debugger/events/?after={events[1].id}").content.decode()
    assert f'data-id="{newer[0].id}"' in rows
    assert f'data-id="{events[1].id}"' not in rows
    only_pages = client.get(f"{UI}/debugger/?type=page").content.decode()
    assert "debugger-event" not in only_pages


@pytest.fixture
def equals(web: Source, alice: User) -> Destination:
    return do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        settings={"url": "https://equals.example"},
    )


def count(destination: Destination, outcome: str, reason: str, n: int, at: dt.datetime) -> None:
    key = counters.Key(
        workspace_id=destination.source.workspace_id,
        source_id=destination.source_id,
        stage="delivery",
        outcome=outcome,
        reason=reason,
        destination_id=destination.pk,
    )
    counters.add(Counter({key: n}), at=at)


def test_delivery_metrics_sum_outcomes_over_the_window(api: APIClient, equals: Destination) -> None:
    now = timezone.now()
    count(equals, "delivered", "", 5, now)
    count(equals, "delivered", "", 2, now)  # same minute: one counter row, added up
    count(equals, "filtered", "FILTERED_BY_RULES", 3, now)
    count(equals, "failed", "errors.discarded.400", 1, now - dt.timedelta(hours=3))
    url = f"{API}/destinations/{equals.key_id}/delivery-metrics"
    hour = api.get(f"{url}?window=1h").json()
    assert (hour["delivered"], hour["filtered"], hour["failed"]) == (7, 3, 0)
    day = api.get(url).json()
    assert day["window"] == "24h" and day["failed"] == 1
    assert {"outcome": "failed", "reason": "errors.discarded.400", "count": 1} in day["reasons"]
    assert api.get(f"{url}?window=1y").status_code == 400


def test_delivery_tab_shows_the_counts(alice: User, equals: Destination) -> None:
    count(equals, "delivered", "", 4, timezone.now())
    client = Client()
    client.force_login(alice)
    page = client.get(f"{UI}/destinations/{equals.key_id}/?tab=delivery&window=1h").content.decode()
    assert '<div class="fs-4 step-count">4</div>' in page.split('id="step-delivered"')[1][:300]
    assert "No failed deliveries." in page
