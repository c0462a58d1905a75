"""Benchmark (issue 15): batch compute of a 3-condition audience over 1,000,000
profiles and 10,000,000 events, against a hand-written optimal SQL query for the
same audience, run in the same benchmark.

The audience: (performed "Order Completed" at least 2 times within 30 days) AND
(custom trait plan = "pro") AND (member of audience ``engaged_users``), users
holding a user_id or email (the eligibility every compiled audience has).

Measured, ``ROUNDS`` times, alternating which goes first (the machine is shared):
- the compiled query alone (``engage.compute.sql.audience_members``, fetched);
- the hand-written query (the same rows: asserted);
- the full run through ``engage.services.computation_runs``: evaluate (INSERT ...
  SELECT of the compiled query into ComputationResult), apply (the diff against
  the members, history, members, profile traits), notify; each round in a
  savepoint rolled back after it, so each is the audience's first run (every
  member enters).
Timings are printed with the ratios (aim: compiled / hand-written <= 1.5x), never
asserted. The data (tests/bench/engage_bench_data.py) takes minutes to write and
is reused by a later run with ``--reuse-db``.

Run: python -m pytest tests/bench/test_audience_compute_bench.py -s --reuse-db
(``BENCH_EXPLAIN=1`` prints EXPLAIN ANALYZE of both queries.)
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from engage.compute.sql import ELIGIBLE, audience_members
from engage.models import Computation, ComputationMember, ComputationRun, Space
from engage.services import computation_runs
from engage.services.computations import do_create_computation
from switchyard.access import Principal
from tests.bench.engage_bench_data import ENGAGED, OWNER, BenchData

pytestmark = pytest.mark.django_db(transaction=False)

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
TARGET_RATIO = 1.5

DEFINITION: dict[str, Any] = {
    "version": 1,
    "type": "users",
    "include_anonymous": False,
    "include_historical": True,
    "root": {
        "op": "and",
        "args": [
            {
                "kind": "event",
                "event": "Order Completed",
                "where": None,
                "window": {"type": "within", "value": 30, "unit": "days", "relative_to": "now"},
                "count": {"cmp": "gte", "value": 2},
            },
            {"kind": "trait", "trait": "plan", "cmp": "eq", "value": "pro"},
            {"kind": "audience", "audience_key": ENGAGED, "member": True},
        ],
    },
}

HAND_WRITTEN = """
SELECT p.id
FROM (
    SELECT e.profile_id FROM engage_profileevent e
    WHERE e.space_id = %(space)s AND e.type = 'track' AND e.event_name = 'Order Completed'
      AND e.timestamp >= %(since)s AND e.timestamp <= %(now)s
    GROUP BY e.profile_id HAVING count(*) >= 2
) b
JOIN engage_profile p ON p.id = b.profile_id
WHERE p.space_id = %(space)s AND p.collection = 'users' AND p.canonical_id IS NULL
  AND p.traits ->> 'plan' = 'pro' AND p.traits -> 'engaged_users' = 'true'::jsonb
  AND EXISTS (SELECT 1 FROM engage_profileidentifier i
              WHERE i.profile_id = p.id AND i.type = ANY(%(types)s))
ORDER BY p.id
"""


def fetch_ids(sql: str, params: dict[str, Any]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def explain(sql: str, params: dict[str, Any]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = work()
    return time.perf_counter() - started, out


def spread(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} s (median; {min(samples):.2f}-{max(samples):.2f} s)"


def full_run(computation: Computation, as_of: dt.datetime) -> dict[str, float]:
    """The queued run's three steps, timed, in a savepoint rolled back after."""
    point = transaction.savepoint()
    try:
        run = computation_runs.queue_run(computation, "manual")
        ComputationRun.objects.filter(pk=run.pk).update(status="RUNNING", as_of=as_of)
        evaluate, _ = timed(lambda: computation_runs.evaluate(run.pk))
        apply, diff = timed(lambda: computation_runs.apply(run.pk))
        notify, _ = timed(lambda: computation_runs.notify(run.pk, diff))
        run.refresh_from_db()
        assert run.status == "SUCCEEDED" and run.entered == run.size == len(diff.entered)
        assert ComputationMember.objects.filter(computation=computation).count() == run.size
        return {
            "evaluate": evaluate,
            "apply": apply,
            "notify": notify,
            "total": evaluate + apply + notify,
            "size": float(run.size),
        }
    finally:
        transaction.savepoint_rollback(point)


def test_three_condition_audience_against_hand_written_sql(engage_bench_data: BenchData) -> None:
    data = engage_bench_data
    if data.written_seconds is None:
        print(f"\nbench data reused: {data.profiles:,} profiles, {data.events:,} events")
    else:
        print(
            f"\nbench data written in {data.written_seconds:.1f} s: "
            f"{data.profiles:,} profiles, {data.events:,} events"
        )
    space = Space.objects.get(pk=data.space_id)
    owner = User.objects.get(username=OWNER)
    audience = do_create_computation(
        principal=Principal(owner),
        space=space,
        kind="audience",
        display_name="Pro repeat buyers",
        definition=DEFINITION,
    )
    as_of = data.now
    compiled_sql, compiled_params = audience_members(space.pk, DEFINITION, as_of)
    hand_params = {
        "space": space.pk,
        "since": as_of - dt.timedelta(days=30),
        "now": as_of,
        "types": list(ELIGIBLE),
    }
    if os.environ.get("BENCH_EXPLAIN"):
        print("\ncompiled query:\n" + compiled_sql)
        print("\nEXPLAIN compiled:\n" + explain(compiled_sql, compiled_params))
        print("\nEXPLAIN hand-written:\n" + explain(HAND_WRITTEN, hand_params))

    compiled: list[float] = []
    hand: list[float] = []
    runs: list[dict[str, float]] = []
    expected: list[int] | None = None
    for round_ in range(ROUNDS):
        order = ("compiled", "hand") if round_ % 2 == 0 else ("hand", "compiled")
        for which in order:
            if which == "compiled":
                seconds, ids = timed(lambda: fetch_ids(compiled_sql, compiled_params))
                compiled.append(seconds)
            else:
                seconds, ids = timed(lambda: fetch_ids(HAND_WRITTEN, hand_params))
                hand.append(seconds)
            expected = expected if expected is not None else ids
            assert ids == expected
        runs.append(full_run(audience, as_of))
        print(
            f"round {round_ + 1}: compiled {compiled[-1]:.2f} s, hand-written {hand[-1]:.2f} s, "
            f"full run {runs[-1]['total']:.2f} s (evaluate {runs[-1]['evaluate']:.2f}, "
            f"apply {runs[-1]['apply']:.2f}, notify {runs[-1]['notify']:.2f})"
        )
    assert expected is not None and len(expected) > 0
    assert all(int(r["size"]) == len(expected) for r in runs)

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    hand_median = statistics.median(hand)
    print(
        f"\naudience of {len(expected):,} members over {data.profiles:,} profiles and "
        f"{data.events:,} events, {ROUNDS} rounds, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"hand-written SQL:        {spread(hand)}")
    print(
        f"compiled query:          {spread(compiled)}; "
        f"ratio {statistics.median(compiled) / hand_median:.2f}x (aim <= {TARGET_RATIO}x)"
    )
    print(
        f"full run:                {spread([r['total'] for r in runs])}; "
        f"ratio {median('total') / hand_median:.2f}x "
        f"(evaluate {median('evaluate'):.2f} s, apply {median('apply'):.2f} s, "
        f"notify {median('notify'):.2f} s)"
    )
