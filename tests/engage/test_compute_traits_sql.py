"""Computed-trait definitions compiled to SQL (engage.compute.sql.trait_values)
and run on PostgreSQL: each kind's value per profile, windows, property
filters, most-frequent ties and threshold, account level over linked users."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from tests.engage.compute_support import NOW, World, ago, prop, within
from tests.engage.identity_support import make_space
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice: User, make_workspace: Callable[..., Workspace]) -> World:
    world = World(make_space(make_workspace(alice, "acme")))
    world.identify("idle")
    # u1: categories shoes x2, hats x2, bags x1; u2: one of each; u3: string numbers.
    for days, category, price in (
        (10, "shoes", 30),
        (8, "hats", 10),
        (6, "bags", 55.5),
        (4, "shoes", 20),
        (2, "hats", 5),
    ):
        world.track("u1", "Product Viewed", at=ago(days=days), category=category, price=price)
    for days, category in ((3, "hats"), (2, "shoes")):
        world.track("u2", "Product Viewed", at=ago(days=days), category=category)
    world.track("u3", "Product Viewed", at=ago(days=1), category=7, price="12")
    world.track("u3", "Product Viewed", at=ago(days=1, hours=1), category="7", price="n/a")
    world.track("u3", "Other", at=ago(days=1), category="x", price=1000)
    return world


def test_event_counter_gives_every_profile_a_count(world: World) -> None:
    assert world.values(kind="event_counter", event="Product Viewed") == {
        "idle": 0,
        "u1": 5,
        "u2": 2,
        "u3": 2,
    }


def test_event_counter_within_a_window_and_with_a_filter(world: World) -> None:
    counted = world.values(
        kind="event_counter",
        event="Product Viewed",
        window=within(4),
        where=prop("category", "in", ["shoes", "hats"]),
    )
    assert counted == {"idle": 0, "u1": 2, "u2": 2, "u3": 0}
    counted = world.values(kind="event_counter", event="Product Viewed", window=within(25, "hours"))
    assert counted == {"idle": 0, "u1": 0, "u2": 0, "u3": 2}


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        ("sum", {"u1": 120.5, "u3": 12}),
        ("avg", {"u1": 24.1, "u3": 12}),
        ("min", {"u1": 5, "u3": 12}),
        ("max", {"u1": 55.5, "u3": 12}),
    ],
)
def test_aggregations_over_numeric_values(
    world: World, aggregation: str, expected: dict[str, float]
) -> None:
    values = world.values(
        kind="aggregation", event="Product Viewed", property="price", aggregation=aggregation
    )
    assert values == expected


def test_most_frequent_needs_two_occurrences_and_ties_go_alphabetical(world: World) -> None:
    values = world.values(kind="most_frequent", event="Product Viewed", property="category")
    # u1: hats and shoes twice each -> hats; u2 never twice; u3: 7 and "7" are one string.
    assert values == {"u1": "hats", "u3": "7"}
    values = world.values(
        kind="most_frequent", event="Product Viewed", property="category", min_frequency=1
    )
    assert values == {"u1": "hats", "u2": "hats", "u3": "7"}
    values = world.values(
        kind="most_frequent",
        event="Product Viewed",
        property="category",
        window=within(5),
        min_frequency=1,
    )
    assert values == {"u1": "hats", "u2": "hats", "u3": "7"}


def test_first_and_last_by_event_time(world: World) -> None:
    first = world.values(kind="first", event="Product Viewed", property="category")
    last = world.values(kind="last", event="Product Viewed", property="category")
    assert first == {"u1": "shoes", "u2": "hats", "u3": "7"}
    assert last == {"u1": "hats", "u2": "shoes", "u3": 7}


def test_unique_list_is_alphabetical_and_its_count(world: World) -> None:
    values = world.values(kind="unique_list", event="Product Viewed", property="category")
    assert values == {"u1": ["bags", "hats", "shoes"], "u2": ["hats", "shoes"], "u3": ["7"]}
    counts = world.values(kind="unique_list_count", event="Product Viewed", property="category")
    assert counts == {"idle": 0, "u1": 3, "u2": 2, "u3": 1}


def test_profile_ids_restrict_trait_values(world: World) -> None:
    only = [world.pid("u2"), world.pid("idle")]
    values = world.values(kind="event_counter", event="Product Viewed", profile_ids=only)
    assert values == {"idle": 0, "u2": 2}


def test_merged_profiles_contribute_to_the_survivor(world: World) -> None:
    world.track("anon-9", "Product Viewed", anonymous=True, category="socks")
    world.send("identify", userId="u2", anonymousId="anon-9")

    values = world.values(kind="unique_list", event="Product Viewed", property="category")
    assert values["u2"] == ["hats", "shoes", "socks"]
    assert "anon-9" not in world.values(kind="event_counter", event="Product Viewed")


def test_account_level_traits_run_over_every_linked_users_events(world: World) -> None:
    world.group("u1", "acme")
    world.group("u2", "acme")
    world.group("u3", "beta")
    world.send("group", userId="idle", groupId="empty")
    world.send("group", userId="u2", groupId="solo")

    counted = world.values(kind="event_counter", event="Product Viewed", type="accounts")
    assert counted == {"acme": 7, "beta": 2, "empty": 0, "solo": 2}
    listed = world.values(
        kind="unique_list", event="Product Viewed", property="category", type="accounts"
    )
    assert listed == {"acme": ["bags", "hats", "shoes"], "beta": ["7"], "solo": ["hats", "shoes"]}
    most = world.values(
        kind="most_frequent", event="Product Viewed", property="category", type="accounts"
    )
    assert most == {"acme": "hats", "beta": "7"}
    only = [world.pid("beta", "group_id")]
    counted = world.values(
        kind="event_counter", event="Product Viewed", type="accounts", profile_ids=only
    )
    assert counted == {"beta": 2}


def test_window_edge_is_hour_precise(world: World) -> None:
    now = NOW + dt.timedelta(hours=1)
    # u3's events: 24 h and 25 h before NOW, so 25 h and 26 h before ``now``.
    counted = world.values(
        now=now, kind="event_counter", event="Product Viewed", window=within(25, "hours")
    )
    assert counted["u3"] == 1
