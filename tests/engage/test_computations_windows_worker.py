"""The real-time window check end to end: beat's row, and a real beat process
sending engage.check_windows to a real Celery worker, which makes a member exit
an audience once its last event left the window, with no new event arriving."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from engage import task_names
from engage.models import Computation, ComputationMember, RunTrigger
from engage.services import computation_runs
from engage.services.computations import do_create_computation
from switchyard.access import Principal
from tests.engage.compute_support import World, did, within
from tests.engage.identity_support import make_space
from tests.worker_support import celery_beat, celery_worker, eventually
from workspace.models import Workspace


@pytest.mark.django_db
def test_beat_checks_windows_every_minute() -> None:
    row = PeriodicTask.objects.get(task=task_names.CHECK_WINDOWS)
    assert row.enabled and row.queue == "default"
    assert row.interval is not None and (row.interval.every, row.interval.period) == (1, "minutes")


@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_make_a_member_exit_with_no_new_event(
    alice: User, make_workspace: Callable[..., Workspace], tmp_path: Path
) -> None:
    world = World(make_space(make_workspace(alice, "acme")))
    now = timezone.now()
    world.identify("u1", at=now - dt.timedelta(days=1))
    world.identify("u2", at=now - dt.timedelta(days=1))
    world.track("u1", "Order Completed", at=now - dt.timedelta(hours=2))
    world.track("u2", "Order Completed", at=now - dt.timedelta(minutes=10))
    buyers = do_create_computation(
        principal=Principal(alice),
        space=world.space,
        kind="audience",
        display_name="Buyers last hour",
        definition={
            "version": 1,
            "type": "users",
            "include_anonymous": False,
            "include_historical": True,
            "root": did("Order Completed", window=within(1, "hours")),
        },
    )
    assert buyers.compute_mode == "realtime"
    # Its first run, 90 minutes ago: u1's order was then 30 minutes old.
    run = computation_runs.queue_run(buyers, RunTrigger.MANUAL)
    computation_runs.execute(run.pk, now=now - dt.timedelta(minutes=90))
    u1, u2 = world.pid("u1"), world.pid("u2")
    assert set(ComputationMember.objects.values_list("profile_id", flat=True)) == {u1}
    # Only the window check is due (at once); beat leaves the other rows alone.
    # Its row as migration 0012 writes it: a transactional test that ran before
    # this one emptied the tables, rows of data migrations included.
    PeriodicTask.objects.exclude(task=task_names.CHECK_WINDOWS).update(enabled=False)
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name="Check real-time audience and trait windows",
        defaults={
            "task": task_names.CHECK_WINDOWS,
            "interval": every,
            "queue": "default",
            "enabled": True,
            "last_run_at": now - dt.timedelta(hours=1),
        },
    )

    def current() -> set[int]:
        rows = ComputationMember.objects.filter(computation=buyers)
        return set(rows.values_list("profile_id", flat=True))

    with celery_worker("windows"), celery_beat(tmp_path):
        # u1's order turned an hour old with nothing new: it exits. u2's order,
        # stamped after the first run, is picked up by the same check (the
        # window's near edge covers events the feed may have evaluated early).
        eventually(lambda: current() == {u2}, timeout=120)

    computation = Computation.objects.get(pk=buyers.pk)
    assert computation.window_check_time is not None and computation.window_check_time > now
