# ruff: noqa: S608 - SQL text from this module's constants; values are parameters.
"""Engage benchmark data: ``BENCH_PROFILES`` (default 1,000,000) user profiles and
``BENCH_EVENTS`` (default 10,000,000) attached events (``ProfileEvent``) in one
space, written with ``INSERT ... SELECT generate_series``, then VACUUMed and
ANALYZEd.

Shared by the audience benchmarks (tests/bench/test_audience_*_bench.py). Slow
to write (minutes on a 2-core machine), so it is written once and kept: the
``bench_engage_data`` table (not a model: Django's flush leaves it alone) records
the version, the sizes, the space and the instant the data is relative to
(``now``); a later run whose table, space and rows still match reuses it. Keep
the test database between runs to profit (``pytest --reuse-db``); a benchmark
that flushes the database (``transaction=True``) makes the next run write it again.
Change ``VERSION`` when the shape of the data changes.

The data, with a realistic skew:
- profiles: traits ``plan`` (free 60%, pro 20%, team 20%), ``engaged_users`` (the
  membership trait of audience ``engaged_users``: true 40%, false 10%, absent
  otherwise), name, email, logins, city; 1% merged into another profile; 90%
  hold a ``user_id`` (``ab-u-<n>``), every one an ``anonymous_id`` (``ab-a-<n>``);
- events: owners drawn by a power law (a few profiles very active, every profile
  some), names by a fixed mix ("Order Completed" 3%), timestamps over the last
  90 days, denser lately. Audience conditions here count events by name and
  time, which reads ``ProfileEvent`` only: the event store holds no payloads for
  them (``event_id`` numbers no stored row).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from engage.models import Computation, ComputationKind, ComputationMode, ComputationStatus, Space
from engage.services.spaces import do_create_space
from switchyard.access import Principal
from workspace.services.workspaces import do_create_workspace

VERSION = "audience-bench-3"
PROFILES = int(os.environ.get("BENCH_PROFILES", "1000000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "10000000"))
SOURCE_ID = 1
MARKER = "bench_engage_data"
ENGAGED = "engaged_users"  # the audience the benchmark's audience refers to
OWNER = "bench-engage"

# (event name, share), cumulative ranges picked by one random() per event.
EVENT_MIX = (
    ("Page Viewed", 0.36),
    ("Product Viewed", 0.20),
    ("Product Clicked", 0.09),
    ("Signed In", 0.07),
    ("Email Opened", 0.07),
    ("Cart Viewed", 0.06),
    ("Product Added", 0.05),
    ("Checkout Started", 0.04),
    ("Order Completed", 0.03),
    ("Subscription Renewed", 0.02),
    ("Support Ticket Opened", 0.01),
)


@dataclass(frozen=True)
class BenchData:
    space_id: int
    now: dt.datetime  # the events' timestamps are relative to it
    profiles: int
    events: int
    written_seconds: float | None  # None: reused from an earlier run
    first_profile_id: int


def _event_name_case() -> str:
    parts, low = [], 0.0
    for name, share in EVENT_MIX[:-1]:
        low += share
        parts.append(f"WHEN r < {low:.4f} THEN '{name}'")
    return f"CASE {' '.join(parts)} ELSE '{EVENT_MIX[-1][0]}' END"


def _ensure_marker() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER} (version text PRIMARY KEY, space_id bigint, "
            "profiles bigint, events bigint, now timestamptz, seconds double precision, "
            "first_profile_id bigint)"
        )


def _cached() -> BenchData | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT space_id, now, profiles, events, first_profile_id FROM {MARKER} "
            "WHERE version = %s",
            [VERSION],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        space_id, now, profiles, events, first = row
        if (profiles, events) != (PROFILES, EVENTS) or not Space.objects.filter(
            pk=space_id
        ).exists():
            return None
        cursor.execute(
            "SELECT (SELECT count(*) FROM engage_profile WHERE space_id = %(s)s), "
            "(SELECT reltuples::bigint FROM pg_class WHERE relname = 'engage_profileevent')",
            {"s": space_id},
        )
        counted, estimated = cursor.fetchone()
        if counted != PROFILES or estimated < EVENTS * 0.9:
            return None
    return BenchData(space_id, now, profiles, events, None, first)


def _drop_stale() -> None:
    """Spaces of earlier versions (or of a run interrupted while writing)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MARKER}")
    for space in Space.objects.filter(workspace__slug__startswith=OWNER):
        with connection.cursor() as cursor:
            for table in ("engage_profileevent", "engage_profileidentifier"):
                cursor.execute(f"DELETE FROM {table} WHERE space_id = %s", [space.pk])
            cursor.execute(
                "DELETE FROM engage_computationmember WHERE computation_id IN "
                "(SELECT id FROM engage_computation WHERE space_id = %s)",
                [space.pk],
            )
            cursor.execute(
                "UPDATE engage_profile SET canonical_id = NULL WHERE space_id = %s", [space.pk]
            )
            cursor.execute("DELETE FROM engage_profile WHERE space_id = %s", [space.pk])
        workspace = space.workspace
        space.delete()
        workspace.delete()


def ensure_data() -> BenchData:
    """The benchmark data, reused when the database holds this version already."""
    _ensure_marker()
    cached = _cached()
    if cached is not None:
        return cached
    _drop_stale()
    started = time.perf_counter()
    owner, _ = User.objects.get_or_create(username=OWNER)
    workspace = do_create_workspace(
        principal=Principal(owner), slug=f"{OWNER}-{int(time.time())}", display_name="Bench"
    )
    space = do_create_space(
        principal=Principal(owner), workspace=workspace, slug="prod", display_name="Prod"
    )
    now = timezone.now().replace(microsecond=0)
    params = {"space": space.pk, "profiles": PROFILES, "events": EVENTS, "now": now}
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET synchronous_commit = off")
        _write_profiles(cursor, params)
        cursor.execute(
            "SELECT min(id) FROM engage_profile WHERE space_id = %(space)s", {"space": space.pk}
        )
        first = cursor.fetchone()[0]
        _write_events(cursor, {**params, "first": first})
        # As autovacuum leaves a table in production: statistics, and the
        # visibility map that index-only scans need.
        for table in ("engage_profile", "engage_profileidentifier", "engage_profileevent"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    # The referenced audience (its members are the profiles' engaged_users trait).
    Computation.objects.create(
        space=space,
        kind=ComputationKind.AUDIENCE,
        key_id=f"aud_bench{space.pk}",
        key=ENGAGED,
        display_name="Engaged users",
        definition={
            "version": 1,
            "type": "users",
            "include_anonymous": False,
            "include_historical": True,
            "root": {"kind": "trait", "trait": "engaged", "cmp": "eq", "value": True},
        },
        compute_mode=ComputationMode.BATCH,
        status=ComputationStatus.LIVE,
        last_run_time=now,
        last_success_time=now,
    )
    seconds = time.perf_counter() - started
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MARKER} VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [VERSION, space.pk, PROFILES, EVENTS, now, seconds, first],
        )
    return BenchData(space.pk, now, PROFILES, EVENTS, seconds, first)


def _write_profiles(cursor: CursorWrapper, params: dict[str, Any]) -> None:
    cursor.execute(
        """
        INSERT INTO engage_profile (space_id, segment_id, collection, canonical_id, traits,
            trait_times, merges, mappings, create_time, update_time, first_message_id,
            first_source_id, last_message_id, last_source_id)
        SELECT %(space)s, 'use_ab' || lpad(g::text, 20, '0'), 'users', NULL,
            jsonb_strip_nulls(jsonb_build_object(
                'plan', CASE WHEN r1 < 0.6 THEN 'free' WHEN r1 < 0.8 THEN 'pro' ELSE 'team' END,
                'engaged_users', CASE WHEN r2 < 0.4 THEN true WHEN r2 < 0.5 THEN false END,
                'first_name', 'First' || g, 'email', 'user' || g || '@example.com',
                'logins', g %% 97, 'city', (ARRAY['Paris', 'Lagos', 'Lima', 'Oslo'])[1 + g %% 4])),
            '{}'::jsonb, 0, 2, %(now)s - interval '120 days', %(now)s, 'ab-' || g, NULL,
            'ab-' || g, NULL
        FROM (SELECT g, random() AS r1, random() AS r2
              FROM generate_series(1, %(profiles)s) g) s
        """,
        params,
    )
    # 1% merged into the profile before them (their identifiers moved there).
    cursor.execute(
        """
        UPDATE engage_profile p SET canonical_id = p.id - 1
        WHERE p.space_id = %(space)s AND p.id %% 100 = 50
        """,
        params,
    )
    cursor.execute(
        """
        INSERT INTO engage_profileidentifier (space_id, collection, type, value, profile_id,
            source_id, first_message_id, first_seen, last_seen)
        SELECT %(space)s, 'users', k.type, k.prefix || substr(p.segment_id, 7), p.id,
            NULL, p.first_message_id, p.create_time, p.create_time
        FROM engage_profile p
        CROSS JOIN (VALUES ('user_id', 'ab-u-'), ('anonymous_id', 'ab-a-')) AS k(type, prefix)
        WHERE p.space_id = %(space)s AND p.canonical_id IS NULL
          AND (k.type = 'anonymous_id' OR p.id %% 10 <> 3)
        """,
        params,
    )


def _write_events(cursor: CursorWrapper, params: dict[str, Any]) -> None:
    """10M rows: the two indexes are dropped while writing and built again after
    (building one is far cheaper than keeping it up to date row by row)."""
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid), "
        "(SELECT conname FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "FROM pg_index i WHERE indrelid = 'engage_profileevent'::regclass AND NOT indisprimary"
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'engage_profileevent'::regclass AND contype = 'u'"
    )
    constraints = cursor.fetchall()
    try:
        for name, _definition in constraints:
            cursor.execute(f'ALTER TABLE engage_profileevent DROP CONSTRAINT "{name}"')
        for name, _definition, constraint in indexes:
            if constraint is None:
                cursor.execute(f"DROP INDEX {name}")
        cursor.execute(
            f"""
            INSERT INTO engage_profileevent (space_id, profile_id, source_id, message_id,
                event_id, received_at, type, event_name, timestamp)
            SELECT %(space)s, owner, {SOURCE_ID}, 'ab-' || g, g, ts + interval '2 seconds',
                CASE WHEN name = 'Page Viewed' THEN 'page' ELSE 'track' END,
                CASE WHEN name = 'Page Viewed' THEN '' ELSE name END, ts
            FROM (
                SELECT g,
                    %(first)s + least(%(profiles)s - 1,
                        floor(%(profiles)s * power(random(), 2.5)))::bigint AS owner,
                    {_event_name_case()} AS name,
                    %(now)s - interval '90 days' * power(random(), 1.4) AS ts
                FROM (SELECT g, random() AS r FROM generate_series(1, %(events)s) g) s
            ) e
            """,
            params,
        )
    finally:
        for _name, definition in constraints:
            cursor.execute(f"ALTER TABLE engage_profileevent ADD CONSTRAINT {_name} {definition}")
        for _name, definition, constraint in indexes:
            if constraint is None:
                cursor.execute(definition)
