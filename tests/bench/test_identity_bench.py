"""Benchmark: identity resolution (``resolve_events`` in one process) on typical
traffic, against a baseline of inserting the same events' identifiers with plain
SQL, at two call sizes: 100 events (one ingest batch as delivered) and 1,000
(a backlog as the feed hands it over: engage.services.feed coalesces
consecutive batches of a source up to EVENTS_PER_TRANSACTION per call).

Typical traffic (issue 14): most events come from known users (tracks by
userId, a third with their anonymousId), 5% are identify calls of new users
(a profile created, with userId, anonymousId and email), 1% are identify calls
joining a known user to an anonymous-only profile (a merge). The space holds
``KNOWN`` users and enough anonymous-only profiles before the clock starts.

The baseline writes each event's identifiers (space, type, value) with
``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING`` into a table with
the same unique key, one statement and one commit per call's worth of events
(the same granularity), after the known identifiers were loaded into it.

The bar: at least 10,000 events/s. Timings are printed, never asserted; what the
resolver built is asserted (every event attached once, the profiles created and
merged). ``ROUNDS`` rounds (fresh traffic each run, since resolution is idempotent
on messageId) alternate which of resolver and baseline goes first; medians are
printed. Besides events/s, each run prints the CPU time per event in this process
and in its PostgreSQL backend (from /proc, when the server runs on this machine):
unlike wall-clock time, other work on a busy machine leaves it alone, so it is
the figure to compare changes by there.

Run: python -m pytest tests/bench/test_identity_bench.py -s
(``BENCH_EVENTS``, default 20,000 events per round; ``BENCH_KNOWN``, default 20,000;
``BENCH_STATEMENTS=1`` also prints the resolver's statements by total time, to see
what is slow; ``BENCH_PROFILE=path`` prints the resolver's functions by own time and writes
``path.<size>`` for pstats).
"""

from __future__ import annotations

import cProfile
import datetime as dt
import gc
import itertools
import os
import pstats
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from engage.models import Profile, ProfileEvent, ProfileMerge, Space
from engage.services.feed import EVENTS_PER_TRANSACTION
from engage.services.resolution import (
    ResolverEvent,
    forget_known_identifiers,
    resolve_events,
)
from engage.services.spaces import do_create_space
from switchyard.access import Principal
from workspace.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = int(os.environ.get("BENCH_EVENTS", "20000"))
KNOWN = int(os.environ.get("BENCH_KNOWN", "20000"))
ROUNDS = 3
# Events per call: one ingest batch as delivered, and a backlog as the feed hands
# it over (engage.services.feed.EVENTS_PER_TRANSACTION).
SIZES = (100, EVENTS_PER_TRANSACTION)
# (events per call, cold): a worker remembers the identifier rows it has read
# (engage.services.resolution); "cold" runs forget them first, as a worker just
# started, or one that sees each person for the first time, would.
VARIANTS = [(size, False) for size in SIZES] + [(EVENTS_PER_TRANSACTION, True)]
NEW_SHARE, MERGE_SHARE = 0.05, 0.01
TARGET = 10_000
SOURCE_ID = 1
BASELINE_TABLE = "bench_identifier"


class Traffic:
    """Messages as the Tracking API stores them, numbered so every round is new."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.now = timezone.now()
        self.serial = 0

    def _base(self, kind: str) -> dict[str, Any]:
        self.serial += 1
        return {
            "type": kind,
            "messageId": f"m-{self.serial}",
            "timestamp": (self.now + dt.timedelta(milliseconds=self.serial)).isoformat(),
            "context": {
                "library": {"name": "analytics.js", "version": "next-1.84.3"},
                "ip": "203.0.113.7",
                "locale": "en-US",
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126 Safari",
            },
            "integrations": {},
        }

    def identify(self, user: str, anonymous: str, **traits: Any) -> dict[str, Any]:
        message = self._base("identify")
        message.update(userId=user, anonymousId=anonymous, traits=traits)
        return message

    def track(self, user: str, anonymous: str | None) -> dict[str, Any]:
        message = self._base("track")
        message.update(event="Product Viewed", userId=user)
        message["properties"] = {"sku": f"sku-{self.serial % 97}", "price": 18.99}
        if anonymous is not None:
            message["anonymousId"] = anonymous
        return message

    def anonymous_track(self, anonymous: str) -> dict[str, Any]:
        message = self._base("track")
        message.update(event="Product Viewed", anonymousId=anonymous)
        return message

    def typical(self, n: int, round_: str, anonymous_only: list[str]) -> list[dict[str, Any]]:
        """``n`` events: 5% new users, 1% merges (each uses up an anonymous-only
        profile), the rest known users (a third of them with their anonymousId)."""
        out: list[dict[str, Any]] = []
        for i in range(n):
            roll = self.random.random()
            if roll < NEW_SHARE:
                tag = f"r{round_}-{i}"
                out.append(
                    self.identify(f"new-{tag}", f"anon-new-{tag}", email=f"{tag}@example.com")
                )
            elif roll < NEW_SHARE + MERGE_SHARE and anonymous_only:
                known = self.random.randrange(KNOWN)
                out.append(self.identify(f"u-{known}", anonymous_only.pop(), plan="pro"))
            else:
                known = self.random.randrange(KNOWN)
                anonymous = f"a-{known}" if self.random.random() < 1 / 3 else None
                out.append(self.track(f"u-{known}", anonymous))
        return out


def as_events(messages: list[dict[str, Any]], ids: Iterator[int]) -> list[ResolverEvent]:
    received = timezone.now()
    return [
        ResolverEvent(
            event_id=next(ids),
            received_at=received,
            source_id=SOURCE_ID,
            message_id=m["messageId"],
            type=m["type"],
            event_name=m.get("event", ""),
            payload=m,
        )
        for m in messages
    ]


def identifiers_of(message: dict[str, Any]) -> list[tuple[str, str]]:
    found = [("user_id", message["userId"])] if message.get("userId") else []
    if message.get("anonymousId"):
        found.append(("anonymous_id", message["anonymousId"]))
    email = (message.get("traits") or {}).get("email")
    if email:
        found.append(("email", email))
    return found


INSERT = f"""
INSERT INTO {BASELINE_TABLE} (space_id, type, value)
SELECT %s, t, v FROM unnest(%s::text[], %s::text[]) AS k(t, v)
ON CONFLICT DO NOTHING
"""  # noqa: S608


def baseline_insert(space_id: int, messages: list[dict[str, Any]]) -> None:
    pairs = [pair for m in messages for pair in identifiers_of(m)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INSERT, [space_id, [t for t, _ in pairs], [v for _, v in pairs]])


class Statements:
    """Total time per SQL statement shape (its first 90 characters) while active."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = " ".join(sql.split())[:90]
            self.seconds[shape] += time.perf_counter() - start
            self.calls[shape] += 1

    def report(self, total: float) -> None:
        print(f"\nstatements ({sum(self.seconds.values()):.2f} s of {total:.2f} s):")
        for shape, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1])[:12]:
            print(f"  {seconds:7.2f} s {self.calls[shape]:6d}x  {shape}")


def backend_seconds() -> float:
    """CPU seconds this connection's PostgreSQL backend has used (0 when the
    server runs elsewhere): with this process's own, the work a run costs,
    which other work on a busy machine leaves alone, unlike wall-clock time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def timed(run: Callable[[], None]) -> tuple[float, float, float]:
    """Wall-clock, this process's CPU and its PostgreSQL backend's CPU seconds
    of ``run``."""
    gc.collect()
    gc.disable()
    try:
        backend = backend_seconds()
        start, cpu = time.perf_counter(), time.process_time()
        run()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        return wall, cpu, backend_seconds() - backend
    finally:
        gc.enable()


def batches(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def test_identity_resolution_against_plain_inserts(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    workspace = make_workspace(alice, "bench")
    space: Space = do_create_space(
        principal=Principal(alice), workspace=workspace, slug="prod", display_name="Prod"
    )
    traffic = Traffic(seed=14)
    merges_needed = int(EVENTS * MERGE_SHARE * 2) * ROUNDS * len(SIZES)
    anonymous_only = [f"x-{j}" for j in range(merges_needed)]
    setup = [traffic.identify(f"u-{k}", f"a-{k}", email=f"u{k}@example.com") for k in range(KNOWN)]
    setup += [traffic.anonymous_track(x) for x in anonymous_only]
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {BASELINE_TABLE} (space_id bigint, type text, "
            "value text, UNIQUE (space_id, type, value))"
        )
    ids = itertools.count(1)
    # Per variant: resolver and baseline events/s, then the resolver's and the
    # baseline's CPU microseconds per event (this process and its backend).
    rates: dict[tuple[int, bool], tuple[list[float], ...]] = {
        variant: ([], [], [], [], []) for variant in VARIANTS
    }
    try:
        started = time.perf_counter()
        for part in batches(setup, max(SIZES)):
            resolve_events(space, as_events(part, ids))
            baseline_insert(space.pk, part)
        loaded = time.perf_counter() - started
        assert Profile.objects.filter(space=space).count() == KNOWN + len(anonymous_only)
        with connection.cursor() as cursor:
            for table in ("engage_profileidentifier", "engage_profile", BASELINE_TABLE):
                cursor.execute(f"ANALYZE {table}")

        for round_ in range(ROUNDS):
            for size, cold in VARIANTS:
                if cold:
                    forget_known_identifiers()
                resolver, baseline, python, server, baseline_cpu = measure(
                    space,
                    traffic,
                    f"{round_}-{size}-{cold}",
                    size,
                    ids,
                    anonymous_only,
                    swap=bool(round_ % 2),
                )
                rates[size, cold][0].append(resolver)
                rates[size, cold][1].append(baseline)
                rates[size, cold][2].append(python)
                rates[size, cold][3].append(server)
                rates[size, cold][4].append(baseline_cpu)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}")

    print()
    print(
        f"identity resolution: {EVENTS:,} events per run, {ROUNDS} rounds, {KNOWN:,} known "
        f"users ({loaded:.1f} s to load them), {os.cpu_count()} cores"
    )
    for size, cold in VARIANTS:
        resolver, baseline, python, server, baseline_cpu = (
            statistics.median(r) for r in rates[size, cold]
        )
        print(
            f"{size:>5} events per call{' (cold)' if cold else ''}: resolve_events "
            f"{resolver:,.0f} events/s, plain SQL "
            f"{baseline:,.0f} events/s (medians); ratio plain SQL / resolve_events "
            f"{baseline / resolver:.2f}x; CPU per event: {python:.0f} us in this process + "
            f"{server:.0f} us in PostgreSQL (plain SQL {baseline_cpu:.0f} us in all)"
        )
    best = max(statistics.median(rates[size, False][0]) for size in SIZES)
    print(f"target: >= {TARGET:,} events/s; best median {best:,.0f} events/s")


def measure(
    space: Space,
    traffic: Traffic,
    tag: str,
    size: int,
    ids: Iterator[int],
    anonymous_only: list[str],
    *,
    swap: bool,
) -> tuple[float, float, float, float, float]:
    """One run of fresh typical traffic through the resolver and the baseline,
    ``size`` events per call and per statement; returns both rates (events/s),
    the resolver's CPU time per event in this process and in its PostgreSQL
    backend, and the baseline's in both (microseconds)."""
    profiles_before = Profile.objects.filter(space=space).count()
    merges_before = ProfileMerge.objects.filter(space=space).count()
    attached_before = ProfileEvent.objects.filter(space=space).count()
    messages = traffic.typical(EVENTS, tag, anonymous_only)
    calls = [as_events(part, ids) for part in batches(messages, size)]
    creates = sum(1 for m in messages if str(m["userId"]).startswith("new-"))
    merges = sum(1 for m in messages if str(m.get("anonymousId", "")).startswith("x-"))

    def resolve_all() -> None:
        if os.environ.get("BENCH_PROFILE"):
            profiler = cProfile.Profile()
            profiler.runcall(lambda: [resolve_events(space, part) for part in calls])
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            profiler.dump_stats(f"{os.environ['BENCH_PROFILE']}.{size}")
            return
        if not os.environ.get("BENCH_STATEMENTS"):
            for part in calls:
                resolve_events(space, part)
            return
        statements, start = Statements(), time.perf_counter()
        with connection.execute_wrapper(statements):
            for part in calls:
                resolve_events(space, part)
        statements.report(time.perf_counter() - start)

    def insert_all() -> None:
        for part in batches(messages, size):
            baseline_insert(space.pk, part)

    if swap:  # alternate which goes first: other work on the machine drifts
        plain, resolving = timed(insert_all), timed(resolve_all)
    else:
        resolving, plain = timed(resolve_all), timed(insert_all)
    resolver, baseline = len(messages) / resolving[0], len(messages) / plain[0]
    python, server = (seconds / len(messages) * 1e6 for seconds in resolving[1:])
    baseline_cpu = sum(plain[1:]) / len(messages) * 1e6

    assert ProfileEvent.objects.filter(space=space).count() - attached_before == len(messages)
    assert Profile.objects.filter(space=space).count() - profiles_before == creates
    assert ProfileMerge.objects.filter(space=space).count() - merges_before == merges
    print(
        f"\n{size} events per call: resolve_events {resolver:,.0f} events/s, plain SQL "
        f"{baseline:,.0f} events/s ({len(messages):,} events: {creates} profiles created, "
        f"{merges} merges); CPU per event: {python:.0f} us in this process + {server:.0f} us "
        f"in PostgreSQL (plain SQL {baseline_cpu:.0f} us in all)"
    )
    return resolver, baseline, python, server, baseline_cpu
