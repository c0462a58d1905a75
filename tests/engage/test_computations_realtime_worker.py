"""Real-time entry end to end: with a real Celery worker delivering events and
draining the space's feed, a track event sent through the Tracking API makes its
profile enter a real-time audience (history row, Profile.traits) and updates an
event-counter trait, with no run: the feed's re-evaluation does it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User

from connections.models import Event
from engage.models import (
    Computation,
    ComputationChange,
    ComputationMember,
    ComputationRun,
    Profile,
    ProfileIdentifier,
    RunStatus,
)
from engage.services.computations import do_create_computation
from switchyard.access import Principal
from tests.engage.compute_support import did, within
from tests.engage.pipeline_support import add_source, add_space, connect, identify, ingest, track
from tests.worker_support import celery_worker, eventually
from workspace.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def workspace(alice: User, make_workspace: Callable[..., Workspace]) -> Iterator[Workspace]:
    workspace = make_workspace(alice, "acme")
    yield workspace
    # The event table (unmanaged, partitioned) is not emptied between transactional tests.
    Event.objects.filter(workspace_id=workspace.pk).delete()


def value_of(computation: Computation, profile_id: int) -> object:
    row = ComputationMember.objects.filter(computation=computation, profile_id=profile_id)
    return row.values_list("value", flat=True).first()


def test_a_tracked_event_enters_a_realtime_audience_and_counts_in_a_trait(
    alice: User, workspace: Workspace
) -> None:
    space = add_space(alice, workspace)
    web = add_source(alice, workspace)
    connect(alice, space, web)
    me = Principal(alice)

    with celery_worker("realtime", loglevel="ERROR"):
        ingest(web, identify("u1", email="u1@example.com"))
        known = ProfileIdentifier.objects.filter(space=space, type="user_id", value="u1")
        profile_id = eventually(lambda: known.values_list("profile_id", flat=True).first())
        buyers = do_create_computation(
            principal=me,
            space=space,
            kind="audience",
            display_name="Buyers",
            definition={
                "version": 1,
                "type": "users",
                "include_anonymous": False,
                "include_historical": True,
                "root": did("Order Completed", window=within(7)),
            },
        )
        orders = do_create_computation(
            principal=me,
            space=space,
            kind="trait",
            display_name="Orders 7 days",
            definition={
                "version": 1,
                "type": "users",
                "kind": "event_counter",
                "event": "Order Completed",
                "where": None,
                "window": within(7),
            },
        )
        assert buyers.compute_mode == orders.compute_mode == "realtime"
        runs = ComputationRun.objects.filter(computation__in=[buyers, orders])
        eventually(lambda: runs.filter(status=RunStatus.SUCCEEDED).count() == 2)
        assert value_of(buyers, profile_id) is None
        assert value_of(orders, profile_id) == 0  # a counter counts no event as 0

        ingest(web, track("Order Completed", "u1"))
        assert eventually(lambda: value_of(buyers, profile_id)) is True
        assert eventually(lambda: value_of(orders, profile_id)) == 1

    assert runs.count() == 2  # the first runs only: the feed moved them
    entries = ComputationChange.objects.filter(computation=buyers).order_by("pk")
    assert list(entries.values_list("run_id", "profile_id", "old", "new")) == [
        (None, profile_id, False, True)
    ]
    first = runs.get(computation=orders).pk
    counts = ComputationChange.objects.filter(computation=orders).order_by("pk")
    assert list(counts.values_list("run_id", "profile_id", "old", "new")) == [
        (first, profile_id, None, 0),
        (None, profile_id, 0, 1),
    ]
    traits = Profile.objects.get(pk=profile_id).traits
    assert traits[buyers.key] is True
    assert traits[orders.key] == 1
