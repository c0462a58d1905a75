"""Destination syncs in process (engage.services.destination_syncs): what queues
them (a connection, a run or real-time update that changed something, after the
commit), the cursor (a sync stores each change once; a repeated sync stores
nothing), and failures: each attempt recorded and audited, FAILED after the
retries, nothing stored by a failed attempt, a later success clearing it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from connections.models import Destination, Event
from engage import task_names, tasks
from engage.models import Computation, ComputationDestination, ComputationRun, SyncState
from engage.services import computation_runs, destination_syncs
from engage.services.computation_destinations import do_connect_destination
from engage.services.computations import do_create_computation
from tests.connections.delivery_support import Setup, make_setup
from tests.engage.broker_support import queued_tasks
from tests.engage.compute_support import NOW, World, ago, did, within
from tests.engage.spaces_support import Acme, make_acme
from workspace.models import AuditEntry

pytestmark = pytest.mark.django_db

SYNC = task_names.SYNC_COMPUTATION_DESTINATION
BUYERS = {
    "version": 1,
    "type": "users",
    "include_anonymous": False,
    "include_historical": True,
    "root": did("Order Completed", window=within(7)),
}


@pytest.fixture
def acme() -> Acme:
    acme = make_acme()
    acme.space("main")
    return acme


@pytest.fixture
def world(acme: Acme) -> World:
    world = World(acme.workspace.spaces.get(slug="main"))
    for user in ("u1", "u2"):
        world.identify(user)
        world.track(user, "Order Completed", at=ago(days=1))
    return world


@pytest.fixture
def out(acme: Acme) -> Setup:
    return make_setup(acme.owner, acme.workspace, slug="engage-out")


def computed(acme: Acme, world: World) -> Computation:
    buyers = do_create_computation(
        principal=acme.principal,
        space=world.space,
        kind="audience",
        display_name="Buyers",
        definition=BUYERS,
    )
    computation_runs.execute(ComputationRun.objects.get(computation=buyers).pk, now=NOW)
    return Computation.objects.select_related("space__workspace").get(pk=buyers.pk)


def connected(acme: Acme, buyers: Computation, destination: Destination) -> ComputationDestination:
    return do_connect_destination(
        principal=acme.principal, computation=buyers, destination=destination.key_id
    )


def stored(out: Setup) -> int:
    return Event.objects.filter(source_id=out.source.pk).count()


def test_connecting_and_changes_queue_syncs_after_the_commit(
    acme: Acme,
    world: World,
    out: Setup,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    buyers = computed(acme, world)
    destination = out.destination()
    with queued_tasks() as queued, django_capture_on_commit_callbacks(execute=True):
        connection = connected(acme, buyers, destination)
    assert queued == [(SYNC, [connection.pk])]

    # A run that changes nothing queues nothing; one that does, the sync.
    run = computation_runs.queue_run(buyers, "manual")
    with queued_tasks() as queued, django_capture_on_commit_callbacks(execute=True):
        computation_runs.execute(run.pk, now=NOW)
    assert queued == []
    world.track("u3", "Order Completed", at=ago(days=1))
    with queued_tasks() as queued, django_capture_on_commit_callbacks(execute=True):
        computation_runs.reevaluate_profiles(world.space.pk, [world.pid("u3")], now=NOW)
    assert queued == [(SYNC, [connection.pk])]
    connection.refresh_from_db()
    assert connection.sync_state == SyncState.PENDING


def test_each_change_is_stored_once(acme: Acme, world: World, out: Setup) -> None:
    buyers = computed(acme, world)
    destination = out.destination()
    connection = connected(acme, buyers, destination)
    result = destination_syncs.sync(connection.pk)
    assert (result["profiles"], result["messages"]) == (2, 2)  # Identify per user_id
    assert stored(out) == 2
    assert destination_syncs.sync(connection.pk)["messages"] == 0
    assert stored(out) == 2

    world.track("u3", "Order Completed", at=ago(days=1))
    computation_runs.reevaluate_profiles(world.space.pk, [world.pid("u3")], now=NOW)
    assert destination_syncs.sync(connection.pk)["messages"] == 1
    assert destination_syncs.sync(connection.pk)["messages"] == 0
    assert stored(out) == 3
    connection.refresh_from_db()
    assert (connection.sync_state, connection.profiles_synced, connection.messages_sent) == (
        SyncState.SYNCED,
        3,
        3,
    )


def test_a_failing_sync_is_recorded_audited_then_failed(
    acme: Acme, world: World, out: Setup
) -> None:
    buyers = computed(acme, world)
    destination = out.destination()
    connection = connected(acme, buyers, destination)
    # A second webhook on that source: the integrations object cannot keep the
    # messages from it, so send refuses (nothing is stored).
    other = out.destination()
    for attempt in range(1, destination_syncs.MAX_RETRIES + 1):
        with pytest.raises(Exception, match="would receive these messages too"):
            destination_syncs.sync(connection.pk)
        connection.refresh_from_db()
        assert (connection.attempts, connection.sync_state) == (attempt, SyncState.PENDING)
    assert destination_syncs.sync(connection.pk) == {"connection": connection.pk, "failed": True}
    connection.refresh_from_db()
    assert connection.sync_state == SyncState.FAILED
    assert "AmbiguousDestination" in connection.last_error
    assert connection.synced_change_id is None and stored(out) == 0
    entries = AuditEntry.objects.filter(action="audience.sync_failed")
    assert entries.count() == 1 + destination_syncs.MAX_RETRIES
    assert [(e.after or {})["final"] for e in entries.order_by("pk")] == [False] * 5 + [True]

    other.delete()
    assert destination_syncs.sync(connection.pk)["messages"] == 2
    connection.refresh_from_db()
    assert (connection.sync_state, connection.last_error, connection.attempts) == (
        SyncState.SYNCED,
        "",
        0,
    )


def test_a_disconnected_destination_is_skipped(acme: Acme, world: World, out: Setup) -> None:
    buyers = computed(acme, world)
    connection = connected(acme, buyers, out.destination())
    ComputationDestination.objects.filter(pk=connection.pk).delete()
    assert destination_syncs.sync(connection.pk) == {"connection": connection.pk, "skipped": True}
    assert stored(out) == 0


def test_the_beat_queues_again_syncs_left_pending(acme: Acme, world: World, out: Setup) -> None:
    buyers = computed(acme, world)
    stalled = connected(acme, buyers, out.destination())
    other = make_setup(acme.owner, acme.workspace, slug="engage-more")
    fresh = connected(acme, buyers, other.destination())
    long_ago = timezone.now() - destination_syncs.STALE_AFTER - dt.timedelta(minutes=1)
    ComputationDestination.objects.filter(pk=stalled.pk).update(update_time=long_ago)
    with queued_tasks() as queued:
        tasks.schedule_computations()
    assert queued == [(SYNC, [stalled.pk])]
    assert fresh.sync_state == SyncState.PENDING
