"""Replay: a source's stored events read oldest first in pages, within the window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from connections.dataplane.event_store import source_events
from connections.models import Event
from engage.models import ProfileEvent, ProfileIdentifier, SpaceSource
from engage.services.replay import ReplayStatus, replay_chunk, start_replay
from tests.engage.pipeline_support import (
    add_source,
    add_space,
    connect,
    identify,
    ingest,
    track,
)
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


def _age(event_ids: list[int], days: float) -> None:
    """Move events back in time (the DEFAULT partition takes any day)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE connections_event SET received_at = received_at - make_interval(secs => %s) "
            "WHERE id = ANY(%s)",
            [days * 86400, event_ids],
        )


def test_source_events_pages_oldest_first_within_the_window(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    workspace = make_workspace(alice, "acme")
    web, other = add_source(alice, workspace, "web"), add_source(alice, workspace, "other")
    for n in range(5):
        ingest(web, track(f"E{n}", "u-1"))
    ingest(other, track("Other", "u-1"))
    ids = list(Event.objects.filter(source_id=web.pk).order_by("id").values_list("id", flat=True))
    _age(ids[:1], 40)  # outside the window
    _age(ids[3:4], 2)  # older than the rest: read first

    now = timezone.now() + dt.timedelta(seconds=1)
    since = now - dt.timedelta(days=30)
    first = source_events(web.pk, since=since, until=now, limit=2)
    rest = source_events(
        web.pk, since=since, until=now, after=(first[-1].received_at, first[-1].id)
    )

    assert [e.id for e in first + rest] == [ids[3], ids[1], ids[2], ids[4]]
    assert first[0].payload["event"] == "E3"
    assert source_events(web.pk, since=since, until=first[0].received_at) == []


def test_start_replay_marks_the_connection_queued(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    workspace = make_workspace(alice, "acme")
    connected = connect(alice, add_space(alice, workspace), add_source(alice, workspace))
    SpaceSource.objects.filter(pk=connected.pk).update(replayed=7, replay_status="FINISHED")

    start_replay(connected)

    row = SpaceSource.objects.get(pk=connected.pk)
    assert (row.replay_status, row.replayed) == (ReplayStatus.QUEUED, 0)


def test_a_replay_resolves_the_window_chunk_by_chunk(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    workspace = make_workspace(alice, "acme")
    web = add_source(alice, workspace)
    ingest(web, identify("u-1", "a-1", plan="free"), track("Viewed", "u-1"))
    ingest(web, track("Viewed", None, "a-2"), identify("u-2", "a-2"), track("Old", "u-3"))
    old = Event.objects.filter(source_id=web.pk, event_name="Old").values_list("id", flat=True)
    _age(list(old), 31)
    space = add_space(alice, workspace)
    connected = connect(alice, space, web)
    start_replay(connected)
    now = timezone.now()
    since, until = (now - dt.timedelta(days=30)).isoformat(), now.isoformat()

    runs = [replay_chunk(connected.pk, since, until, chunk=2)]
    while runs[-1]["next"]:
        runs.append(replay_chunk(connected.pk, since, until, *runs[-1]["next"], chunk=2))

    assert [r["events"] for r in runs] == [2, 2, 0]
    row = SpaceSource.objects.get(pk=connected.pk)
    assert (row.replay_status, row.replayed) == (ReplayStatus.FINISHED, 4)
    owners = dict(ProfileIdentifier.objects.filter(space=space).values_list("value", "profile_id"))
    assert set(owners) == {"u-1", "a-1", "u-2", "a-2"}  # not the 31-day-old event's u-3
    assert owners["u-1"] == owners["a-1"] != owners["u-2"] == owners["a-2"]
    assert ProfileEvent.objects.filter(space=space).count() == 4


def test_a_replay_of_a_disconnected_source_stops(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    workspace = make_workspace(alice, "acme")
    space, web = add_space(alice, workspace), add_source(alice, workspace)
    ingest(web, track("Viewed", "u-1"))
    connected = connect(alice, space, web)
    SpaceSource.objects.filter(pk=connected.pk).delete()
    now = timezone.now()

    result = replay_chunk(connected.pk, (now - dt.timedelta(days=30)).isoformat(), now.isoformat())

    assert result["skipped"] == "disconnected"
    assert not ProfileIdentifier.objects.filter(space=space).exists()
