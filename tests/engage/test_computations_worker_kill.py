"""Resumable steps after a killed worker: a real Celery worker computing an audience
is killed (SIGKILL) after step 1 (evaluate) committed and before step 2 (apply)
did; the beat's stale-run pass queues the run again and a second worker finishes
it from its evaluated rows, without evaluating again, applying once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from connections.models import Event
from engage import tasks
from engage.models import (
    ComputationChange,
    ComputationMember,
    ComputationResult,
    ComputationRun,
    Profile,
    RunStatus,
    RunStep,
)
from engage.services import computation_runs
from engage.services.computations import do_create_computation
from switchyard.access import Principal
from tests.engage.compute_support import World, did, within
from tests.engage.identity_support import make_space
from tests.worker_support import celery_worker, eventually
from workspace.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def members_locked() -> Iterator[None]:
    """Another session holds the members table, so a run's apply step waits on it."""
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"],
    ) as other:
        other.execute(f"LOCK TABLE {ComputationMember._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        yield
        other.rollback()


@pytest.fixture
def world(alice: User, make_workspace: Callable[..., Workspace]) -> Iterator[World]:
    workspace = make_workspace(alice, "acme")
    yield World(make_space(workspace))
    # The event table (unmanaged, partitioned) is not emptied between transactional tests.
    Event.objects.filter(workspace_id=workspace.pk).delete()


def test_a_run_killed_after_evaluating_is_finished_by_the_next_worker_without_evaluating_again(
    alice: User, world: World
) -> None:
    now = timezone.now()
    world.identify("u1", at=now - dt.timedelta(days=2))
    world.identify("u2", at=now - dt.timedelta(days=2))
    world.track("u1", "Order Completed", at=now - dt.timedelta(days=1))
    root = did("Order Completed", window=within(7))
    definition = {
        "version": 1,
        "type": "users",
        "include_anonymous": False,
        "include_historical": True,
        "root": root,
    }
    u1 = world.pid("u1")

    # The worker answers its ping before the run is queued (a solo worker blocked
    # in a task answers nothing).
    with celery_worker("compute", loglevel="ERROR") as first, members_locked():
        buyers = do_create_computation(
            principal=Principal(alice),
            space=world.space,
            kind="audience",
            display_name="Buyers",
            definition=definition,
        )
        pending = ComputationRun.objects.filter(computation=buyers)
        run = eventually(lambda: pending.filter(step=RunStep.EVALUATED).first())
        evaluated = set(
            ComputationResult.objects.filter(run=run).values_list("profile_id", flat=True)
        )
        first.kill()  # blocked in apply, as an out-of-memory kill would find it
        first.wait(timeout=30)

    run.refresh_from_db()
    assert (run.status, run.step, run.attempts) == (RunStatus.RUNNING, RunStep.EVALUATED, 1)
    assert evaluated == {u1}
    assert not ComputationMember.objects.filter(computation=buyers).exists()
    assert not ComputationChange.objects.filter(computation=buyers).exists()
    as_of = run.as_of
    assert as_of is not None
    # A buyer whose order (before the run's instant) arrives after the kill: a
    # second evaluation at that instant would count them, the evaluated rows do not.
    world.identify("late", at=as_of - dt.timedelta(hours=3))
    world.track("late", "Order Completed", at=as_of - dt.timedelta(hours=2))
    assert world.members(root, now=as_of) == {"u1", "late"}

    # The killed worker's message stays unacknowledged on the broker (for its
    # visibility timeout); the beat's pass queues a run pending that long again.
    ComputationRun.objects.filter(pk=run.pk).update(
        create_time=now - computation_runs.STALE_AFTER - dt.timedelta(minutes=5)
    )
    with celery_worker("compute", loglevel="ERROR"):
        assert tasks.schedule_computations() == 0  # no new run: the pending one is queued

        def finished() -> ComputationRun | None:
            row = ComputationRun.objects.get(pk=run.pk)
            return row if row.status not in computation_runs.PENDING else None

        run = eventually(finished)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.step, run.attempts, run.as_of) == (RunStep.NOTIFIED, 2, as_of)
    assert (run.entered, run.exited, run.size) == (1, 0, 1)
    members = ComputationMember.objects.filter(computation=buyers)
    assert list(members.values_list("profile_id", "value")) == [(u1, True)]
    history = ComputationChange.objects.filter(computation=buyers)
    assert list(history.values_list("run_id", "profile_id", "old", "new")) == [
        (run.pk, u1, False, True)
    ]
    assert Profile.objects.get(pk=u1).traits[buyers.key] is True
    assert buyers.key not in Profile.objects.get(pk=world.pid("late")).traits
    assert not ComputationResult.objects.filter(run=run).exists()
