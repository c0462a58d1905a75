"""Audience and computed trait runs on real PostgreSQL over profiles the real
resolver built: members, entered/exited counts, history, Profile.traits, a second
run changing only what changed, traits, audience-of-audience order, resumable
steps, retries to FAILED, the beat's due batch computations, real-time updates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from engage.models import (
    Computation,
    ComputationChange,
    ComputationMember,
    ComputationRun,
    ComputationStatus,
    Profile,
    RunStatus,
    RunStep,
    RunTrigger,
)
from engage.services import computation_runs
from engage.services.computations import do_create_computation, do_update_computation
from switchyard.access import Principal
from tests.engage.compute_support import (
    NOW,
    World,
    ago,
    audience,
    create,
    did,
    members,
    run_now,
    trait,
    within,
)
from tests.engage.identity_support import make_space
from workspace.models import AuditEntry, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice: User, make_workspace: Callable[..., Workspace]) -> World:
    return World(make_space(make_workspace(alice, "acme")))


@pytest.fixture
def me(alice: User) -> Principal:
    return Principal(alice)


def trait_of(world: World, user: str, key: str) -> Any:
    return Profile.objects.get(pk=world.pid(user)).traits.get(key, "<absent>")


BUYERS = audience(did("Order Completed", window=within(7)))


def test_a_run_stores_members_counts_history_and_profile_traits(
    world: World, me: Principal
) -> None:
    for user in ("u1", "u2", "u3"):
        world.identify(user)
    world.track("u1", "Order Completed", at=ago(days=1))
    world.track("u2", "Order Completed", at=ago(days=2))
    buyers = create(me, world, "Recent Buyers", BUYERS)
    assert buyers.key == "recent_buyers" and buyers.key_id.startswith("aud_")
    assert buyers.status == ComputationStatus.PREPARING

    run = run_now(buyers)

    assert (run.status, run.step, run.trigger) == (RunStatus.SUCCEEDED, RunStep.NOTIFIED, "create")
    assert (run.size, run.entered, run.exited, run.attempts) == (2, 2, 0, 1)
    assert members(world, buyers) == {"u1", "u2"}
    buyers.refresh_from_db()
    assert (buyers.status, buyers.size) == (ComputationStatus.LIVE, 2)
    assert trait_of(world, "u1", "recent_buyers") is True
    assert trait_of(world, "u3", "recent_buyers") == "<absent>"
    history = ComputationChange.objects.filter(run=run).values_list("profile_id", "old", "new")
    assert sorted((world.label([p])[0], o, n) for p, o, n in history) == [
        ("u1", False, True),
        ("u2", False, True),
    ]


def test_a_second_run_changes_only_what_changed(world: World, me: Principal) -> None:
    for user in ("u1", "u2", "u3"):
        world.identify(user)
    world.track("u1", "Order Completed", at=ago(days=1))
    world.track("u2", "Order Completed", at=ago(days=6))
    buyers = create(me, world, "Buyers", BUYERS)
    run_now(buyers)
    world.track("u3", "Order Completed", at=ago(hours=1))

    # Two days later u2's order is out of the 7-day window; u3 bought.
    second = run_now(buyers, at=NOW + dt.timedelta(days=2))

    assert (second.size, second.entered, second.exited) == (2, 1, 1)
    assert members(world, buyers) == {"u1", "u3"}
    changes = ComputationChange.objects.filter(run=second).values_list("profile_id", "old", "new")
    assert sorted((world.label([p])[0], o, n) for p, o, n in changes) == [
        ("u2", True, False),
        ("u3", False, True),
    ]
    # Exits stay on the profile as false (what Identify sends).
    assert trait_of(world, "u2", "buyers") is False
    assert trait_of(world, "u1", "buyers") is True
    third = run_now(buyers, at=NOW + dt.timedelta(days=2))
    assert (third.entered, third.exited, third.size) == (0, 0, 2)
    assert not ComputationChange.objects.filter(run=third).exists()


def test_a_trait_run_sets_changes_and_removes_values(world: World, me: Principal) -> None:
    world.track("u1", "Order Completed", at=ago(days=1), total=10)
    world.track("u1", "Order Completed", at=ago(days=2), total=5)
    world.track("u2", "Order Completed", at=ago(days=1), total=7)
    definition = {
        "version": 1,
        "type": "users",
        "kind": "aggregation",
        "event": "Order Completed",
        "where": None,
        "window": within(30),
        "property": "total",
        "aggregation": "sum",
    }
    revenue = create(me, world, "Revenue 30 days", definition, kind="trait")
    assert revenue.key_id.startswith("tra_") and revenue.compute_mode == "realtime"
    first = run_now(revenue)
    assert (first.entered, first.exited, first.size) == (2, 0, 2)
    assert trait_of(world, "u1", "revenue_30_days") == 15
    world.track("u1", "Order Completed", at=ago(hours=1), total=1)

    # 29.5 days on only u1's newest order (1) is inside the window; u2 has no value.
    later = NOW + dt.timedelta(days=29, hours=12)
    second = run_now(revenue, at=later)

    assert (second.entered, second.exited, second.size) == (0, 1, 1)
    assert trait_of(world, "u1", "revenue_30_days") == 1
    assert trait_of(world, "u2", "revenue_30_days") == "<absent>"
    olds = ComputationChange.objects.filter(run=second).values_list("profile_id", "old", "new")
    assert sorted((world.label([p])[0], o, n) for p, o, n in olds) == [
        ("u1", 15, 1),
        ("u2", 7, None),
    ]


def test_audience_of_audience_waits_for_the_referenced_run(world: World, me: Principal) -> None:
    world.identify("u1", plan="pro")
    world.identify("u2", plan="pro")
    world.track("u1", "Order Completed", at=ago(days=1))
    buyers = create(me, world, "Buyers", BUYERS)
    pro_buyers = create(
        me,
        world,
        "Pro Buyers",
        audience(
            {
                "op": "and",
                "args": [
                    trait("plan", "eq", "pro"),
                    {"kind": "audience", "audience_key": "buyers", "member": True},
                ],
            }
        ),
    )
    first = ComputationRun.objects.get(computation=buyers)
    second = ComputationRun.objects.get(computation=pro_buyers)

    with pytest.raises(computation_runs.Waiting):
        computation_runs.execute(second.pk, now=NOW)
    second.refresh_from_db()
    assert (second.status, second.attempts, second.step) == (RunStatus.QUEUED, 0, RunStep.NONE)

    computation_runs.execute(first.pk, now=NOW)
    computation_runs.execute(second.pk, now=NOW)
    assert members(world, pro_buyers) == {"u1"}
    order = computation_runs.dependency_order([pro_buyers, buyers])
    assert [c.key for c in order] == ["buyers", "pro_buyers"]


def test_a_crashed_run_resumes_after_its_last_done_step(
    world: World, me: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.identify("u1")
    world.track("u1", "Order Completed", at=ago(days=1))
    buyers = create(me, world, "Buyers", BUYERS)
    run = ComputationRun.objects.get(computation=buyers)
    evaluated: list[int] = []
    real_evaluate, real_apply = computation_runs.evaluate, computation_runs.apply

    def counting_evaluate(run_id: int) -> None:
        evaluated.append(run_id)
        real_evaluate(run_id)

    def crash(run_id: int) -> Any:
        raise ConnectionError("worker lost its database")

    monkeypatch.setattr(computation_runs, "evaluate", counting_evaluate)
    monkeypatch.setattr(computation_runs, "apply", crash)
    with pytest.raises(ConnectionError):
        computation_runs.execute(run.pk, now=NOW)
    run.refresh_from_db()
    assert (run.step, run.status, run.attempts) == (RunStep.EVALUATED, RunStatus.RUNNING, 1)
    assert "worker lost its database" in run.error
    assert not ComputationMember.objects.filter(computation=buyers).exists()
    rows_before = list(
        computation_runs.ComputationResult.objects.filter(run=run).values_list("profile_id")
    )

    # The retry: evaluate finds its step done and does nothing; apply runs.
    world.identify("late")
    world.track("late", "Order Completed", at=ago(hours=1))
    monkeypatch.setattr(computation_runs, "apply", real_apply)
    computation_runs.execute(run.pk, now=NOW + dt.timedelta(hours=1))
    run.refresh_from_db()
    assert (run.step, run.status, run.attempts) == (RunStep.NOTIFIED, RunStatus.SUCCEEDED, 2)
    assert len(rows_before) == 1
    assert members(world, buyers) == {"u1"}  # the evaluated rows, not a second evaluation


def test_five_retries_then_failed(
    world: World, me: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.identify("u1")
    buyers = create(me, world, "Buyers", BUYERS)
    run = ComputationRun.objects.get(computation=buyers)

    def crash(run_id: int) -> None:
        raise RuntimeError("compiled query failed")

    monkeypatch.setattr(computation_runs, "evaluate", crash)
    for _attempt in range(1 + computation_runs.MAX_RETRIES - 1):
        with pytest.raises(RuntimeError):
            computation_runs.execute(run.pk, now=NOW)
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.RUNNING, computation_runs.MAX_RETRIES)

    assert computation_runs.execute(run.pk, now=NOW) == {"run": run.pk, "failed": True}
    run.refresh_from_db()
    buyers.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.FAILED, 1 + computation_runs.MAX_RETRIES)
    assert "compiled query failed" in run.error
    assert buyers.status == ComputationStatus.FAILED
    assert "compiled query failed" in buyers.failure
    entries = AuditEntry.objects.filter(action="audience.compute_failed")
    assert entries.count() == 1 + computation_runs.MAX_RETRIES
    # A finished run is not run again.
    assert computation_runs.execute(run.pk, now=NOW)["skipped"] is True


def test_beat_queues_only_due_batch_computations(world: World, me: Principal) -> None:
    between = {
        "type": "between",
        "start": {"value": 1, "unit": "days"},
        "end": {"value": 9, "unit": "days"},
    }
    lapsed = create(me, world, "Lapsed", audience(did("Order Completed", window=between)))
    fresh = create(me, world, "Fresh", audience(did("Signed Up", window=between)))
    realtime = create(me, world, "Buyers", BUYERS)
    disabled = create(me, world, "Off", audience(did("X", window=between)), enabled=False)
    assert lapsed.compute_mode == "batch" and realtime.compute_mode == "realtime"
    for c in (lapsed, fresh, realtime):
        run_now(c)
    Computation.objects.filter(pk=lapsed.pk).update(last_run_time=NOW - dt.timedelta(hours=9))
    Computation.objects.filter(pk=fresh.pk).update(last_run_time=NOW - dt.timedelta(hours=7))
    Computation.objects.filter(pk=realtime.pk).update(last_run_time=NOW - dt.timedelta(days=9))

    created = computation_runs.schedule_due(NOW)

    assert [ComputationRun.objects.get(pk=r).computation_id for r in created] == [lapsed.pk]
    assert ComputationRun.objects.get(pk=created[0]).trigger == RunTrigger.SCHEDULE
    assert not ComputationRun.objects.filter(computation=disabled).exists()
    # Already queued: not twice.
    assert computation_runs.schedule_due(NOW) == []
    # The space's cadence decides.
    world.space.batch_cadence_hours = 6
    world.space.save(update_fields=["batch_cadence_hours"])
    assert len(computation_runs.schedule_due(NOW)) == 1  # fresh (7 h > 6 h)


def test_realtime_reevaluates_only_touched_profiles(world: World, me: Principal) -> None:
    world.identify("u1")
    world.identify("u2")
    buyers = create(me, world, "Buyers", BUYERS)
    run_now(buyers)
    assert members(world, buyers) == set()
    world.track("u1", "Order Completed", at=ago(minutes=1))
    world.track("u2", "Order Completed", at=ago(minutes=1))

    changed = computation_runs.reevaluate_profiles(world.space.pk, [world.pid("u1")], now=NOW)

    assert set(changed) == {"buyers"}
    assert world.label(changed["buyers"].entered) == ["u1"]
    assert members(world, buyers) == {"u1"}  # u2 was not touched
    assert trait_of(world, "u1", "buyers") is True
    buyers.refresh_from_db()
    assert buyers.size == 1
    realtime_change = ComputationChange.objects.get(computation=buyers, run=None)
    assert (realtime_change.old, realtime_change.new) == (False, True)
    # A week on, re-evaluating u1 makes it exit.
    later = NOW + dt.timedelta(days=8)
    gone = computation_runs.reevaluate_profiles(world.space.pk, [world.pid("u1")], now=later)
    assert world.label(gone["buyers"].exited) == ["u1"]
    assert trait_of(world, "u1", "buyers") is False


def test_editing_the_definition_queues_a_run(world: World, me: Principal) -> None:
    buyers = create(me, world, "Buyers", BUYERS)
    run_now(buyers)
    edited = audience(did("Order Completed", window=within(3)))
    do_update_computation(principal=me, computation=buyers, changes={"definition": edited})
    run = ComputationRun.objects.filter(computation=buyers).latest("pk")
    assert (run.trigger, run.status) == (RunTrigger.EDIT, RunStatus.QUEUED)


def test_the_feed_reevaluates_realtime_computations_after_a_drain(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    from django.utils import timezone

    from engage.services.feed import drain
    from tests.engage.pipeline_support import (
        add_source,
        add_space,
        connect,
        deliver_all,
        identify,
        ingest,
        track,
    )

    workspace = make_workspace(alice, "acme")
    space, web = add_space(alice, workspace), add_source(alice, workspace)
    connect(alice, space, web)
    ingest(web, identify("u1"), identify("u2"))
    deliver_all()
    drain(space.pk, web.pk)
    buyers = do_create_computation(
        principal=Principal(alice),
        space=space,
        kind="audience",
        display_name="Buyers",
        definition=BUYERS,
    )
    run_now(buyers, at=timezone.now())
    assert not ComputationMember.objects.filter(computation=buyers).exists()

    ingest(web, track("Order Completed", "u1"))
    deliver_all()
    drain(space.pk, web.pk)

    world = World(space)
    assert members(world, buyers) == {"u1"}
    assert trait_of(world, "u1", "buyers") is True


def test_the_task_retries_five_times_then_the_run_fails(
    world: World, me: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engage.tasks import compute_computation

    world.identify("u1")
    buyers = create(me, world, "Buyers", BUYERS)
    run = ComputationRun.objects.get(computation=buyers)

    def crash(run_id: int) -> None:
        raise RuntimeError("statement timeout")

    monkeypatch.setattr(computation_runs, "evaluate", crash)
    # Run in this process: Celery re-runs an eager task's retries at once.
    result = compute_computation.apply(args=[run.pk])

    assert result.get() == {"run": run.pk, "failed": True}
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.FAILED, 6)
    buyers.refresh_from_db()
    assert buyers.status == ComputationStatus.FAILED


def test_beat_runs_the_schedule_every_five_minutes_and_the_row_is_reversible() -> None:
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    from engage import task_names, tasks

    row = PeriodicTask.objects.get(task=task_names.SCHEDULE_COMPUTATIONS)
    assert row.enabled and row.queue == "default"
    assert row.interval is not None and (row.interval.every, row.interval.period) == (5, "minutes")
    assert tasks.schedule_computations.name == task_names.SCHEDULE_COMPUTATIONS
    assert tasks.compute_computation.name == task_names.COMPUTE_COMPUTATION
    migration = importlib.import_module("engage.migrations.0009_computations")
    migration.unschedule(apps, None)
    assert not PeriodicTask.objects.filter(task=task_names.SCHEDULE_COMPUTATIONS).exists()
    migration.schedule(apps, None)
    migration.schedule(apps, None)
    assert PeriodicTask.objects.filter(task=task_names.SCHEDULE_COMPUTATIONS).count() == 1


def test_a_run_does_not_undo_a_newer_realtime_update(world: World, me: Principal) -> None:
    world.identify("u1")
    buyers = create(me, world, "Buyers", BUYERS)
    run_now(buyers)
    run = computation_runs.queue_run(buyers, RunTrigger.MANUAL)
    ComputationRun.objects.filter(pk=run.pk).update(as_of=NOW, status=RunStatus.RUNNING)
    computation_runs.evaluate(run.pk)  # u1 is no member at NOW
    world.track("u1", "Order Completed", at=NOW + dt.timedelta(minutes=1))
    later = NOW + dt.timedelta(minutes=2)
    computation_runs.reevaluate_profiles(world.space.pk, [world.pid("u1")], now=later)
    assert members(world, buyers) == {"u1"}

    diff = computation_runs.apply(run.pk)

    assert diff.exited == [] and members(world, buyers) == {"u1"}
    assert trait_of(world, "u1", "buyers") is True
