"""Real-time re-evaluation after a feed transaction (``reevaluate_messages``): a
profile that only received events is re-evaluated by the computations that read
those events' names and by those referring to a computation its value just
changed in; an identify call, an identifier added or a merge re-evaluates it
everywhere. Real PostgreSQL, profiles built by the real resolver."""

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
    Profile,
    ProfileEvent,
    RunTrigger,
)
from engage.services import computation_runs
from engage.services.computations import do_create_computation
from switchyard.access import Principal
from tests.engage.compute_support import SOURCE, World, audience, did, members, within
from tests.engage.identity_support import make_space
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice: User, make_workspace: Callable[..., Workspace]) -> World:
    return World(make_space(make_workspace(alice, "acme")))


def create(alice: User, world: World, name: str, root: dict[str, Any]) -> Computation:
    computation = do_create_computation(
        principal=Principal(alice),
        space=world.space,
        kind="audience",
        display_name=name,
        definition=audience(root),
    )
    run = computation_runs.queue_run(computation, RunTrigger.MANUAL)
    computation_runs.execute(run.pk, now=timezone.now())
    return computation


def fed(world: World, send: Callable[[], None]) -> None:
    """``send`` resolves messages; then the feed's re-evaluation of them."""
    before = set(ProfileEvent.objects.filter(space=world.space).values_list("pk", flat=True))
    send()
    new = ProfileEvent.objects.filter(space=world.space).exclude(pk__in=before)
    messages = list(new.values_list("message_id", flat=True))
    assert messages
    computation_runs.reevaluate_messages(world.space.pk, SOURCE, messages)


def test_events_reevaluate_only_the_computations_reading_them(alice: User, world: World) -> None:
    now = timezone.now()
    recent = now - dt.timedelta(minutes=1)
    world.identify("u1", at=recent)
    buyers = create(alice, world, "Buyers", did("Order Completed", window=within(7)))
    loyal = create(
        alice, world, "Loyal buyers", {"kind": "audience", "audience_key": "buyers", "member": True}
    )
    readers = create(alice, world, "Readers", did("Article Read", window=within(7)))
    # An Article Read the feed has not re-evaluated yet: Readers is behind for u1.
    world.track("u1", "Article Read", at=recent)

    fed(world, lambda: world.track("u1", "Order Completed", at=recent))

    assert members(world, buyers) == {"u1"}
    assert members(world, loyal) == {"u1"}  # it refers to Buyers, which u1 entered
    assert members(world, readers) == set()  # it reads no Order Completed: not evaluated
    buyers.refresh_from_db()
    assert buyers.size == 1

    fed(world, lambda: world.identify("u1", at=recent, plan="pro"))

    assert members(world, readers) == {"u1"}  # an identify call: every computation


def test_an_identifier_added_by_a_track_call_reevaluates_everything(
    alice: User, world: World
) -> None:
    recent = timezone.now() - dt.timedelta(minutes=1)
    world.identify("u1", at=recent)
    readers = create(alice, world, "Readers", did("Article Read", window=within(7)))
    world.track("u1", "Article Read", at=recent)

    def track_with_new_anonymous_id() -> None:
        world.send(
            "track",
            at=recent,
            event="Product Viewed",
            userId="u1",
            anonymousId="anon-9",
            properties={},
        )

    fed(world, track_with_new_anonymous_id)

    assert members(world, readers) == {"u1"}


def test_audiences_entered_in_one_pass_all_show_on_the_profile(alice: User, world: World) -> None:
    recent = timezone.now() - dt.timedelta(minutes=1)
    world.identify("u1", at=recent)
    world.identify("u2", at=recent)
    weekly = create(alice, world, "Weekly buyers", did("Order Completed", window=within(7)))
    daily = create(alice, world, "Daily buyers", did("Order Completed", window=within(1)))

    def both_buy() -> None:
        world.track("u1", "Order Completed", at=recent)
        world.track("u2", "Order Completed", at=recent)

    fed(world, both_buy)

    assert members(world, weekly) == members(world, daily) == {"u1", "u2"}
    traits = Profile.objects.get(pk=world.pid("u1")).traits
    assert (traits["weekly_buyers"], traits["daily_buyers"]) == (True, True)
    history = ComputationChange.objects.filter(computation__in=[weekly, daily], run=None)
    assert sorted(history.values_list("old", "new")) == [(False, True)] * 4
    weekly.refresh_from_db()
    assert weekly.size == 2
