"""Audience definitions compiled to SQL (engage.compute.sql.audience_members) and
run on PostgreSQL over profiles the real resolver built: each operator, window
edge, funnel, merge, eligibility and account quantifier with the exact members."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from connections.models import Source
from engage.compute.sql import audience_members
from engage.models import Profile, Space
from tests.engage.compute_support import NOW, World, ago, did, prop, trait, within
from tests.engage.identity_support import make_space
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice: User, make_workspace: Callable[..., Workspace]) -> World:
    return World(make_space(make_workspace(alice, "acme")))


# -- event counts and windows ---------------------------------------------------------------


def test_counts_at_least_exactly_at_most_and_zero_times(world: World) -> None:
    for user, times in (("u0", 0), ("u1", 1), ("u2", 2), ("u3", 3)):
        world.identify(user)
        for _ in range(times):
            world.track(user, "Order Completed", at=ago(days=1))
    world.track("u3", "Other", at=ago(days=1))

    assert world.members(did("Order Completed", times=2)) == {"u2", "u3"}
    assert world.members(did("Order Completed", cmp="eq", times=2)) == {"u2"}
    assert world.members(did("Order Completed", cmp="lte", times=1)) == {"u0", "u1"}
    assert world.members(did("Order Completed", cmp="eq", times=0)) == {"u0"}
    assert world.members({"op": "not", "arg": did("Order Completed")}) == {"u0"}


def test_within_days_and_hours_is_hour_precise_at_both_edges(world: World) -> None:
    world.track("edge", "Login", at=ago(hours=48))
    world.track("past", "Login", at=ago(hours=48, seconds=1))
    world.track("recent", "Login", at=ago(hours=3))
    world.track("future", "Login", at=NOW + dt.timedelta(seconds=1))

    assert world.members(did("Login", window=within(2))) == {"edge", "recent"}
    assert world.members(did("Login", window=within(3, "hours"))) == {"recent"}
    assert world.members(did("Login", window=within(2, "hours"))) == set()


def test_between_keeps_from_end_ago_to_start_ago(world: World) -> None:
    world.track("far_edge", "Visit", at=ago(days=90))
    world.track("too_far", "Visit", at=ago(days=90, seconds=1))
    world.track("near_edge", "Visit", at=ago(days=30))
    world.track("too_near", "Visit", at=ago(days=30) + dt.timedelta(seconds=1))
    window = {
        "type": "between",
        "start": {"value": 30, "unit": "days"},
        "end": {"value": 90, "unit": "days"},
    }

    assert world.members(did("Visit", window=window)) == {"far_edge", "near_edge"}


def test_active_30_to_90_days_ago_but_not_in_the_last_30(world: World) -> None:
    world.track("lapsed", "Page Viewed", at=ago(days=45))
    world.track("active", "Page Viewed", at=ago(days=45))
    world.track("active", "Page Viewed", at=ago(days=2))
    window = {
        "type": "between",
        "start": {"value": 30, "unit": "days"},
        "end": {"value": 90, "unit": "days"},
    }
    root = {
        "op": "and",
        "args": [
            did("Page Viewed", window=window),
            {"op": "not", "arg": did("Page Viewed", window=within(30))},
        ],
    }

    assert world.members(root) == {"lapsed"}


def test_no_window_reaches_back_three_years(world: World) -> None:
    world.track("old", "Signed Up", at=ago(days=2 * 365))
    world.track("ancient", "Signed Up", at=ago(days=4 * 365))

    assert world.members(did("Signed Up")) == {"old"}


def test_excluded_sources_do_not_count(world: World) -> None:
    web, server = (
        Source.objects.create(workspace_id=world.space.workspace_id, slug=slug, display_name=slug)
        for slug in ("web", "server")
    )
    world.track("web", "Login", source_id=web.pk)
    world.track("server", "Login", source_id=server.pk)
    world.track("both", "Login", source_id=web.pk)
    world.track("both", "Login", source_id=server.pk)

    assert world.members(did("Login", exclude_sources=["server"])) == {"web", "both"}
    assert world.members(did("Login", exclude_sources=[server.pk])) == {"web", "both"}
    assert world.members(did("Login", exclude_sources=["web", server.pk])) == set()
    assert world.members(did("Login", exclude_sources=["elsewhere"])) == {"web", "server", "both"}


@pytest.mark.parametrize(
    "condition",
    [
        did("Login", window=within(2)),
        did("Login", window=within(2), cmp="eq", times=0),
        did("Login", cmp="lte", times=0),
        {"op": "not", "arg": did("Login", where=prop("plan", "eq", "pro"))},
        {"op": "and", "args": [did("Login"), {"op": "not", "arg": did("Buy")}]},
    ],
)
def test_joined_and_grouped_forms_agree(world: World, condition: dict[str, Any]) -> None:
    """At the root an event condition compiles to (NOT) EXISTS; under ``or`` to the
    grouped CTE. Both give the same members."""
    world.identify("none")
    world.track("recent", "Login", at=ago(days=1), plan="pro")
    world.track("old", "Login", at=ago(days=3), plan="free")
    world.track("buyer", "Login", at=ago(days=1))
    world.track("buyer", "Buy", at=ago(days=1))

    joined = world.members(condition)
    assert joined == world.members({"op": "or", "args": [condition]})
    assert joined  # each form selects someone


def test_page_and_screen_calls_are_page_viewed_and_screen_viewed(world: World) -> None:
    world.send("page", userId="home", name="Home", properties={"url": "https://x.test/"})
    world.send("page", userId="pricing", name="Pricing", properties={})
    world.send("screen", userId="app", name="Home", properties={})
    world.track("tracked", "Page Viewed", page_name="Home")

    assert world.members(did("Page Viewed")) == {"home", "pricing", "tracked"}
    home = prop("page_name", "eq", "Home")
    assert world.members(did("Page Viewed", where=home)) == {"home", "tracked"}
    screen = prop("screen_name", "eq", "Home")
    assert world.members(did("Screen Viewed", where=screen)) == {"app"}
    url = prop("url", "starts_with", "https://x.test")
    assert world.members(did("Page Viewed", where=url)) == {"home"}


# -- property conditions ---------------------------------------------------------------------

PRODUCTS = {
    "cheap": {"price": 5, "name": "socks", "tags": ["a", "b"], "when": "2026-05-01T00:00:00Z"},
    "dear": {"price": 150.5, "name": "Coat", "when": "2026-05-31T00:00:00Z"},
    "text": {"price": "99", "name": "50%_off hat", "when": "not a date"},
    "bad_date": {"price": None, "name": "s_cks", "when": "2026-02-30T00:00:00Z"},
    "bare": {},
}

CASES: list[tuple[str, Any, set[str]]] = [
    ("eq", 5, {"cheap"}),
    ("eq", "150.5", {"dear"}),
    ("eq", 99, {"text"}),
    ("neq", 5, {"dear", "text"}),
    ("gt", 50, {"dear", "text"}),
    ("gte", 99, {"dear", "text"}),
    ("lt", 99, {"cheap"}),
    ("lte", 99, {"cheap", "text"}),
    ("exists", None, {"cheap", "dear", "text"}),
    ("not_exists", None, {"bad_date", "bare"}),
    ("in", [5, "99", 7], {"cheap", "text"}),
]

NAME_CASES: list[tuple[str, Any, set[str]]] = [
    ("contains", "o", {"cheap", "dear", "text"}),
    ("contains", "%", {"text"}),
    ("contains", "_", {"text", "bad_date"}),
    ("not_contains", "_", {"cheap", "dear"}),
    ("starts_with", "50%", {"text"}),
    ("starts_with", "s_", {"bad_date"}),
    ("ends_with", "cks", {"cheap", "bad_date"}),
    ("contains_any", ["Co", "%_"], {"dear", "text"}),
    ("in", ["socks", "Coat"], {"cheap", "dear"}),
    ("neq", "socks", {"dear", "text", "bad_date"}),
]

DATE_CASES: list[tuple[str, Any, set[str]]] = [
    ("before_date", "2026-05-15", {"cheap"}),
    ("after_date", "2026-05-15T00:00:00Z", {"dear"}),
    ("within_last", 7, {"dear"}),
    ("within_last", {"value": 32, "unit": "days"}, {"cheap", "dear"}),
    ("within_last", {"value": 31 * 24 + 12, "unit": "hours"}, {"cheap", "dear"}),
    ("within_last", {"value": 31 * 24 + 11, "unit": "hours"}, {"dear"}),
    ("before_last", {"value": 2, "unit": "days"}, {"cheap"}),
    ("within_next", 3, set()),
    ("after_next", 1, set()),
]


@pytest.fixture
def shop(world: World) -> World:
    for user, properties in PRODUCTS.items():
        world.track(user, "Product Viewed", at=ago(days=1), **properties)
    return world


@pytest.mark.parametrize(("cmp", "value", "expected"), CASES)
def test_property_comparisons_on_price(
    shop: World, cmp: str, value: Any, expected: set[str]
) -> None:
    assert shop.members(did("Product Viewed", where=prop("price", cmp, value))) == expected


@pytest.mark.parametrize(("cmp", "value", "expected"), NAME_CASES)
def test_text_comparisons_treat_like_wildcards_literally(
    shop: World, cmp: str, value: Any, expected: set[str]
) -> None:
    assert shop.members(did("Product Viewed", where=prop("name", cmp, value))) == expected


@pytest.mark.parametrize(("cmp", "value", "expected"), DATE_CASES)
def test_time_comparisons_skip_values_that_are_not_iso_dates(
    shop: World, cmp: str, value: Any, expected: set[str]
) -> None:
    assert shop.members(did("Product Viewed", where=prop("when", cmp, value))) == expected


def test_arrays_compare_as_their_flattened_text(shop: World) -> None:
    where = prop("tags", "contains", '"b"')
    assert shop.members(did("Product Viewed", where=where)) == {"cheap"}


def test_nested_property_and_context_conditions(world: World) -> None:
    world.track("fr", "Login", context={"locale": "fr-FR", "page": {"url": "https://a.test/x"}})
    world.track("us", "Login", context={"locale": "en-US"}, plan={"tier": "gold"})

    locale = prop("locale", "starts_with", "fr", kind="context")
    assert world.members(did("Login", where=locale)) == {"fr"}
    url = prop("page.url", "contains", "a.test", kind="context")
    assert world.members(did("Login", where=url)) == {"fr"}
    tier = prop("plan.tier", "eq", "gold")
    assert world.members(did("Login", where=tier)) == {"us"}


def test_property_trees_and_or_not(shop: World) -> None:
    where = {
        "op": "or",
        "args": [
            {"op": "and", "args": [prop("price", "lt", 10), prop("name", "eq", "socks")]},
            {"op": "not", "arg": prop("price", "exists")},
        ],
    }
    assert shop.members(did("Product Viewed", where=where)) == {"cheap", "bad_date", "bare"}


def test_a_property_compared_with_a_trait(world: World) -> None:
    world.identify("big", avg_spend=100)
    world.identify("small", avg_spend="20")
    world.identify("none")
    for user in ("big", "small", "none"):
        world.track(user, "Order Completed", price=50)

    where = prop("price", "gte", {"ref": "trait", "name": "avg_spend"})
    assert world.members(did("Order Completed", where=where)) == {"small"}
    where = prop("price", "neq", {"ref": "trait", "name": "avg_spend"})
    assert world.members(did("Order Completed", where=where)) == {"big", "small"}


# -- funnels -----------------------------------------------------------------------------------


def _added_then(cmp: str, times: int = 1, where: dict[str, Any] | None = None) -> dict[str, Any]:
    child = did("Order Completed", window=within(1, relative_to="parent"), cmp=cmp, times=times)
    if where:
        child["where"] = where
    return did("Product Added", window=within(7), where=child)


def test_funnel_and_then_did_within_the_parents_window(world: World) -> None:
    world.track("bought", "Product Added", at=ago(days=3))
    world.track("bought", "Order Completed", at=ago(days=2))  # exactly 24 h later
    world.track("late", "Product Added", at=ago(days=3))
    world.track("late", "Order Completed", at=ago(days=2, seconds=-1))
    world.track("before", "Order Completed", at=ago(days=3, seconds=1))
    world.track("before", "Product Added", at=ago(days=3))
    world.track("same_time", "Product Added", at=ago(days=3))
    world.track("same_time", "Order Completed", at=ago(days=3))

    assert world.members(_added_then("gte")) == {"bought"}
    assert world.members(_added_then("eq", 0)) == {"late", "before", "same_time"}


def test_abandoned_cart_counts_any_parent_without_a_follow_up(world: World) -> None:
    world.track("again", "Product Added", at=ago(days=5))
    world.track("again", "Order Completed", at=ago(days=5, hours=-1))
    world.track("again", "Product Added", at=ago(days=4))
    world.track("done", "Product Added", at=ago(days=5))
    world.track("done", "Order Completed", at=ago(days=5, hours=-1))
    world.track("old", "Product Added", at=ago(days=8))

    assert world.members(_added_then("eq", 0)) == {"again"}


def test_funnel_child_property_bound_to_the_parent_instance(world: World) -> None:
    world.track("same", "Product Added", at=ago(days=2), sku="A")
    world.track("same", "Order Completed", at=ago(days=2, hours=-1), sku="A")
    world.track("other", "Product Added", at=ago(days=2), sku="A")
    world.track("other", "Order Completed", at=ago(days=2, hours=-1), sku="B")

    where = prop("sku", "eq", {"ref": "parent_property", "path": "sku"})
    assert world.members(_added_then("gte", where=where)) == {"same"}
    assert world.members(_added_then("eq", 0, where=where)) == {"other"}


def test_three_step_funnel_nests_children(world: World) -> None:
    world.track("all", "Viewed", at=ago(days=3))
    world.track("all", "Added", at=ago(days=3, hours=-1))
    world.track("all", "Paid", at=ago(days=3, hours=-2))
    world.track("paid_first", "Viewed", at=ago(days=3))
    world.track("paid_first", "Paid", at=ago(days=3, hours=-1))
    world.track("paid_first", "Added", at=ago(days=3, hours=-2))
    paid = did("Paid", window=within(1, relative_to="parent"))
    added = did("Added", window=within(1, relative_to="parent"), where=paid)

    assert world.members(did("Viewed", window=within(7), where=added)) == {"all"}


# -- traits and audiences ------------------------------------------------------------------


def test_trait_conditions_missing_values_satisfy_only_not_exists(world: World) -> None:
    world.identify("pro", plan="pro", seats=10, renew="2026-06-03T00:00:00Z")
    world.identify("free", plan="free", seats="2", renew="2026-05-01")
    world.identify("blank")

    assert world.members(trait("plan", "neq", "pro")) == {"free"}
    assert world.members({"op": "not", "arg": trait("plan", "eq", "pro")}) == {"free", "blank"}
    assert world.members(trait("plan", "not_exists")) == {"blank"}
    assert world.members(trait("seats", "gt", 3)) == {"pro"}
    assert world.members(trait("seats", "lte", 3)) == {"free"}
    assert world.members(trait("plan", "in", ["pro", "team"])) == {"pro"}
    assert world.members(trait("plan", "contains_any", ["re", "ro"])) == {"pro", "free"}
    assert world.members(trait("renew", "within_next", 7)) == {"pro"}
    assert world.members(trait("renew", "before_last", 30)) == {"free"}


def test_a_trait_compared_with_another_trait(world: World) -> None:
    world.identify("over", spend=120, budget=100)
    world.identify("under", spend="80", budget=100)
    world.identify("unknown", spend=80)

    over = trait("spend", "gt", {"ref": "trait", "name": "budget"})
    assert world.members(over) == {"over"}
    assert world.members({**over, "cmp": "lte"}) == {"under"}


def test_audience_membership_reads_the_boolean_trait(world: World) -> None:
    world.identify("in", big_spender=True)
    world.identify("out", big_spender=False)
    world.identify("never")

    member = {"kind": "audience", "audience_key": "big_spender", "member": True}
    assert world.members(member) == {"in"}
    assert world.members({**member, "member": False}) == {"out", "never"}


def test_nested_trees_of_events_traits_and_audiences(world: World) -> None:
    world.identify("a", plan="pro", vip=True)
    world.identify("b", plan="pro")
    world.identify("c", plan="free", vip=True)
    world.track("b", "Login", at=ago(days=1))
    world.track("c", "Login", at=ago(days=1))
    root = {
        "op": "and",
        "args": [
            {
                "op": "or",
                "args": [
                    {"kind": "audience", "audience_key": "vip", "member": True},
                    did("Login", window=within(7)),
                ],
            },
            {"op": "not", "arg": trait("plan", "eq", "free")},
        ],
    }

    assert world.members(root) == {"a", "b"}


# -- profiles: merges, eligibility, restriction ---------------------------------------------


def test_merged_profiles_count_for_the_survivor_only(world: World) -> None:
    world.track("anon-1", "Viewed", anonymous=True, at=ago(days=1))
    world.track("anon-1", "Viewed", anonymous=True, at=ago(days=1))
    world.track("known", "Viewed", at=ago(days=1))
    world.send("identify", userId="known", anonymousId="anon-1")

    assert world.members(did("Viewed", times=3), include_anonymous=True) == {"known"}
    assert world.members(did("Viewed", cmp="eq", times=0), include_anonymous=True) == set()


def test_anonymous_only_profiles_need_include_anonymous(world: World) -> None:
    world.track("anon-2", "Viewed", anonymous=True)
    world.track("known", "Viewed")
    world.send("identify", anonymousId="anon-3", traits={"email": "x@example.com"})

    assert world.members(did("Viewed")) == {"known"}
    assert world.members(did("Viewed"), include_anonymous=True) == {"known", "anon-2"}
    assert world.members(trait("email", "exists")) == {"anon-3"}


def test_profile_ids_restrict_the_evaluation(world: World) -> None:
    for user in ("a", "b", "c"):
        world.track(user, "Login")

    only = [world.pid("a"), world.pid("c")]
    assert world.members(did("Login"), profile_ids=only) == {"a", "c"}
    assert world.members(did("Login", cmp="eq", times=0), profile_ids=only) == set()
    assert world.members(did("Login"), profile_ids=[]) == set()


# -- accounts ------------------------------------------------------------------------------


@pytest.fixture
def accounts(world: World) -> World:
    world.group("a1", "acme", industry="Software")
    world.group("a2", "acme")
    world.group("b1", "beta", industry="Retail")
    world.group("b2", "beta")
    world.send("group", userId="x", groupId="empty", traits={"industry": "Software"})
    # x leaves no users linked to "empty": move x's link away.
    from engage.models import ProfileLink

    ProfileLink.objects.filter(account_id=world.pid("empty", "group_id")).delete()
    world.track("a1", "Logged In", at=ago(days=1))
    world.track("a2", "Logged In", at=ago(days=2))
    world.track("b1", "Logged In", at=ago(days=40))
    world.track("b2", "Logged In", at=ago(days=3))
    world.identify("a2", role="Admin", software=True)
    return world


def _login(days: int = 30) -> dict[str, Any]:
    return did("Logged In", window=within(days))


def test_account_quantifiers_any_all_none(accounts: World) -> None:
    def members(root: dict[str, Any]) -> set[str]:
        return accounts.members(root, type_="accounts")

    assert members({"op": "any", "arg": _login()}) == {"acme", "beta"}
    assert members({"op": "all", "arg": _login()}) == {"acme", "empty"}
    assert members({"op": "none", "arg": _login()}) == {"empty"}
    assert members({"op": "none", "arg": _login(2)}) == {"beta", "empty"}
    admin = {"op": "any", "arg": trait("role", "eq", "Admin")}
    assert members(admin) == {"acme"}
    assert members({"op": "all", "arg": {"op": "not", "arg": _login()}}) == {"empty"}


def test_account_traits_and_events_of_all_linked_users(accounts: World) -> None:
    software = trait("industry", "eq", "Software")
    assert accounts.members(software, type_="accounts") == {"acme", "empty"}
    twice = did("Logged In", window=within(30), times=2)
    assert accounts.members(twice, type_="accounts") == {"acme"}
    root = {"op": "and", "args": [software, {"op": "any", "arg": _login()}]}
    assert accounts.members(root, type_="accounts") == {"acme"}


def test_account_funnels_follow_each_users_own_events(accounts: World) -> None:
    # a1 added, a2 then completed: no user of acme completed after their own add.
    accounts.track("a1", "Product Added", at=ago(days=2))
    accounts.track("a2", "Order Completed", at=ago(days=2, hours=-1))
    accounts.track("b1", "Product Added", at=ago(days=2))
    accounts.track("b1", "Order Completed", at=ago(days=2, hours=-1))
    child = did("Order Completed", window=within(1, relative_to="parent"))
    funnel = did("Product Added", window=within(7), where=child)

    assert accounts.members({"op": "any", "arg": funnel}, type_="accounts") == {"beta"}
    assert accounts.members(funnel, type_="accounts") == {"beta"}


def test_account_audience_restricted_to_some_accounts(accounts: World) -> None:
    only = [accounts.pid("beta", "group_id")]
    root = {"op": "any", "arg": _login()}
    assert accounts.members(root, type_="accounts", profile_ids=only) == {"beta"}
    root = {"op": "all", "arg": _login()}
    assert accounts.members(root, type_="accounts", profile_ids=only) == set()


def test_user_audience_of_an_account_audience_membership(accounts: World) -> None:
    root = {
        "op": "and",
        "args": [
            trait("role", "eq", "Admin"),
            {"kind": "audience", "audience_key": "software", "member": True},
        ],
    }
    assert accounts.members(root) == {"a2"}


# -- the SQL itself ---------------------------------------------------------------------------


def test_values_are_parameters_never_sql_text(world: World) -> None:
    evil = "x'); DROP TABLE engage_profile; --"
    root = {
        "op": "and",
        "args": [
            did(evil, where=prop(evil, "contains", evil)),
            trait(evil, "eq", evil),
        ],
    }
    definition = {"version": 1, "type": "users", "root": root}
    sql, params = audience_members(world.space.pk, definition, NOW)

    assert evil not in sql
    assert evil in params.values()
    assert world.members(root) == set()


def test_explain_on_a_few_thousand_profiles(world: World) -> None:
    """Profiles and events written in bulk (what the resolver would leave), then
    the plan of a 3-condition audience printed and the query run."""
    space: Space = world.space
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO engage_profile (space_id, segment_id, collection, traits, trait_times, "
            "merges, mappings, create_time, update_time, first_message_id, last_message_id) "
            "SELECT %s, 'use_bench_' || g, 'users', jsonb_build_object('plan', "
            "CASE WHEN g %% 3 = 0 THEN 'pro' ELSE 'free' END, 'vip', g %% 5 = 0), '{}', 0, 0, "
            "now(), now(), '', '' FROM generate_series(1, 4000) g",
            [space.pk],
        )
        cursor.execute(
            "INSERT INTO engage_profileidentifier (space_id, collection, type, value, "
            "profile_id, first_message_id, first_seen, last_seen) "
            "SELECT space_id, 'users', 'user_id', segment_id, id, '', now(), now() "
            "FROM engage_profile WHERE space_id = %s",
            [space.pk],
        )
        cursor.execute(
            "INSERT INTO engage_profileevent (space_id, profile_id, source_id, message_id, "
            "event_id, received_at, type, event_name, timestamp) "
            "SELECT p.space_id, p.id, 1, p.id || '-' || k, 0, %s, 'track', "
            "CASE WHEN k %% 2 = 0 THEN 'Login' ELSE 'Order Completed' END, "
            "%s - make_interval(hours => ((p.id + k * 7) %% 2000)::int) "
            "FROM engage_profile p, generate_series(1, 8) k WHERE p.space_id = %s",
            [NOW, NOW, space.pk],
        )
        cursor.execute("ANALYZE engage_profile, engage_profileidentifier, engage_profileevent")
    root = {
        "op": "and",
        "args": [
            did("Login", window=within(30), times=2),
            trait("plan", "eq", "pro"),
            {"kind": "audience", "audience_key": "vip", "member": True},
        ],
    }
    definition = {"version": 1, "type": "users", "root": root}
    sql, params = audience_members(space.pk, definition, NOW)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(sql, params)
        found = len(cursor.fetchall())
    print(plan)
    # One pass over the events grouped by profile, joined to the profiles: no
    # per-profile subquery re-reading the event table.
    assert "SubPlan" not in plan
    assert plan.count("on engage_profileevent") == 1
    assert 0 < found < 4000
    # Re-evaluating touched profiles reads only their events, by the timeline index.
    first = list(Profile.objects.filter(space=space).values_list("pk", flat=True)[:2])
    sql, params = audience_members(space.pk, definition, NOW, profile_ids=first)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(plan)
    assert "profile_event_timeline" in plan
    assert "Seq Scan on engage_profileevent" not in plan
