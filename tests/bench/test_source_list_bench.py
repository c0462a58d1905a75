"""Benchmark: the first page of the sources List for a label-restricted member vs an owner.

The bar (access issue): with 10,000 sources, 500 members, 50 groups and 2,000
grants, listing the first page of sources for a label-restricted member costs at
most 1.5x the same list for an owner, with a constant number of queries.

Timings are printed, never asserted (they depend on the machine); query counts
are asserted: the member's equal the owner's, and neither grows with the data.
Run with ``make bench`` (``python -m pytest tests/bench -s``).
"""

from __future__ import annotations

import gc
import os
import random
import re
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import Settings
from rest_framework.test import APIClient

from connections.models import Source, SourceGrant, SourceLabel
from switchyard import access
from switchyard.access import Principal
from workspace.models import GroupMembership, Label, Membership, RoleGrant, UserGroup, Workspace
from workspace.services.workspaces import do_create_workspace

pytestmark = pytest.mark.django_db(transaction=False)

PAGE_SIZES = (10, 50, 100)
WARMUP = 5
REPETITIONS = 40
BAR = 1.5

REGIONS = ("emea", "apac", "amer")
BRANDS = tuple("abcdefghij")
# The member under test: source-admin on environment:prod AND region:emea directly,
# and, through two groups, brand:a OR brand:b.
DIRECT_SELECTOR = ("environment:prod", "region:emea")
GROUP_SELECTORS = (("source-admin", "brand:a"), ("source-read-only", "brand:b"))


@dataclass
class Dataset:
    workspace: Workspace
    owner: User
    member: User
    sources: int
    members: int
    groups: int
    grants: int
    # Slugs the member may see, in List order (create_time, pk).
    visible: list[str]

    @property
    def description(self) -> str:
        return (
            f"{self.sources:,} sources / {self.members:,} members / "
            f"{self.groups:,} groups / {self.grants:,} grants"
        )


def _users(prefix: str, count: int) -> list[User]:
    # No password hashing: an unusable password is fine for force_login.
    return User.objects.bulk_create(
        [User(username=f"{prefix}-{i:04d}", password="!") for i in range(count)]
    )


def build(slug: str, *, sources: int, members: int, groups: int, grants: int) -> Dataset:
    """One workspace with an owner and the given numbers of rows, in bulk."""
    rng = random.Random(f"switchyard-bench-{slug}")
    (owner,) = _users(f"{slug}-owner", 1)
    workspace = do_create_workspace(principal=Principal(owner), slug=slug, display_name=slug)

    # Labels: environment:{dev,prod} come with the workspace.
    Label.objects.bulk_create(
        [Label(workspace=workspace, key="region", value=v) for v in REGIONS]
        + [Label(workspace=workspace, key="brand", value=v) for v in BRANDS]
    )
    labels = {str(label): label for label in Label.objects.filter(workspace=workspace)}
    by_key: dict[str, list[Label]] = {}
    for label in labels.values():
        by_key.setdefault(label.key, []).append(label)

    # Sources, each with an environment, a region and a brand.
    rows = Source.objects.bulk_create(
        [
            Source(workspace=workspace, slug=f"src-{i:05d}", display_name=f"Source {i}")
            for i in range(sources)
        ],
        batch_size=2000,
    )
    carried: dict[int, set[str]] = {}
    source_labels = []
    for source in rows:
        chosen = [rng.choice(by_key[key]) for key in ("environment", "region", "brand")]
        carried[source.pk] = {str(label) for label in chosen}
        source_labels += [SourceLabel(source=source, label=lb, key=lb.key) for lb in chosen]
    SourceLabel.objects.bulk_create(source_labels, batch_size=5000)

    # Members; the first is the member under test.
    people = _users(f"{slug}-member", members)
    Membership.objects.bulk_create(
        [Membership(workspace=workspace, user=u, role=Membership.Role.MEMBER) for u in people]
    )
    member, others = people[0], people[1:]

    # Groups of about ten members; the member under test is in the first two.
    teams = UserGroup.objects.bulk_create(
        [UserGroup(workspace=workspace, name=f"Group {g}") for g in range(groups)]
    )
    in_groups = [GroupMembership(group=teams[0], user=member)]
    in_groups += [GroupMembership(group=teams[1], user=member)]
    for team in teams:
        in_groups += [GroupMembership(group=team, user=u) for u in rng.sample(others, 10)]
    GroupMembership.objects.bulk_create(in_groups)

    # Grants: the member's three, then the rest spread over other members and groups.
    planned: list[tuple[RoleGrant, list[Label], list[Source]]] = []

    def add(grant: RoleGrant, with_labels: list[Label], with_sources: list[Source]) -> None:
        grant.label_count = len(with_labels)
        planned.append((grant, with_labels, with_sources))

    add(
        RoleGrant(workspace=workspace, user=member, role="source-admin", scope="labels"),
        [labels[t] for t in DIRECT_SELECTOR],
        [],
    )
    for team, (role, text) in zip(teams, GROUP_SELECTORS, strict=False):
        add(
            RoleGrant(workspace=workspace, group=team, role=role, scope="labels"),
            [labels[text]],
            [],
        )
    while len(planned) < grants:
        if rng.random() < 0.6:
            grantee = {"user": rng.choice(others)}
        else:
            grantee = {"group": rng.choice(teams[len(GROUP_SELECTORS) :])}
        draw = rng.random()
        role = rng.choice(("source-admin", "source-read-only"))
        if draw < 0.80:
            keys = rng.sample(("environment", "region", "brand"), rng.choice((1, 2)))
            selector = [rng.choice(by_key[key]) for key in keys]
            add(RoleGrant(workspace=workspace, role=role, scope="labels", **grantee), selector, [])
        elif draw < 0.95:
            listed = rng.sample(rows, 3)
            add(RoleGrant(workspace=workspace, role=role, scope="specific", **grantee), [], listed)
        else:
            role = "source-read-only"
            add(RoleGrant(workspace=workspace, role=role, scope="all", **grantee), [], [])
    made = RoleGrant.objects.bulk_create([grant for grant, _, _ in planned], batch_size=2000)
    assert all(grant.pk for grant in made)
    RoleGrant.labels.through.objects.bulk_create(
        [
            RoleGrant.labels.through(rolegrant_id=grant.pk, label_id=label.pk)
            for grant, selector, _ in planned
            for label in selector
        ],
        batch_size=5000,
    )
    SourceGrant.objects.bulk_create(
        [
            SourceGrant(grant_id=grant.pk, source_id=source.pk)
            for grant, _, listed in planned
            for source in listed
        ],
        batch_size=5000,
    )

    # What the member may see: AND within a selector, OR across its grants.
    selectors = [set(DIRECT_SELECTOR)] + [{text} for _, text in GROUP_SELECTORS]
    visible = [
        s.slug
        for s in sorted(rows, key=lambda s: (s.create_time, s.pk))
        if any(selector <= carried[s.pk] for selector in selectors)
    ]
    return Dataset(workspace, owner, member, sources, members, groups, grants, visible)


def analyze() -> None:
    """Fresh planner statistics, as autovacuum would keep them in production (it cannot
    see this test's uncommitted rows; ANALYZE inside the transaction does)."""
    models = (Source, SourceLabel, RoleGrant, UserGroup, GroupMembership, Membership, Label, User)
    tables = [m._meta.db_table for m in models]
    tables += [RoleGrant.labels.through._meta.db_table, SourceGrant._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(tables))


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def url(data: Dataset, size: int) -> str:
    return f"/v1beta/workspaces/{data.workspace.slug}/sources?page_size={size}"


def get_page(client: APIClient, data: Dataset, size: int) -> list[str]:
    response = client.get(url(data, size))
    assert response.status_code == 200, response.content
    return [item["name"].rsplit("/", 1)[-1] for item in response.json()["sources"]]


def count_queries(client: APIClient, data: Dataset, size: int) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        get_page(client, data, size)
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def check_pages(data: Dataset, owner: APIClient, member: APIClient) -> None:
    """The pages are right before they are timed: the owner's starts with every source,
    the member's with exactly the sources its grants reach."""
    everything = [f"src-{i:05d}" for i in range(data.sources)]  # created in this order
    for size in PAGE_SIZES:
        assert get_page(owner, data, size) == everything[:size]
        assert get_page(member, data, size) == data.visible[:size]
    restricted = access.restrict(
        Source.objects.filter(workspace=data.workspace), Principal(data.member), "view"
    )
    assert restricted.count() == len(data.visible)


@dataclass
class Figures:
    median: float
    p90: float


def figures(samples: list[float]) -> Figures:
    return Figures(statistics.median(samples), statistics.quantiles(samples, n=10)[-1])


@pytest.fixture
def no_rate_limit(settings: Settings) -> Iterator[None]:
    # Hundreds of requests per principal in a few seconds; keep the throttle in the
    # request path (it costs both principals the same) but out of the way.
    settings.API_RATE_LIMIT_PER_MINUTE = 10**9
    yield


def list_query_plan(data: Dataset, user: User, size: int) -> str:
    """EXPLAIN ANALYZE of the List's main query (the one paginate() runs)."""
    queryset = access.restrict(
        Source.objects.filter(workspace=data.workspace).select_related("workspace"),
        Principal(user),
        "view",
    ).order_by("create_time", "pk")[: size + 1]
    return queryset.explain(analyze=True, buffers=True)


def execution_ms(data: Dataset, user: User, size: int) -> float:
    plan = list_query_plan(data, user, size)
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    assert found, plan
    return float(found.group(1))


def test_restricted_source_list_costs_at_most_one_and_a_half_times_the_owners(
    no_rate_limit: None,
) -> None:
    # Query counts on a small data set, then on the full one: they must not change.
    small = build("bench-small", sources=300, members=20, groups=5, grants=40)
    analyze()
    small_owner, small_member = client_for(small.owner), client_for(small.member)
    check_pages(small, small_owner, small_member)
    small_counts = {
        size: (
            count_queries(small_owner, small, size)[0],
            count_queries(small_member, small, size)[0],
        )
        for size in PAGE_SIZES
    }

    started = time.perf_counter()
    data = build("bench", sources=10_000, members=500, groups=50, grants=2_000)
    analyze()
    built = time.perf_counter() - started
    owner, member = client_for(data.owner), client_for(data.member)
    check_pages(data, owner, member)

    counts: dict[int, tuple[int, int]] = {}
    for size in PAGE_SIZES:
        owner_count, owner_sql = count_queries(owner, data, size)
        member_count, member_sql = count_queries(member, data, size)
        counts[size] = (owner_count, member_count)
        assert member_count == owner_count, (owner_sql, member_sql)

    # Warm up, then time, interleaving owner and member (alternating who goes first)
    # so that both share the machine's noise.
    clients = {"owner": owner, "member": member}
    samples: dict[tuple[int, str], list[float]] = {
        (size, who): [] for size in PAGE_SIZES for who in clients
    }
    for _ in range(WARMUP):
        for size in PAGE_SIZES:
            for client in clients.values():
                get_page(client, data, size)
    gc.collect()
    gc.disable()
    try:
        for rep in range(REPETITIONS):
            order = ["owner", "member"] if rep % 2 == 0 else ["member", "owner"]
            for size in PAGE_SIZES:
                for who in order:
                    begin = time.perf_counter()
                    response = clients[who].get(url(data, size))
                    samples[size, who].append((time.perf_counter() - begin) * 1000)
                    assert response.status_code == 200
    finally:
        gc.enable()

    print()
    print(
        f"built {data.description} in {built:.1f} s; "
        f"the member sees {len(data.visible):,} of them; "
        f"{REPETITIONS} timed requests each after {WARMUP} warm-up rounds"
    )
    for size in PAGE_SIZES:
        o, m = figures(samples[size, "owner"]), figures(samples[size, "member"])
        owner_count, member_count = counts[size]
        print()
        print(f"sources list, first page of {size}, {data.description}")
        print(f"owner:  median {o.median:.1f} ms  p90 {o.p90:.1f} ms  queries {owner_count}")
        print(f"member: median {m.median:.1f} ms  p90 {m.p90:.1f} ms  queries {member_count}")
        print(f"ratio member/owner: {m.median / o.median:.2f} (bar: <= {BAR})")
        owner_sql_ms = statistics.median(execution_ms(data, data.owner, size) for _ in range(5))
        member_sql_ms = statistics.median(execution_ms(data, data.member, size) for _ in range(5))
        print(
            f"EXPLAIN ANALYZE of the list query (median of 5): owner {owner_sql_ms:.2f} ms, "
            f"member {member_sql_ms:.2f} ms"
        )
        if m.median / o.median > BAR or os.environ.get("BENCH_EXPLAIN"):
            print(f"the member's list query plan (page of {size}):")
            print(list_query_plan(data, data.member, size))
        small_owner_count, small_member_count = small_counts[size]
        print(
            f"queries with {small.description}: "
            f"owner {small_owner_count}, member {small_member_count}"
        )

    # A constant number of queries: the same for both, whatever the size of the data.
    assert counts == small_counts


def build_listed(slug: str, *, sources: int, members: int, listed: int) -> Dataset:
    """Every member holds one specific grant listing ``listed`` sources: the case where
    an OR over own and group grants made PostgreSQL read every listing row."""
    rng = random.Random(f"switchyard-bench-{slug}")
    (owner,) = _users(f"{slug}-owner", 1)
    workspace = do_create_workspace(principal=Principal(owner), slug=slug, display_name=slug)
    rows = Source.objects.bulk_create(
        [
            Source(workspace=workspace, slug=f"src-{i:05d}", display_name=f"Source {i}")
            for i in range(sources)
        ],
        batch_size=2000,
    )
    people = _users(f"{slug}-member", members)
    Membership.objects.bulk_create([Membership(workspace=workspace, user=u) for u in people])
    team = UserGroup.objects.create(workspace=workspace, name="Team")
    GroupMembership.objects.create(group=team, user=people[0])
    grants = RoleGrant.objects.bulk_create(
        [
            RoleGrant(workspace=workspace, user=u, role="source-read-only", scope="specific")
            for u in people
        ],
        batch_size=2000,
    )
    chosen = {grant.pk: rng.sample(rows, listed) for grant in grants}
    SourceGrant.objects.bulk_create(
        [SourceGrant(grant_id=g, source_id=s.pk) for g, picked in chosen.items() for s in picked],
        batch_size=10_000,
    )
    mine = {s.pk for s in chosen[grants[0].pk]}
    visible = [s.slug for s in sorted(rows, key=lambda s: (s.create_time, s.pk)) if s.pk in mine]
    return Dataset(workspace, owner, people[0], sources, members, 1, len(grants), visible)


def test_many_listed_grants_stay_within_the_bar(no_rate_limit: None) -> None:
    data = build_listed("bench-listed", sources=10_000, members=1_000, listed=500)
    analyze()
    owner, member = client_for(data.owner), client_for(data.member)
    check_pages(data, owner, member)
    size = 50
    samples: dict[str, list[float]] = {"owner": [], "member": []}
    for _ in range(WARMUP):
        get_page(owner, data, size)
        get_page(member, data, size)
    for rep in range(REPETITIONS):
        for who in ("owner", "member") if rep % 2 == 0 else ("member", "owner"):
            begin = time.perf_counter()
            get_page(owner if who == "owner" else member, data, size)
            samples[who].append((time.perf_counter() - begin) * 1000)
    o, m = figures(samples["owner"]), figures(samples["member"])
    print()
    print(f"sources list, first page of {size}, {data.sources:,} sources, {data.grants:,}")
    print(f"specific grants of 500 sources each ({data.grants * 500:,} listing rows)")
    print(f"owner:  median {o.median:.1f} ms  p90 {o.p90:.1f} ms")
    print(f"member: median {m.median:.1f} ms  p90 {m.p90:.1f} ms")
    print(f"ratio member/owner: {m.median / o.median:.2f} (bar: <= {BAR})")
    owner_sql_ms = statistics.median(execution_ms(data, data.owner, size) for _ in range(5))
    member_sql_ms = statistics.median(execution_ms(data, data.member, size) for _ in range(5))
    print(f"EXPLAIN ANALYZE: owner {owner_sql_ms:.2f} ms, member {member_sql_ms:.2f} ms")
    if os.environ.get("BENCH_EXPLAIN"):
        print(list_query_plan(data, data.member, size))
