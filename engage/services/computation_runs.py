# ruff: noqa: S608 - SQL text holds only our table names; values are parameters.
"""Computing audiences and computed traits.

A run (``ComputationRun``) is a Celery task made of resumable steps. Each step
commits its effect together with ``run.step``, under the run's row lock, so a
task retried after a crash (or redelivered beside a slow twin) skips the steps
already done:

1. evaluate: the compiled query (``engage.compute.sql``) at ``run.as_of``, one
   ``INSERT ... SELECT`` into ``ComputationResult``;
2. apply: one diff of those rows against ``ComputationMember`` (a full outer join
   on the profile id), then set-based writes: the history (``ComputationChange``),
   the members, and ``Profile.traits[key]`` (an audience true on entry, false on
   exit, as Identify sends it; a trait its value, removed when it has none);
3. notify: ``sync_changes`` gets what changed (the destination syncs' hook); the
   run and the computation become SUCCEEDED / LIVE.

A failing attempt records its error; after ``MAX_RETRIES`` retries the run and
the computation are FAILED (and audited). A run waits (re-queued, not counted
as an attempt) while a run of an audience or trait it refers to, queued
earlier, has not finished: referenced computations are computed first.

Real-time: ``reevaluate_profiles(space_id, profile_ids)`` applies the same diff
for the real-time computations of the space restricted to those profiles, in one
transaction; after the feed, only the computations the new events can change
(by event name, or through a computation they refer to). Audiences referring to
no real-time computation are evaluated together: their diffs in one statement,
each write once for all of them.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from engage import definitions, task_names
from engage.choices import AuditAction
from engage.compute.sql import PAGE_EVENTS, audience_members, trait_values
from engage.models import (
    Computation,
    ComputationChange,
    ComputationDestination,
    ComputationKind,
    ComputationMember,
    ComputationMode,
    ComputationResult,
    ComputationRun,
    ComputationStatus,
    Profile,
    ProfileEvent,
    ProfileIdentifier,
    ProfileMerge,
    RunStatus,
    RunStep,
    RunTrigger,
)
from engage.services import destination_syncs
from switchyard.access import Principal
from workspace.services import audit

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
WAIT_SECONDS = 10.0
STALE_AFTER = dt.timedelta(hours=1)
PENDING = (RunStatus.QUEUED, RunStatus.RUNNING)

MEMBERS = ComputationMember._meta.db_table
RESULTS = ComputationResult._meta.db_table
CHANGES = ComputationChange._meta.db_table
PROFILES = Profile._meta.db_table
IDENTIFIERS = ProfileIdentifier._meta.db_table
MERGES = ProfileMerge._meta.db_table


class Waiting(Exception):
    """A referenced computation's earlier run has not finished yet."""


@dataclass
class Diff:
    entered: list[int] = field(default_factory=list)  # audiences: entered; traits: value set
    exited: list[int] = field(default_factory=list)  # audiences: exited; traits: value removed
    changed: list[int] = field(default_factory=list)  # traits: value changed


def queue_run(computation: Computation, trigger: str) -> ComputationRun:
    """A run of ``computation`` (call inside the caller's transaction); its task
    is queued after the commit. A run already queued or running is returned."""
    pending = (
        ComputationRun.objects.filter(computation=computation, status__in=PENDING)
        .order_by("pk")
        .first()
    )
    if pending is not None:
        return pending
    run = ComputationRun.objects.create(computation=computation, trigger=trigger)
    transaction.on_commit(lambda: enqueue(run.pk))
    return run


def enqueue(run_id: int, countdown: float | None = None) -> None:
    from switchyard.celery import app

    try:
        app.send_task(
            task_names.COMPUTE_COMPUTATION, args=[run_id], queue="default", countdown=countdown
        )
    except Exception:
        # The run stays QUEUED; the beat's next pass queues it again.
        logger.exception("could not queue computation run %s", run_id)


# -- order ----------------------------------------------------------------------------------


def _references(computation: Computation) -> frozenset[str]:
    if computation.kind != ComputationKind.AUDIENCE:
        return frozenset()
    refs = definitions.references(computation.definition)
    return refs.audiences | refs.traits


def dependency_order(computations: Iterable[Computation]) -> list[Computation]:
    """Computations so that each comes after the ones (in the list) it refers to;
    otherwise in id order."""
    todo = sorted(computations, key=lambda c: c.pk)
    by_key = {c.key: c for c in todo}
    done: set[str] = set()
    ordered: list[Computation] = []

    def visit(c: Computation, path: frozenset[str]) -> None:
        if c.key in done or c.key in path:  # stored cycles are refused; never hang
            return
        for ref in sorted(_references(c)):
            if ref in by_key:
                visit(by_key[ref], path | {c.key})
        done.add(c.key)
        ordered.append(c)

    for c in todo:
        visit(c, frozenset())
    return ordered


# -- a run ------------------------------------------------------------------------------------


def execute(run_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """One attempt at a run, resuming at its first step not done. Raises
    ``Waiting`` (re-queue it later) or the attempt's error while retries remain."""
    with transaction.atomic():
        run = _lock(run_id)
        if run is None or run.status not in PENDING:
            return {"run": run_id, "skipped": True}
        computation = run.computation
        if not computation.enabled:
            run.status, run.error = RunStatus.FAILED, "disabled before it ran"
            run.finish_time = timezone.now()
            run.save(update_fields=["status", "error", "finish_time"])
            return {"run": run_id, "skipped": True}
        _wait_for_references(run)
        run.attempts += 1
        run.status = RunStatus.RUNNING
        run.start_time = run.start_time or timezone.now()
        run.as_of = run.as_of or now or timezone.now()
        run.save(update_fields=["attempts", "status", "start_time", "as_of"])
        if computation.status in (ComputationStatus.PREPARING, ComputationStatus.FAILED):
            Computation.objects.filter(pk=computation.pk).update(status=ComputationStatus.COMPUTING)
    try:
        evaluate(run_id)
        diff = apply(run_id)
        notify(run_id, diff)
    except Exception as exc:
        if fail_attempt(run_id, exc):
            return {"run": run_id, "failed": True}
        raise
    return {"run": run_id, "entered": len(diff.entered), "exited": len(diff.exited)}


def _lock(run_id: int) -> ComputationRun | None:
    return (
        ComputationRun.objects.select_for_update(of=("self",))
        .select_related("computation__space__workspace")
        .filter(pk=run_id)
        .first()
    )


def _wait_for_references(run: ComputationRun) -> None:
    keys = _references(run.computation)
    if not keys:
        return
    earlier = ComputationRun.objects.filter(
        computation__space_id=run.computation.space_id,
        computation__key__in=keys,
        status__in=PENDING,
        pk__lt=run.pk,
    )
    if earlier.exists():
        raise Waiting(f"run {run.pk} waits for runs of {sorted(keys)}")


def _query(computation: Computation, now: dt.datetime, profile_ids: Sequence[int] | None) -> Any:
    """(sql selecting (profile_id, value), params) of the computation at ``now``."""
    space_id, definition = computation.space_id, computation.definition
    if computation.kind == ComputationKind.AUDIENCE:
        # include_historical false (real-time only): the events received since
        # the audience was created, no backfill (engage.md §5.3).
        since = computation.create_time if definition.get("include_historical") is False else None
        sql, params = audience_members(
            space_id, definition, now, profile_ids=profile_ids, events_since=since
        )
        return f"SELECT q.id AS profile_id, 'true'::jsonb AS value FROM ({sql}) q", params
    sql, params = trait_values(space_id, definition, now, profile_ids=profile_ids)
    return f"SELECT q.profile_id, q.value FROM ({sql}) q WHERE q.value IS NOT NULL", params


def evaluate(run_id: int) -> None:
    """Step 1: the compiled query's rows into ``ComputationResult``."""
    with transaction.atomic():
        run = _lock(run_id)
        if run is None or run.step >= RunStep.EVALUATED:
            return
        assert run.as_of is not None
        sql, params = _query(run.computation, run.as_of, None)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {RESULTS} WHERE run_id = %(run_id_)s", {"run_id_": run_id})
            # PostgreSQL plans an INSERT ... SELECT without parallel workers, a
            # CREATE TABLE ... AS with them: the query (a scan of the space's
            # profiles, often) runs in the latter, and its rows are copied after.
            cursor.execute("DROP TABLE IF EXISTS engage_computation_rows")
            cursor.execute(
                f"CREATE TEMP TABLE engage_computation_rows ON COMMIT DROP AS {sql}", params
            )
            cursor.execute(
                f"INSERT INTO {RESULTS} (run_id, profile_id, value) "
                "SELECT %(run_id_)s, r.profile_id, r.value FROM engage_computation_rows r",
                {"run_id_": run_id},
            )
            cursor.execute("DROP TABLE engage_computation_rows")
        run.step = RunStep.EVALUATED
        run.save(update_fields=["step"])


def apply(run_id: int) -> Diff:
    """Step 2: members, history and profile traits from the evaluated rows."""
    with transaction.atomic():
        run = _lock(run_id)
        if run is None:
            return Diff()
        if run.step >= RunStep.APPLIED:
            return _recorded_diff(run)
        computation = (
            Computation.objects.select_for_update()
            .select_related("space")
            .get(pk=run.computation_id)
        )
        source = f"SELECT profile_id, value FROM {RESULTS} WHERE run_id = %(run_id_)s"
        assert run.as_of is not None
        diff = _apply(computation, source, {"run_id_": run_id}, None, run, run.as_of)
        ComputationResult.objects.filter(run=run).delete()
        run.size = _size(computation)
        run.entered, run.exited = len(diff.entered), len(diff.exited)
        run.step = RunStep.APPLIED
        run.save(update_fields=["size", "entered", "exited", "step"])
        return diff


def _recorded_diff(run: ComputationRun) -> Diff:
    """What an applied run changed, read back from its history (a resumed run)."""
    diff = Diff()
    rows = ComputationChange.objects.filter(run=run).values_list("profile_id", "old", "new")
    audience = run.computation.kind == ComputationKind.AUDIENCE
    for profile_id, old, new in rows:
        if audience:
            (diff.entered if new else diff.exited).append(profile_id)
        elif old is None:
            diff.entered.append(profile_id)
        elif new is None:
            diff.exited.append(profile_id)
        else:
            diff.changed.append(profile_id)
    return diff


def _size(computation: Computation) -> int:
    return ComputationMember.objects.filter(computation=computation).count()


def _apply(
    computation: Computation,
    source: str,
    params: dict[str, Any],
    scope: Sequence[int] | None,
    run: ComputationRun | None,
    now: dt.datetime,
) -> Diff:
    """Diff ``source`` (rows (profile_id, value)) against the current members
    (all, or those of ``scope``) and write the differences. Call with the
    computation's row locked."""
    audience = computation.kind == ComputationKind.AUDIENCE
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    values = {
        **params,
        "c_id_": computation.pk,
        "run_": run.pk if run else None,
        "now_": now,
        "key_": [computation.key],
        "stamp_": stamp,
        "scope_": list(scope) if scope is not None else None,
    }
    in_scope = "" if scope is None else "AND m.profile_id = ANY(%(scope_)s)"
    # A run evaluated at ``now`` must not undo what a real-time update wrote for a
    # profile after that instant (its evaluation is the newer one).
    _newer = (
        ""
        if run is None
        else f"AND NOT EXISTS (SELECT 1 FROM {CHANGES} h WHERE h.computation_id = %(c_id_)s "
        "AND h.run_id IS NULL AND h.time > %(now_)s "
        "AND h.profile_id = coalesce(s.profile_id, c.profile_id))"
    )
    diff_sql = (
        "SELECT coalesce(s.profile_id, c.profile_id) AS profile_id, "
        "c.value AS old, s.value AS new "
        f"FROM ({source}) s FULL JOIN ("
        f"SELECT m.profile_id, m.value FROM {MEMBERS} m "
        f"WHERE m.computation_id = %(c_id_)s {in_scope}) c ON c.profile_id = s.profile_id "
        f"WHERE s.value IS DISTINCT FROM c.value {_newer}"
    )
    with connection.cursor() as cursor:
        if scope is not None:
            # Real time: a few profiles, and most evaluations change nothing: the
            # diff is read here (one statement) and written from arrays.
            cursor.execute(
                f"SELECT d.profile_id, d.old::text, d.new::text FROM ({diff_sql}) d", values
            )
            rows = cursor.fetchall()
            if not rows:
                return Diff()
            values["d_id_"] = [r[0] for r in rows]
            values["d_old_"] = [r[1] for r in rows]
            values["d_new_"] = [r[2] for r in rows]
            table = (
                "(SELECT x.profile_id, x.old::jsonb AS old, x.new::jsonb AS new FROM "
                "unnest(%(d_id_)s::bigint[], %(d_old_)s::text[], %(d_new_)s::text[]) "
                "AS x(profile_id, old, new))"
            )
        else:
            cursor.execute("DROP TABLE IF EXISTS engage_computation_diff")
            cursor.execute(
                f"CREATE TEMP TABLE engage_computation_diff ON COMMIT DROP AS {diff_sql}", values
            )
            table = "engage_computation_diff"
        if audience:
            history = "coalesce(d.old, 'false'::jsonb), coalesce(d.new, 'false'::jsonb)"
            trait = "jsonb_set(p.traits, %(key_)s, coalesce(d.new, 'false'::jsonb))"
        else:
            history = "d.old, d.new"
            trait = (
                "CASE WHEN d.new IS NULL THEN p.traits #- %(key_)s "
                "ELSE jsonb_set(p.traits, %(key_)s, d.new) END"
            )
        cursor.execute(
            f"INSERT INTO {CHANGES} (computation_id, run_id, profile_id, old, new, time) "
            f"SELECT %(c_id_)s, %(run_)s, d.profile_id, {history}, %(now_)s "
            f"FROM {table} d ORDER BY d.profile_id",
            values,
        )
        cursor.execute(
            f"DELETE FROM {MEMBERS} m USING {table} d "
            "WHERE m.computation_id = %(c_id_)s AND m.profile_id = d.profile_id AND d.new IS NULL",
            values,
        )
        cursor.execute(
            f"INSERT INTO {MEMBERS} (computation_id, profile_id, value, since, update_time) "
            "SELECT %(c_id_)s, d.profile_id, d.new, %(now_)s, %(now_)s "
            f"FROM {table} d WHERE d.new IS NOT NULL ORDER BY d.profile_id "
            "ON CONFLICT (computation_id, profile_id) DO UPDATE SET value = EXCLUDED.value, "
            "since = EXCLUDED.since, update_time = EXCLUDED.update_time",
            values,
        )
        # Profiles locked in id order, as everyone else locks them, before the update.
        cursor.execute(
            f"SELECT 1 FROM {PROFILES} WHERE id IN (SELECT t.profile_id FROM {table} t) "
            "ORDER BY id FOR UPDATE",
            values,
        )
        cursor.execute(
            f"UPDATE {PROFILES} p SET traits = {trait}, "
            "trait_times = jsonb_set(p.trait_times, %(key_)s, to_jsonb(%(stamp_)s::text)) "
            f"FROM {table} d WHERE p.id = d.profile_id",
            values,
        )
        if scope is None:
            cursor.execute("SELECT profile_id, old, new FROM engage_computation_diff")
            rows = cursor.fetchall()
            cursor.execute("DROP TABLE engage_computation_diff")
    diff = Diff()
    for profile_id, old, new in rows:
        if new is None:
            diff.exited.append(profile_id)
        elif old is None:
            diff.entered.append(profile_id)
        else:
            diff.changed.append(profile_id)
    return diff


def notify(run_id: int, diff: Diff) -> None:
    """Step 3: hand the changes to the syncs; the run and computation are done."""
    with transaction.atomic():
        run = _lock(run_id)
        if run is None or run.step >= RunStep.NOTIFIED:
            return
        computation = Computation.objects.select_for_update().get(pk=run.computation_id)
        sync_changes(computation, run=run, diff=diff)
        finished = timezone.now()
        run.step, run.status, run.finish_time = RunStep.NOTIFIED, RunStatus.SUCCEEDED, finished
        run.save(update_fields=["step", "status", "finish_time"])
        computation.size = run.size
        computation.last_run_time = finished
        computation.last_success_time = finished
        computation.failure = ""
        # A batch one that stopped computing meanwhile (§5.5) stays NOT_COMPUTING.
        if computation.enabled and computation.status != ComputationStatus.NOT_COMPUTING:
            computation.status = ComputationStatus.LIVE
        computation.save(
            update_fields=[
                "size",
                "last_run_time",
                "last_success_time",
                "failure",
                "status",
                "update_time",
            ]
        )


def sync_changes(computation: Computation, *, run: ComputationRun | None, diff: Diff) -> None:
    """The hook for destination syncs: called in the transaction that records a batch
    run's step 3, and after each real-time update, with the profiles that entered /
    exited an audience or whose trait value was set / removed / changed. ``run`` is
    None for real-time updates. What to send is the history rows
    (``ComputationChange``) after each connection's cursor; their syncs are queued
    after the commit (``destination_syncs``)."""
    if diff.entered or diff.exited or diff.changed:
        destination_syncs.changes_recorded(computation)


def fail_attempt(run_id: int, exc: BaseException) -> bool:
    """Record a failed attempt; after ``MAX_RETRIES`` retries the run and its
    computation are FAILED (True: give up, do not retry)."""
    message = f"{type(exc).__name__}: {exc}"[:2000]
    with transaction.atomic():
        run = _lock(run_id)
        if run is None:
            return True
        run.error = message
        final = run.attempts > MAX_RETRIES
        if final:
            run.status, run.finish_time = RunStatus.FAILED, timezone.now()
        run.save(update_fields=["error", "status", "finish_time"])
        computation = run.computation
        if final:
            Computation.objects.filter(pk=computation.pk).update(
                status=ComputationStatus.FAILED,
                failure=message[:500],
                last_run_time=run.finish_time,
                update_time=timezone.now(),
            )
        # The docs' audit trail notes every task failure, retried or not.
        audit.record(
            Principal(AnonymousUser()),
            AuditAction.AUDIENCE_COMPUTE_FAILED
            if computation.kind == ComputationKind.AUDIENCE
            else AuditAction.COMPUTED_TRAIT_COMPUTE_FAILED,
            workspace=computation.space.workspace,
            resource_name=computation.resource_name,
            after={"run": run.pk, "attempt": run.attempts, "error": message[:500], "final": final},
        )
    return final


# -- schedule -------------------------------------------------------------------------------


def computing_q() -> Q:
    """Computations that compute (§5.5): real-time ones, batch ones computed
    without destinations, and batch ones with a connected destination; the other
    batch ones are NOT_COMPUTING and the beat skips them."""
    connected = ComputationDestination.objects.filter(computation=OuterRef("pk"))
    return (
        Q(compute_mode=ComputationMode.REALTIME)
        | Q(compute_without_destinations=True)
        | Q(Exists(connected))
    )


def schedule_due(now: dt.datetime | None = None) -> list[int]:
    """Runs for the enabled batch computations whose space's cadence has passed
    since their last run (and without a run queued), created in dependency order
    per space; returns the new run ids. Queued runs older than a cadence whose
    message was lost are queued again too."""
    moment = now or timezone.now()
    candidates = (
        Computation.objects.filter(enabled=True, compute_mode=ComputationMode.BATCH)
        .filter(computing_q())  # §5.5: NOT_COMPUTING without destinations
        .exclude(runs__status__in=PENDING)
        .select_related("space")
        .order_by("space_id", "pk")
    )
    due: dict[int, list[Computation]] = {}
    for c in candidates:
        cadence = dt.timedelta(hours=c.space.batch_cadence_hours)
        if c.last_run_time is None or c.last_run_time <= moment - cadence:
            due.setdefault(c.space_id, []).append(c)
    created = []
    with transaction.atomic():
        for group in due.values():
            for c in dependency_order(group):
                created.append(queue_run(c, RunTrigger.SCHEDULE).pk)
    # A run still pending long after it was asked for lost its task message (or
    # its worker): queue it again; a twin of a live one finds its steps done.
    stale = ComputationRun.objects.filter(
        status__in=PENDING, create_time__lte=moment - STALE_AFTER
    ).values_list("pk", flat=True)
    for run_id in stale:
        enqueue(run_id)
    return created


# -- real time ------------------------------------------------------------------------------


def reevaluate_profiles(
    space_id: int,
    profile_ids: Sequence[int],
    *,
    now: dt.datetime | None = None,
    received: Mapping[int, frozenset[str] | None] | None = None,
) -> dict[str, Diff]:
    """Re-evaluate the space's enabled real-time audiences and traits for these
    profiles only (the feed calls it with the profiles a resolution touched),
    referenced ones first. Merged profiles count as their canonical profile; a
    merged one still listed as a member exits. Returns each key's diff.

    ``received`` (the feed's): for a profile, the builder names of the events it
    was just given ("Page Viewed" for a page call), when nothing else of it
    changed; None (or absent) when anything may have (traits, identifiers, a
    merge). A computation is then evaluated only for the profiles whose new
    events it reads, or that anything happened to, or whose value of a
    computation it refers to just changed: a track event changes no other
    condition (the windows' edges are the window check's)."""
    if not profile_ids:
        return {}
    rows = Profile.objects.filter(space_id=space_id, pk__in=list(profile_ids))
    canonical_of = {p: c or p for p, c in rows.values_list("pk", "canonical_id")}
    if not canonical_of:
        return {}
    # Per canonical profile: the event names it received, or None (anything).
    got: dict[int, frozenset[str] | None] = {}
    for p, c in canonical_of.items():
        names = received.get(p) if received is not None and p == c else None
        before = got.get(c, frozenset())
        got[c] = None if names is None or before is None else before | names
    computations = Computation.objects.filter(
        space_id=space_id, enabled=True, compute_mode=ComputationMode.REALTIME
    ).select_related("space")
    ordered = dependency_order(computations)
    realtime_keys = {c.key for c in ordered}
    # Everything the pass may evaluate: what the events reach, and what refers
    # to that (transitively).
    reached = {r.key for r in ordered if _affected(r, got, {})}
    for r in ordered:
        if _references(r) & reached:
            reached.add(r.key)
    if not reached:
        return {}
    changed: dict[str, Diff] = {}
    moved: dict[str, set[int]] = {}
    # One transaction for the pass (a commit per computation cost more than the
    # evaluation); its computations locked at once, in dependency order, as the
    # window check locks them.
    with transaction.atomic():
        ready = _lock_in_order([r.pk for r in ordered if r.key in reached])
        # The clock is read once the locks are held (when the caller gives none,
        # as the feed does), so updates apply in the order of their instants.
        moment = now or timezone.now()
        # Audiences that refer to no real-time computation: evaluated together,
        # one statement for their diffs and one per write for all of them.
        together = [
            r
            for r in ordered
            if r.pk in ready
            and r.kind == ComputationKind.AUDIENCE
            and not (_references(r) & realtime_keys)
        ]
        plans = []
        for r in together:
            wanted = _affected(r, got, moved)
            if wanted:
                scope = sorted(wanted | {p for p, k in canonical_of.items() if k in wanted})
                plans.append((r, sorted(wanted), scope))
        for key, entries in _apply_together(plans, moment).items():
            changed[key] = entries
            moved[key] = {canonical_of.get(p, p) for p in (*entries.entered, *entries.exited)}
        done = {r.pk for r in together}
        for computation in ordered:
            if computation.pk not in ready or computation.pk in done:
                continue
            wanted = _affected(computation, got, moved)
            if not wanted:
                continue
            canonical = sorted(wanted)
            scope = sorted(wanted | {p for p, c in canonical_of.items() if c in wanted})
            diff = reevaluate_computation(computation.pk, canonical, scope, now=moment)
            if diff is not None and (diff.entered or diff.exited or diff.changed):
                changed[computation.key] = diff
                moved[computation.key] = {
                    canonical_of.get(p, p) for p in (*diff.entered, *diff.exited, *diff.changed)
                }
    return changed


def _lock_in_order(ids: Sequence[int]) -> set[int]:
    """Row-locks these computations in the given order (one statement); returns
    those enabled whose first full run has applied."""
    if not ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, c.enabled AND c.last_success_time IS NOT NULL "
            f"FROM {Computation._meta.db_table} c "
            "JOIN unnest(%s::bigint[]) WITH ORDINALITY AS u(id, n) "
            "ON c.id = u.id ORDER BY u.n FOR UPDATE OF c",
            [list(ids)],
        )
        return {row[0] for row in cursor.fetchall() if row[1]}


def _apply_together(
    plans: Sequence[tuple[Computation, Sequence[int], Sequence[int]]], now: dt.datetime
) -> dict[str, Diff]:
    """Real-time audiences (locked by the caller), each for its canonical profiles
    and diffed against its members among its scope: the diffs in one statement,
    then each write once for all of them (history, members, profile traits,
    sizes). Returns the diff of each audience that changed."""
    if not plans:
        return {}
    parts: list[str] = []
    values: dict[str, Any] = {"now_": now}
    for n, (c, canonical, scope) in enumerate(plans):
        sql, params = _query(c, now, canonical)
        # Each query's parameters under names of its own (p0 -> a3_p0).
        sql = re.sub(r"%\((p\d+)\)s", rf"%(a{n}_\1)s", sql)
        values.update({f"a{n}_{k}": v for k, v in params.items()})
        values[f"a{n}_c_"], values[f"a{n}_scope_"] = c.pk, list(scope)
        parts.append(
            f"SELECT %(a{n}_c_)s::bigint AS c, coalesce(s.profile_id, m.profile_id) AS profile_id, "
            "m.value::text AS old, s.value::text AS new "
            f"FROM ({sql}) s FULL JOIN (SELECT m.profile_id, m.value FROM {MEMBERS} m "
            f"WHERE m.computation_id = %(a{n}_c_)s AND m.profile_id = ANY(%(a{n}_scope_)s)) m "
            "ON m.profile_id = s.profile_id WHERE s.value IS DISTINCT FROM m.value"
        )
    by_id = {c.pk: c for c, _canonical, _scope in plans}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), values)
        rows = cursor.fetchall()
        if not rows:
            return {}
        stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        arrays: dict[str, Any] = {
            "c_": [r[0] for r in rows],
            "p_": [r[1] for r in rows],
            "old_": [r[2] for r in rows],
            "new_": [r[3] for r in rows],
            "key_": [by_id[r[0]].key for r in rows],
            "now_": now,
            "stamp_": stamp,
        }
        d = (
            "(SELECT x.c, x.p AS profile_id, x.key, x.old::jsonb AS old, x.new::jsonb AS new "
            "FROM unnest(%(c_)s::bigint[], %(p_)s::bigint[], %(key_)s::text[], "
            "%(old_)s::text[], %(new_)s::text[]) AS x(c, p, key, old, new))"
        )
        cursor.execute(
            f"INSERT INTO {CHANGES} (computation_id, run_id, profile_id, old, new, time) "
            "SELECT d.c, NULL, d.profile_id, coalesce(d.old, 'false'::jsonb), "
            f"coalesce(d.new, 'false'::jsonb), %(now_)s FROM {d} d ORDER BY d.c, d.profile_id",
            arrays,
        )
        cursor.execute(
            f"DELETE FROM {MEMBERS} m USING {d} d WHERE m.computation_id = d.c "
            "AND m.profile_id = d.profile_id AND d.new IS NULL",
            arrays,
        )
        cursor.execute(
            f"INSERT INTO {MEMBERS} (computation_id, profile_id, value, since, update_time) "
            f"SELECT d.c, d.profile_id, d.new, %(now_)s, %(now_)s FROM {d} d "
            "WHERE d.new IS NOT NULL ORDER BY d.c, d.profile_id "
            "ON CONFLICT (computation_id, profile_id) DO UPDATE SET value = EXCLUDED.value, "
            "since = EXCLUDED.since, update_time = EXCLUDED.update_time",
            arrays,
        )
        # Profiles locked in id order, as everyone else locks them, before the update.
        cursor.execute(
            f"SELECT 1 FROM {PROFILES} WHERE id = ANY(%(p_)s::bigint[]) ORDER BY id FOR UPDATE",
            arrays,
        )
        cursor.execute(
            f"UPDATE {PROFILES} p SET traits = p.traits || u.traits, "
            "trait_times = p.trait_times || u.times FROM ("
            "SELECT d.profile_id, jsonb_object_agg(d.key, coalesce(d.new, 'false'::jsonb)) "
            "AS traits, jsonb_object_agg(d.key, to_jsonb(%(stamp_)s::text)) AS times "
            f"FROM {d} d GROUP BY d.profile_id) u WHERE p.id = u.profile_id",
            arrays,
        )
        diffs: dict[int, Diff] = {}
        for c_id, profile_id, _old, new in rows:
            diff = diffs.setdefault(c_id, Diff())
            (diff.exited if new is None else diff.entered).append(profile_id)
        # Members in, members out: no count over every member per change.
        cursor.execute(
            f"UPDATE {Computation._meta.db_table} c SET size = c.size + x.delta, "
            "update_time = %(now_)s FROM unnest(%(ids_)s::bigint[], %(deltas_)s::bigint[]) "
            "AS x(id, delta) WHERE c.id = x.id",
            {
                "now_": timezone.now(),
                "ids_": list(diffs),
                "deltas_": [len(d.entered) - len(d.exited) for d in diffs.values()],
            },
        )
    # The syncs' hook, for the audiences connected to a destination (it does
    # nothing for the others: one query here instead of one per audience).
    connected = ComputationDestination.objects.filter(computation_id__in=list(diffs))
    for c_id in set(connected.values_list("computation_id", flat=True)):
        sync_changes(by_id[c_id], run=None, diff=diffs[c_id])
    return {by_id[c_id].key: diff for c_id, diff in diffs.items()}


def _affected(
    computation: Computation,
    got: Mapping[int, frozenset[str] | None],
    moved: Mapping[str, set[int]],
) -> set[int]:
    """The profiles among ``got`` that ``computation`` may judge differently now."""
    reads = _event_names(computation)
    out = {p for p, names in got.items() if names is None or reads is None or names & reads}
    for key in _references(computation):
        out |= moved.get(key, set())
    return out


def _event_names(computation: Computation) -> frozenset[str] | None:
    """The event names a user-level definition counts (None: account level, whose
    owners are not the profiles that received the events)."""
    definition = computation.definition
    if definition.get("type", "users") != "users":
        return None
    if computation.kind != ComputationKind.AUDIENCE:
        return frozenset([str(definition.get("event"))])
    return frozenset(
        str(node.get("event"))
        for node, _path in definitions.walk(definition)
        if node.get("kind") == "event"
    )


def reevaluate_computation(
    computation_id: int,
    canonical: Sequence[int] | None,
    scope: Sequence[int] | None,
    *,
    now: dt.datetime | None = None,
) -> Diff | None:
    """One enabled real-time computation evaluated at ``now`` for the canonical
    profiles ``canonical`` (None: every profile), diffed against its members
    among ``scope`` (None: all) and applied, under its row lock. None when it is
    disabled or its first full run has not applied yet. Without ``now``, the clock
    is read once the lock is held, so real-time updates apply in the order of
    their instants (the window check relies on it: engage.services.computation_windows)."""
    with transaction.atomic():
        locked = (
            Computation.objects.select_for_update()
            .select_related("space")
            .filter(pk=computation_id, enabled=True)
            .first()
        )
        if locked is None or locked.last_success_time is None:
            return None  # its first full run has not applied yet
        moment = now or timezone.now()
        sql, params = _query(locked, moment, canonical)
        diff = _apply(locked, sql, params, scope, None, moment)
        if diff.entered or diff.exited or diff.changed:
            # Members in, members out: no count over every member per change.
            locked.size += len(diff.entered) - len(diff.exited)
            locked.save(update_fields=["size", "update_time"])
            sync_changes(locked, run=None, diff=diff)
        return diff


def reevaluate_messages(space_id: int, source_id: int, message_ids: Sequence[str]) -> None:
    """After a feed transaction committed: re-evaluate the space's real-time
    computations for the profiles these messages reached (their ProfileEvent rows,
    on the survivor after a merge). A profile that only received events (no
    identify or group call, no identifier added, no merge) is re-evaluated only
    by the computations that read those events' names (``reevaluate_profiles``).
    Never raises: the resolution is committed, and a failure here is caught up
    by the next full run."""
    if not message_ids:
        return
    try:
        live = Computation.objects.filter(
            space_id=space_id, enabled=True, compute_mode=ComputationMode.REALTIME
        )
        if not live.exists():
            return
        ids = list(message_ids)
        attached = ProfileEvent.objects.filter(
            space_id=space_id, source_id=source_id, message_id__in=ids
        ).values_list("profile_id", "type", "event_name")
        received: dict[int, frozenset[str] | None] = {}
        for profile_id, kind, name in attached:
            named = _builder_name(kind, name)
            before = received.get(profile_id, frozenset())
            received[profile_id] = None if named is None or before is None else before | {named}
        touched = list(received)
        # Identifiers added or profiles merged by these messages: anything may
        # change (one statement; arrays, not IN lists of a thousand parameters).
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT i.profile_id FROM {IDENTIFIERS} i WHERE i.profile_id = ANY(%(p_)s) "
                "AND i.source_id = %(s_)s AND i.first_message_id = ANY(%(m_)s) UNION "
                f"SELECT g.into_id FROM {MERGES} g WHERE g.into_id = ANY(%(p_)s) "
                "AND g.source_id = %(s_)s AND g.message_id = ANY(%(m_)s)",
                {"p_": touched, "s_": source_id, "m_": ids},
            )
            for (profile_id,) in cursor.fetchall():
                received[profile_id] = None
        reevaluate_profiles(space_id, touched, received=received)
    except Exception:
        logger.exception("real-time re-evaluation of space %s failed", space_id)


def _builder_name(kind: str, event_name: str) -> str | None:
    """An attached event's name as conditions name it; None for a call that may
    change more than events (identify, group, alias)."""
    if kind == "track":
        return event_name
    for name, (page_kind, _property) in PAGE_EVENTS.items():
        if kind == page_kind:
            return name
    return None


def reevaluate_identifiers(space_id: int, identifiers: Iterable[tuple[str, str]]) -> None:
    """After a CSV upload chunk committed (internal identify calls: no event rows):
    re-evaluate the space's real-time computations for the user profiles holding
    these (type, value) identifiers. Never raises, as ``reevaluate_messages``."""
    pairs = sorted(set(identifiers))
    if not pairs:
        return
    try:
        live = Computation.objects.filter(
            space_id=space_id, enabled=True, compute_mode=ComputationMode.REALTIME
        )
        if not live.exists():
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT i.profile_id FROM {IDENTIFIERS} i "
                "JOIN unnest(%(types_)s::text[], %(values_)s::text[]) AS k(type, value) "
                "ON i.type = k.type AND i.value = k.value "
                "WHERE i.space_id = %(space_)s AND i.collection = 'users'",
                {
                    "space_": space_id,
                    "types_": [t for t, _v in pairs],
                    "values_": [v for _t, v in pairs],
                },
            )
            touched = [row[0] for row in cursor.fetchall()]
        reevaluate_profiles(space_id, touched)
    except Exception:
        logger.exception("real-time re-evaluation of space %s failed", space_id)
