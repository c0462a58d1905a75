"""Real-time audiences and traits as time passes (engage.services.computation_windows):
a member exits when its last event leaves the window though nothing new arrives,
"zero times" enters as time passes, both edges of an "in between" window, a trait
counting a window, a trait compared with now (full re-evaluation), audiences
referring to a moved one, catch-up from the stored check after a gap, nothing
changed twice; replays and CSV uploads re-evaluating what they touched; an
audience without historical data counting only events received after it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from engage.models import (
    Computation,
    ComputationChange,
    ComputationMember,
    ComputationRun,
    CsvUpload,
    Profile,
)
from engage.services import computation_runs, computation_windows, csv_upload
from engage.services.computations import do_create_computation, preview
from engage.services.identity_settings import seed_defaults
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
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice: User, make_workspace: Callable[..., Workspace]) -> World:
    return World(make_space(make_workspace(alice, "acme")))


@pytest.fixture
def me(alice: User) -> Principal:
    return Principal(alice)


def later(**delta: float) -> dt.datetime:
    return NOW + dt.timedelta(**delta)


def check(at: dt.datetime) -> dict[str, computation_runs.Diff]:
    changed: dict[str, computation_runs.Diff] = {}
    for result in computation_windows.check_windows(now=at):
        changed.update(result.changed)
    return changed


def realtime_changes(computation: Computation) -> list[tuple[str, Any, Any]]:
    rows = ComputationChange.objects.filter(computation=computation, run=None).order_by("pk")
    return [(str(Profile.objects.get(pk=r.profile_id)), r.old, r.new) for r in rows]


BUYERS = audience(did("Order Completed", window=within(7)))


def test_a_member_exits_when_its_last_event_leaves_the_window(world: World, me: Principal) -> None:
    for user in ("u1", "u2"):
        world.identify(user, at=ago(days=30))
    world.track("u1", "Order Completed", at=ago(days=6))
    world.track("u2", "Order Completed", at=ago(days=1))
    buyers = create(me, world, "Buyers", BUYERS)
    assert buyers.compute_mode == "realtime"
    run_now(buyers)
    assert members(world, buyers) == {"u1", "u2"}

    assert check(later(hours=12)) == {}  # u1's order is 6.5 days old: still in
    changed = check(later(days=1, hours=1))  # now 7 days and an hour old: out

    assert world.label(changed["buyers"].exited) == ["u1"]
    assert members(world, buyers) == {"u2"}
    assert Profile.objects.get(pk=world.pid("u1")).traits["buyers"] is False
    assert Computation.objects.get(pk=buyers.pk).size == 1
    # The same check again (a redelivered tick, a restart) changes nothing more.
    assert check(later(days=1, hours=1)) == {}
    assert check(later(days=1, hours=2)) == {}
    assert len(realtime_changes(buyers)) == 1
    assert Computation.objects.get(pk=buyers.pk).window_check_time == later(days=1, hours=2)


def test_zero_times_within_a_window_enters_as_time_passes(world: World, me: Principal) -> None:
    for user in ("u1", "u2"):
        world.identify(user, at=ago(days=30))
    world.track("u1", "Order Completed", at=ago(days=5))
    lapsed = create(
        me, world, "Lapsed", audience(did("Order Completed", window=within(7), cmp="eq", times=0))
    )
    run_now(lapsed)
    assert members(world, lapsed) == {"u2"}

    assert check(later(days=1)) == {}
    changed = check(later(days=2, hours=1))

    assert world.label(changed["lapsed"].entered) == ["u1"]
    assert members(world, lapsed) == {"u1", "u2"}
    assert Profile.objects.get(pk=world.pid("u1")).traits["lapsed"] is True


def test_at_most_once_enters_when_an_extra_event_ages_out(world: World, me: Principal) -> None:
    world.identify("u1", at=ago(days=30))
    world.track("u1", "Support Ticket", at=ago(days=6))
    world.track("u1", "Support Ticket", at=ago(days=1))
    calm = create(
        me, world, "Calm", audience(did("Support Ticket", window=within(7), cmp="lte", times=1))
    )
    assert calm.compute_mode == "realtime"
    run_now(calm)
    assert members(world, calm) == set()

    assert world.label(check(later(days=1, hours=1))["calm"].entered) == ["u1"]
    assert members(world, calm) == {"u1"}


def test_a_funnel_leaves_when_its_first_step_ages_out(world: World, me: Principal) -> None:
    """Added to cart within 3 days and not ordered within a day after. Funnels are
    batch today; the check's edges are the first step's (a step relative to its
    parent moves with it), so the audience is set real-time here to show it."""
    world.identify("u1", at=ago(days=30))
    world.track("u1", "Product Added", at=ago(days=2))
    abandoned = create(
        me,
        world,
        "Abandoned carts",
        audience(
            did(
                "Product Added",
                window=within(3),
                where=did(
                    "Order Completed", window=within(1, relative_to="parent"), cmp="eq", times=0
                ),
            )
        ),
    )
    Computation.objects.filter(pk=abandoned.pk).update(compute_mode="realtime")
    run_now(abandoned)
    assert members(world, abandoned) == {"u1"}

    assert check(later(hours=23)) == {}
    assert world.label(check(later(days=1, hours=1))["abandoned_carts"].exited) == ["u1"]


def test_an_in_between_window_moves_members_at_both_edges(world: World, me: Principal) -> None:
    """Definitions make "in between" batch today; the check treats any window's
    edges, so the audience is set real-time here to show both."""
    world.identify("u1", at=ago(days=30))
    world.track("u1", "Order Completed", at=ago(days=1))
    between = {
        "type": "between",
        "start": {"value": 2, "unit": "days"},
        "end": {"value": 4, "unit": "days"},
    }
    window = create(me, world, "Two to four days", audience(did("Order Completed", window=between)))
    Computation.objects.filter(pk=window.pk).update(compute_mode="realtime")
    run_now(window)
    assert members(world, window) == set()

    assert world.label(check(later(days=1, hours=1))["two_to_four_days"].entered) == ["u1"]
    assert check(later(days=2)) == {}
    assert world.label(check(later(days=3, hours=1))["two_to_four_days"].exited) == ["u1"]
    assert [(old, new) for _p, old, new in realtime_changes(window)] == [
        (False, True),
        (True, False),
    ]


def test_a_check_after_a_gap_catches_up_from_the_stored_time(world: World, me: Principal) -> None:
    for user in ("u1", "u2", "u3"):
        world.identify(user, at=ago(days=30))
    world.track("u1", "Order Completed", at=ago(days=6))
    world.track("u2", "Order Completed", at=ago(days=3))
    world.track("u3", "Order Completed", at=ago(hours=1))
    buyers = create(me, world, "Buyers", BUYERS)
    run_now(buyers)
    assert check(later(minutes=1)) == {}
    stored = Computation.objects.get(pk=buyers.pk).window_check_time
    assert stored == later(minutes=1)

    # No tick for five days (the workers were down): both edges crossed meanwhile.
    changed = check(later(days=5))

    assert sorted(world.label(changed["buyers"].exited)) == ["u1", "u2"]
    assert members(world, buyers) == {"u3"}
    assert check(later(days=5, minutes=1)) == {}
    assert len(realtime_changes(buyers)) == 2


def test_only_profiles_whose_events_crossed_an_edge_are_candidates(
    world: World, me: Principal
) -> None:
    for user in ("u1", "u2"):
        world.identify(user, at=ago(days=30))
    world.track("u1", "Order Completed", at=ago(days=6, hours=12))
    world.track("u2", "Order Completed", at=ago(days=2))
    buyers = create(me, world, "Buyers", BUYERS)
    run_now(buyers)

    [result] = computation_windows.check_windows(now=later(hours=13))

    assert result.candidates == 1 and result.full == []
    assert world.label(result.changed["buyers"].exited) == ["u1"]


def test_edges_crossed_before_the_last_full_run_are_not_candidates(
    world: World, me: Principal
) -> None:
    """A computation re-run (an edit) after a stale check resumes from the run."""
    world.identify("u1", at=ago(days=30))
    world.track("u1", "Order Completed", at=ago(days=20))
    buyers = create(me, world, "Buyers", BUYERS)
    run_now(buyers)
    Computation.objects.filter(pk=buyers.pk).update(window_check_time=ago(days=30))

    [result] = computation_windows.check_windows(now=later(minutes=1))

    assert (result.candidates, result.changed) == (0, {})
    assert Computation.objects.get(pk=buyers.pk).window_check_time == later(minutes=1)


def test_an_event_counter_trait_counts_down_as_events_age(world: World, me: Principal) -> None:
    world.identify("u1", at=ago(days=30))
    world.track("u1", "Order Completed", at=ago(days=6))
    world.track("u1", "Order Completed", at=ago(days=3))
    orders = create(
        me,
        world,
        "Orders 7 days",
        {
            "version": 1,
            "type": "users",
            "kind": "event_counter",
            "event": "Order Completed",
            "where": None,
            "window": within(7),
        },
        kind="trait",
    )
    run_now(orders)

    def value() -> Any:
        return Profile.objects.get(pk=world.pid("u1")).traits["orders_7_days"]

    assert value() == 2
    check(later(days=1, hours=1))
    assert value() == 1
    check(later(days=4, hours=1))
    assert value() == 0


def test_a_trait_compared_with_now_is_re_evaluated_in_full(world: World, me: Principal) -> None:
    world.identify("u1", at=ago(days=30), signed_up=ago(days=2).isoformat())
    world.identify("u2", at=ago(days=30), signed_up=ago(hours=1).isoformat())
    recent = create(
        me,
        world,
        "Recent signups",
        audience(trait("signed_up", "within_last", {"value": 3, "unit": "days"})),
    )
    assert recent.compute_mode == "realtime"
    run_now(recent)
    assert members(world, recent) == {"u1", "u2"}

    [result] = computation_windows.check_windows(now=later(days=1, hours=1))

    assert result.full == ["recent_signups"]
    assert world.label(result.changed["recent_signups"].exited) == ["u1"]
    assert members(world, recent) == {"u2"}


def test_an_audience_of_a_moved_audience_follows_it(world: World, me: Principal) -> None:
    world.identify("u1", at=ago(days=30), plan="gold")
    world.track("u1", "Order Completed", at=ago(days=6))
    buyers = create(me, world, "Buyers", BUYERS)
    gold_buyers = create(
        me,
        world,
        "Gold buyers",
        audience(
            {
                "op": "and",
                "args": [
                    {"kind": "audience", "audience_key": "buyers", "member": True},
                    trait("plan", "eq", "gold"),
                ],
            }
        ),
    )
    assert gold_buyers.compute_mode == "realtime"
    run_now(buyers)
    run_now(gold_buyers)
    assert members(world, gold_buyers) == {"u1"}

    changed = check(later(days=1, hours=1))

    assert set(changed) == {"buyers", "gold_buyers"}
    assert members(world, gold_buyers) == set()


def test_a_computation_before_its_first_run_is_not_checked(world: World, me: Principal) -> None:
    world.identify("u1", at=ago(days=30))
    world.track("u1", "Order Completed", at=ago(days=6))
    buyers = create(me, world, "Buyers", BUYERS)
    assert ComputationRun.objects.filter(computation=buyers).exists()

    assert computation_windows.check_windows(now=later(days=2)) == []
    assert Computation.objects.get(pk=buyers.pk).window_check_time is None


def test_edges_of_definitions() -> None:
    def edges_of(definition: dict[str, Any], kind: str = "audience") -> Any:
        found = computation_windows.edges(Computation(kind=kind, definition=definition))
        return found.full, {k: sorted(v) for k, v in found.spans.items()}

    day = dt.timedelta(days=1)
    assert edges_of(BUYERS) == (False, {"Order Completed": [dt.timedelta(0), 7 * day]})
    assert edges_of(audience(did("Signed Up"))) == (
        False,
        {"Signed Up": [computation_windows.HORIZON]},
    )
    funnel = did(
        "Product Added",
        window=within(3),
        where=did("Order Completed", window=within(1, relative_to="parent"), cmp="eq", times=0),
    )
    assert edges_of(audience(funnel)) == (False, {"Product Added": [dt.timedelta(0), 3 * day]})
    assert edges_of(audience(trait("plan", "eq", "gold"))) == (False, {})
    assert edges_of(audience(trait("seen", "within_last", {"value": 1, "unit": "days"})))[0]


# -- replays and CSV uploads --------------------------------------------------------------


def test_a_replay_re_evaluates_the_profiles_it_reached(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    from engage.services.replay import replay_chunk, start_replay
    from tests.engage.pipeline_support import add_source, add_space, connect, ingest, track

    workspace = make_workspace(alice, "acme")
    web = add_source(alice, workspace)
    ingest(web, track("Order Completed", "u-1"), track("Viewed", "u-2"))
    space = add_space(alice, workspace)
    buyers = do_create_computation(
        principal=Principal(alice),
        space=space,
        kind="audience",
        display_name="Buyers",
        definition=BUYERS,
    )
    run_now(buyers, at=timezone.now())
    assert not ComputationMember.objects.filter(computation=buyers).exists()
    connected = connect(alice, space, web)
    start_replay(connected)
    now = timezone.now()

    replay_chunk(connected.pk, (now - dt.timedelta(days=30)).isoformat(), now.isoformat())

    assert members(World(space), buyers) == {"u-1"}


def test_a_csv_upload_re_evaluates_the_profiles_it_touched(
    world: World, me: Principal, alice: User
) -> None:
    seed_defaults(world.space)
    world.identify("u-1", at=ago(days=30), plan="free")
    gold = create(me, world, "Gold", audience(trait("plan", "eq", "gold")))
    run_now(gold, at=timezone.now())
    assert members(world, gold) == set()

    upload = csv_upload.do_upload_profiles_csv(
        principal=me,
        space=world.space,
        file_name="people.csv",
        data=b"user_id,email,plan\nu-1,,gold\nu-2,b@example.com,gold\nu-3,,free\n",
    )
    csv_upload.process_upload(upload.pk)

    assert CsvUpload.objects.get(pk=upload.pk).status == "SUCCEEDED"
    assert members(world, gold) == {"u-1", "u-2"}


# -- include_historical ----------------------------------------------------------------------


def test_an_audience_without_historical_data_counts_events_received_after_it(
    world: World, me: Principal
) -> None:
    start = timezone.now()
    for user in ("u1", "u2"):
        world.identify(user, at=start - dt.timedelta(days=30))
    world.track("u1", "Order Completed", at=start - dt.timedelta(hours=1))
    fresh = create(me, world, "Fresh buyers", audience(BUYERS["root"], include_historical=False))
    backfilled = create(me, world, "All buyers", BUYERS)
    assert fresh.compute_mode == "realtime"
    run_now(fresh, at=timezone.now())
    run_now(backfilled, at=timezone.now())
    assert members(world, fresh) == set()
    assert members(world, backfilled) == {"u1"}

    world.track("u2", "Order Completed", at=timezone.now())
    computation_runs.reevaluate_profiles(
        world.space.pk, [world.pid("u1"), world.pid("u2")], now=timezone.now()
    )

    assert members(world, fresh) == {"u2"}
    assert members(world, backfilled) == {"u1", "u2"}


def test_the_preview_of_an_audience_without_historical_data_counts_as_its_runs(
    world: World, me: Principal
) -> None:
    start = timezone.now()
    world.identify("u1", at=start - dt.timedelta(days=30))
    world.identify("u2", at=start - dt.timedelta(days=30))
    world.track("u1", "Order Completed", at=start - dt.timedelta(hours=1))
    definition = audience(BUYERS["root"], include_historical=False)

    # Not saved yet: it would start empty.
    assert (
        preview(principal=me, space=world.space, kind="audience", definition=definition).size == 0
    )
    assert preview(principal=me, space=world.space, kind="audience", definition=BUYERS).size == 1

    fresh = create(me, world, "Fresh buyers", definition)
    world.track("u2", "Order Completed", at=timezone.now())
    # Saved: the events received since its creation, as its runs count them.
    shown = preview(
        principal=me, space=world.space, kind="audience", definition=definition, key=fresh.key
    )
    assert shown.size == 1
    assert shown.sample == [Profile.objects.get(pk=world.pid("u2")).segment_id]
