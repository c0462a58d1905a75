"""Benchmark (issue 15): real-time audiences at 1,000,000 profiles. With 100
real-time audiences in the space and ingest running at 1,000 events/s through
the feed's path, how long from an event's arrival until the membership change it
causes is recorded (its ``ComputationChange`` row committed)? The bar: 2 s at the
99th percentile.

The data: the audience benchmarks' 1,000,000 profiles and 10,000,000 events
(tests/bench/engage_bench_data.py, reused with ``--reuse-db``). The audiences:
"performed Bench Signal <k> at least once within 7 days" (k = 0..99), every
other one also "and custom trait plan is not enterprise"; their first full runs
go through the run code (``computation_runs.execute``) before the clock starts.

The traffic: ``BENCH_SECONDS`` (default 60) of track calls from known users
(userId), ``BENCH_RATE`` (default 1,000) per second, their arrival times fixed
in advance (start + i / rate). 90% are the data's ordinary events (no audience
reads them, yet each touches a profile), 10% a "Bench Signal <k>" event, which
makes its profile enter audience k. The feed's work, as ``engage.services.feed
.drain`` does it: every event arrived and not yet resolved (up to
EVENTS_PER_TRANSACTION per call) goes through ``resolve_events`` in one
transaction, then ``computation_runs.reevaluate_messages`` for those messages
(committed per computation). An entering event's latency is from its arrival to
the return of that re-evaluation (its change row committed: asserted after).
A feed that falls behind lets the backlog grow, and the latencies with it.

Printed, never asserted: p50/p95/p99/max latency, the achieved ingest rate, the
re-evaluation's share of the feed's time. Everything the benchmark writes
(audiences, their keys, members, history, the events it attached, the profiles'
audience traits) is deleted after it, so the data stays as generated.

Run: python -m pytest tests/bench/test_audience_realtime_bench.py -s --reuse-db
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import threading
import time
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from engage.models import (
    Computation,
    ComputationChange,
    ComputationKey,
    ComputationMode,
    ComputationRun,
    ProfileEvent,
    Space,
)
from engage.services import computation_runs
from engage.services.computations import do_create_computation
from engage.services.feed import EVENTS_PER_TRANSACTION
from engage.services.resolution import ResolverEvent, resolve_events
from switchyard.access import Principal
from tests.bench.engage_bench_data import EVENT_MIX, OWNER, BenchData

pytestmark = pytest.mark.django_db(transaction=False)

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
RATE = float(os.environ.get("BENCH_RATE", "1000"))
AUDIENCES = int(os.environ.get("BENCH_AUDIENCES", "100"))
SIGNAL_SHARE = 0.10
BAR_SECONDS = 2.0
SOURCE_ID = 2  # the data's events are source 1: this run's rows are told apart
WINDOW = {"type": "within", "value": 7, "unit": "days", "relative_to": "now"}


def signal(k: int) -> str:
    return f"Bench Signal {k:02d}"


def definition(k: int) -> dict[str, Any]:
    event = {
        "kind": "event",
        "event": signal(k),
        "where": None,
        "window": WINDOW,
        "count": {"cmp": "gte", "value": 1},
    }
    root: dict[str, Any] = event
    if k % 2:
        plan = {"kind": "trait", "trait": "plan", "cmp": "neq", "value": "enterprise"}
        root = {"op": "and", "args": [event, plan]}
    return {
        "version": 1,
        "type": "users",
        "include_anonymous": False,
        "include_historical": True,
        "root": root,
    }


def user_ids(data: BenchData, rng: random.Random, count: int) -> list[int]:
    """Profile numbers (1-based, as the data numbers them) holding a user_id."""
    out: list[int] = []
    while len(out) < count:
        n = rng.randint(1, data.profiles)
        pid = data.first_profile_id + n - 1
        if pid % 10 != 3 and pid % 100 != 50:  # the data's rules: see engage_bench_data
            out.append(n)
    return out


def message(n: int, name: str, serial: int, tag: str, at: dt.datetime) -> ResolverEvent:
    message_id = f"rt-{tag}-{serial}"
    payload: dict[str, Any] = {
        "type": "track",
        "event": name,
        "userId": f"ab-u-{n:020d}",
        "messageId": message_id,
        "timestamp": at.isoformat(),
        "properties": {"sku": f"sku-{serial % 97}"},
        "context": {"library": {"name": "analytics.js", "version": "next-1.84.3"}},
    }
    return ResolverEvent(
        event_id=10**12 + serial,
        received_at=at,
        source_id=SOURCE_ID,
        message_id=message_id,
        type="track",
        event_name=name,
        payload=payload,
    )


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def create_audiences(space: Space, owner: User, tag: str, now: dt.datetime) -> list[Computation]:
    created = []
    for k in range(AUDIENCES):
        audience = do_create_computation(
            principal=Principal(owner),
            space=space,
            kind="audience",
            display_name=f"Signal {k:02d} {tag}",
            definition=definition(k),
        )
        assert audience.compute_mode == ComputationMode.REALTIME
        run = computation_runs.queue_run(audience, "manual")
        computation_runs.execute(run.pk, now=now)
        created.append(audience)
    return created


def clean_up(space: Space, audiences: list[Computation]) -> None:
    keys = [a.key for a in audiences]
    ids = [a.pk for a in audiences]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE engage_profile SET traits = traits - %(keys)s::text[], "
            "trait_times = trait_times - %(keys)s::text[] WHERE id IN ("
            "SELECT profile_id FROM engage_computationchange WHERE computation_id = ANY(%(ids)s))",
            {"keys": keys, "ids": ids},
        )
        cursor.execute(
            "DELETE FROM engage_profileevent WHERE space_id = %s AND source_id = %s",
            [space.pk, SOURCE_ID],
        )
    ComputationRun.objects.filter(computation_id__in=ids).delete()
    Computation.objects.filter(pk__in=ids).delete()
    ComputationKey.objects.filter(space=space, key__in=keys).delete()


def test_realtime_membership_latency_at_1000_events_per_second(
    engage_bench_data: BenchData,
) -> None:
    """The work runs in a thread of its own: its connection commits each
    transaction as the feed's would (the test's own connection stays in the
    transaction pytest-django rolls back), so the data outlives the test."""
    failures: list[BaseException] = []

    def work() -> None:
        try:
            run(engage_bench_data)
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=work, name="realtime-bench")
    worker.start()
    worker.join()
    if failures:
        raise failures[0]


def run(data: BenchData) -> None:
    space = Space.objects.get(pk=data.space_id)
    owner = User.objects.get(username=OWNER)
    tag = uuid.uuid4().hex[:6]
    started = time.perf_counter()
    audiences = create_audiences(space, owner, tag, timezone.now())
    setup = time.perf_counter() - started
    try:
        measure(data, space, audiences, tag, setup)
    finally:
        clean_up(space, audiences)


def measure(
    data: BenchData, space: Space, audiences: list[Computation], tag: str, setup: float
) -> None:
    rng = random.Random(f"realtime-{tag}")
    total = int(SECONDS * RATE)
    names = [name for name, _share in EVENT_MIX if name != "Page Viewed"]
    who = user_ids(data, rng, total)
    # (arrival offset, event, audience index it makes its profile enter or None)
    plan: list[tuple[float, str, int | None]] = []
    for i in range(total):
        if rng.random() < SIGNAL_SHARE:
            k = rng.randrange(AUDIENCES)
            plan.append((i / RATE, signal(k), k))
        else:
            plan.append((i / RATE, rng.choice(names), None))
    entering: dict[tuple[int, int], int] = {}  # (audience, profile number) -> first event
    for i, (_at, _name, target) in enumerate(plan):
        if target is not None:
            entering.setdefault((target, who[i]), i)
    firsts = set(entering.values())

    latencies: list[float] = []
    resolve_seconds = reevaluate_seconds = 0.0
    calls = 0
    done = 0
    start = time.perf_counter()
    wall = timezone.now()
    while done < total:
        elapsed = time.perf_counter() - start
        arrived = done
        while arrived < total and plan[arrived][0] <= elapsed:
            arrived += 1
        if arrived == done:
            time.sleep(max(0.0, plan[done][0] - elapsed))
            continue
        upto = min(arrived, done + EVENTS_PER_TRANSACTION)
        events = [
            message(
                who[i],
                plan[i][1],
                i,
                tag,
                wall + dt.timedelta(seconds=plan[i][0]),
            )
            for i in range(done, upto)
        ]
        t0 = time.perf_counter()
        with transaction.atomic():
            resolve_events(space, events)
        t1 = time.perf_counter()
        computation_runs.reevaluate_messages(space.pk, SOURCE_ID, [e.message_id for e in events])
        t2 = time.perf_counter()
        resolve_seconds += t1 - t0
        reevaluate_seconds += t2 - t1
        calls += 1
        finished = t2 - start
        latencies.extend(finished - plan[i][0] for i in range(done, upto) if i in firsts)
        done = upto
    wall_seconds = time.perf_counter() - start

    attached = ProfileEvent.objects.filter(space=space, source_id=SOURCE_ID).count()
    assert attached == total
    recorded = ComputationChange.objects.filter(
        computation__in=audiences, run=None, new=True
    ).count()
    assert recorded == len(entering), (recorded, len(entering))

    ordered = sorted(latencies)
    print(
        f"\nreal-time: {data.profiles:,} profiles, {AUDIENCES} real-time audiences "
        f"(created and first computed in {setup:.1f} s), {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"ingest: {total:,} events offered at {RATE:,.0f}/s over {SECONDS:.0f} s; "
        f"achieved {total / wall_seconds:,.0f} events/s ({wall_seconds:.1f} s, {calls} feed calls, "
        f"{total / calls:.0f} events per call)"
    )
    print(
        f"feed time: resolve {resolve_seconds:.1f} s, re-evaluate {reevaluate_seconds:.1f} s "
        f"({reevaluate_seconds / calls * 1000:.0f} ms per call)"
    )
    print(
        f"arrival -> membership recorded, {len(ordered):,} entries: "
        f"p50 {percentile(ordered, 0.5):.2f} s, p95 {percentile(ordered, 0.95):.2f} s, "
        f"p99 {percentile(ordered, 0.99):.2f} s, max {ordered[-1]:.2f} s, "
        f"mean {statistics.fmean(ordered):.2f} s (bar: p99 <= {BAR_SECONDS:.0f} s)"
    )
