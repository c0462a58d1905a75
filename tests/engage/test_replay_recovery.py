"""A replay whose task message was lost or whose worker died: the feed sweep queues
it again from the position it stored, a chunk run twice counts once, and after
MAX_RESTARTS restarts without progress (or a chunk failing on a non-transient
error) it is FAILED with a reason, shown on the settings page and in the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from engage import task_names
from engage.models import ProfileIdentifier, Space, SpaceSource
from engage.services import feed, replay
from engage.services.replay import MAX_RESTARTS, STALLED_AFTER, ReplayStatus, replay_chunk
from tests.engage.broker_support import queued_tasks
from tests.engage.pipeline_support import add_source, add_space, connect, identify, ingest
from tests.resource_contract import client_for
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


def replaying(
    alice: User, make_workspace: Callable[..., Workspace], people: int = 5
) -> tuple[Space, SpaceSource]:
    """A source with ``people`` stored identifies, connected and its replay started."""
    workspace = make_workspace(alice, "acme")
    web = add_source(alice, workspace)
    ingest(web, *(identify(f"u-{n}") for n in range(people)))
    space = add_space(alice, workspace)
    connected = connect(alice, space, web)
    replay.start_replay(connected)
    return space, connected


def run(args: list[Any], *, chunk: int = 2) -> dict[str, Any]:
    return replay_chunk(*args, chunk=chunk)


def stall(connected: SpaceSource) -> None:
    SpaceSource.objects.filter(pk=connected.pk).update(
        replay_progress_time=timezone.now() - STALLED_AFTER - dt.timedelta(seconds=1)
    )


def row(connected: SpaceSource) -> SpaceSource:
    return SpaceSource.objects.get(pk=connected.pk)


def test_start_stores_the_window_and_each_chunk_its_position(alice, make_workspace) -> None:
    _, connected = replaying(alice, make_workspace)
    started = row(connected)
    assert started.replay_since is not None and started.replay_until is not None
    assert started.replay_until - started.replay_since == dt.timedelta(days=30)
    assert (started.replay_after_time, started.replay_after_id) == (None, None)

    first = run(replay._position_args(started))

    moved = row(connected)
    assert moved.replay_after_time is not None
    assert first["next"] == [moved.replay_after_time.isoformat(), moved.replay_after_id]
    assert (moved.replay_status, moved.replayed) == (ReplayStatus.RUNNING, 2)


def test_a_chunk_run_twice_counts_once(alice, make_workspace) -> None:
    _, connected = replaying(alice, make_workspace)
    args = replay._position_args(row(connected))
    run(args)

    again = run(args)  # a redelivered message, or a restart beside a slow run

    assert again["skipped"] == "superseded"
    assert row(connected).replayed == 2


def test_the_sweep_queues_a_stalled_replay_from_where_it_got_to(alice, make_workspace) -> None:
    space, connected = replaying(alice, make_workspace)
    first = run(replay._position_args(row(connected)))
    stall(connected)  # the task carrying the next chunk was lost

    with queued_tasks() as queued:
        assert replay.requeue_stalled() == 1
        assert replay.requeue_stalled() == 0  # restarted just now: not stalled yet

    [(name, args)] = queued
    assert name == task_names.REPLAY_SOURCE
    assert args[0] == connected.pk and args[3:] == first["next"]
    assert row(connected).replay_restarts == 1
    while args:
        result = run(args)
        args = [*args[:3], *result["next"]] if result["next"] else []
    done = row(connected)
    assert (done.replay_status, done.replayed, done.replay_restarts) == (
        ReplayStatus.FINISHED,
        5,
        0,
    )
    assert ProfileIdentifier.objects.filter(space=space, type="user_id").count() == 5


def test_a_replay_whose_first_message_was_lost_starts_again(alice, make_workspace) -> None:
    _, connected = replaying(alice, make_workspace)
    stall(connected)

    with queued_tasks() as queued:
        assert replay.requeue_stalled() == 1

    [(name, args)] = queued
    assert (name, args[3:]) == (task_names.REPLAY_SOURCE, [None, None])
    assert row(connected).replay_status == ReplayStatus.QUEUED


def test_a_fresh_or_finished_replay_is_left_alone(alice, make_workspace) -> None:
    _, connected = replaying(alice, make_workspace, people=1)
    with queued_tasks() as queued:
        assert replay.requeue_stalled() == 0
        run(replay._position_args(row(connected)))
        stall(connected)
        assert replay.requeue_stalled() == 0
    assert row(connected).replay_status == ReplayStatus.FINISHED
    assert queued == []


def test_it_gives_up_after_bounded_restarts_and_says_so(alice, make_workspace) -> None:
    space, connected = replaying(alice, make_workspace)
    run(replay._position_args(row(connected)))
    with queued_tasks() as queued:
        for _ in range(MAX_RESTARTS):
            stall(connected)
            assert replay.requeue_stalled() == 1
        stall(connected)
        assert replay.requeue_stalled() == 0

    assert len(queued) == MAX_RESTARTS
    failed = row(connected)
    assert failed.replay_status == ReplayStatus.FAILED
    assert f"restarted {MAX_RESTARTS} times" in failed.replay_failure
    assert "gave up after 2 events" in failed.replay_failure
    page = Client()
    page.force_login(alice)
    body = page.get(f"/workspaces/acme/engage/spaces/{space.slug}/settings/").content.decode()
    assert "Replay failed: 2 events" in body
    assert f'<div class="text-danger-emphasis replay-failure">{failed.replay_failure}' in body
    api = client_for(alice)[0]
    answer = api.get(f"/v1beta/workspaces/acme/spaces/{space.slug}/sources/web")
    assert answer.status_code == 200, answer.content
    shown = answer.json()
    assert (shown["replay_status"], shown["replay_failure"]) == ("FAILED", failed.replay_failure)
    assert run([*replay._position_args(failed)])["skipped"] == "superseded"


def test_a_chunk_failing_otherwise_fails_the_replay_and_keeps_the_earlier_ones(
    alice, make_workspace, monkeypatch
) -> None:
    space, connected = replaying(alice, make_workspace)
    first = run(replay._position_args(row(connected)))
    real = feed.resolve

    def broken(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # written, then the chunk fails: all of it rolls back
        raise ValueError("a bug")

    monkeypatch.setattr(feed, "resolve", broken)
    result = run([*replay._position_args(row(connected))[:3], *first["next"]])

    failed = row(connected)
    assert result["failed"] == failed.replay_failure
    assert failed.replay_status == ReplayStatus.FAILED and failed.replayed == 2
    assert "ValueError" in failed.replay_failure
    assert ProfileIdentifier.objects.filter(space=space, type="user_id").count() == 2
