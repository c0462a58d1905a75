# ruff: noqa: S608 - SQL text holds only our table names; values are parameters.
"""Real-time audiences and traits as time passes: members that a time window
moves in or out with no new event.

"Order Completed at least once within 7 days" must lose a member once its last
such order turns 7 days old, though nothing arrives; "zero times within 7 days"
gains one then. The feed re-evaluates only profiles that got events, so beat
runs ``check_windows`` every minute (``engage.check_windows``). Per space, for
each enabled real-time computation after its first full run:

- its window edges (``edges``): an event condition's window ``within N`` moves
  an event out when the event's age reaches N and in when it reaches 0 (an
  event stamped ahead of the clock); ``in between N and M`` at N and M; a
  condition without a window at the 3-year horizon; a funnel step's window
  relative to now likewise (one relative to its parent event moves only with
  the parent, whose own edges cover it);
- the candidates: the profiles with an event of that name whose age crossed
  an edge since the last check: ``timestamp`` in ``[since - W, now - W)`` for
  each edge W, one set-based ``UNION`` over ``ProfileEvent`` (index
  ``profile_event_name_time``); ``since`` is the stored ``window_check_time``
  (or the last successful run's ``as_of``, if later) minus ``OVERLAP`` (30 s,
  for clocks of different hosts). The feed's evaluations read their clock once
  they hold the computation's lock, so they apply in clock order; a check, whose
  instant is read first, may apply after a newer feed evaluation, but whatever
  that undoes (an event stamped after the check's instant, an edge crossed
  after it) lies after the stored check and is in the next check's ranges. The
  near edge (age 0) also takes events stamped ahead of the clock when the feed
  saw them, and the profiles of a feed re-evaluation that failed. Cost: a
  profile with fresh events is re-evaluated by the feed and by about one check;
- those profiles re-evaluated with the restricted compiled query (the feed's
  path, ``reevaluate_computation``), in dependency order, together with every
  real-time computation referring to a re-evaluated one (for the candidates and
  for whoever changed on the way);
- a condition whose movement no event bounds, a trait compared with now
  (``within_last``, ``before_last``, ...), makes that computation (and what
  refers to it) re-evaluated in full at each check: documented fallback;
- ``window_check_time = now`` for all of them, in the same transaction as the
  re-evaluations (under a per-space advisory lock; a check finding the lock
  held skips the space, the next one resumes from the stored time). A worker
  outage is caught up from the stored time; a check run twice changes nothing
  (the diff against the members is empty the second time).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from engage import definitions
from engage.compute.sql import HORIZON, PAGE_EVENTS
from engage.compute.values import TIME_UNITS
from engage.definitions.schema import DURATION_CMPS
from engage.models import (
    Computation,
    ComputationKind,
    ComputationMode,
    Profile,
    ProfileEvent,
    RunStatus,
)
from engage.services import computation_runs

logger = logging.getLogger(__name__)

OVERLAP = dt.timedelta(seconds=30)
WINDOW_LOCK = 0x656E6777  # pg_advisory_xact_lock(WINDOW_LOCK, space_id): one check per space

EVENTS = ProfileEvent._meta.db_table
PROFILES = Profile._meta.db_table


@dataclass
class Edges:
    """Where a definition moves with time: event name -> the ages (window edges)
    at which its events enter or leave a window; ``full``: some condition moves
    with time in a way no event bounds (re-evaluate everyone)."""

    spans: dict[str, set[dt.timedelta]] = field(default_factory=dict)
    full: bool = False

    def add(self, name: str, *ages: dt.timedelta) -> None:
        self.spans.setdefault(name, set()).update(ages)

    @property
    def moves(self) -> bool:
        return self.full or bool(self.spans)


def _span(duration: Mapping[str, Any]) -> dt.timedelta:
    return dt.timedelta(hours=TIME_UNITS[str(duration["unit"])] * duration["value"])


def _window_edges(edges: Edges, name: str, window: object, *, child: bool) -> None:
    if not isinstance(window, Mapping):
        if not child:  # a funnel step without a window: any time after its parent
            edges.add(name, HORIZON)
        return
    if window.get("type") == "within":
        if window.get("relative_to", "now") == "parent":
            return  # moves only with the parent event, whose edges cover it
        edges.add(name, dt.timedelta(0), _span(window))
    elif window.get("type") == "between":
        edges.add(name, _span(window["start"]), _span(window["end"]))
    else:
        edges.full = True  # a window shape we do not know: stay correct


def edges(computation: Computation) -> Edges:
    """The time edges of a computation's definition (see the module docstring)."""
    definition = computation.definition
    found = Edges()
    if definition.get("type", "users") != "users":
        # Account level (batch only today): events reach accounts through links.
        found.full = True
        return found
    if computation.kind == ComputationKind.TRAIT:
        _window_edges(found, str(definition["event"]), definition.get("window"), child=False)
        return found
    for node, pointer in definitions.walk(definition):
        kind = node.get("kind")
        if kind == "event":
            child = "/where" in pointer
            _window_edges(found, str(node.get("event")), node.get("window"), child=child)
        elif kind == "trait" and node.get("cmp") in DURATION_CMPS:
            found.full = True
    return found


def _since(computation: Computation, last_as_of: dt.datetime | None) -> dt.datetime:
    """Where the computation's check resumes: its stored check, or the instant its
    last full run evaluated (whose members already hold every edge before it),
    whichever is later; minus ``OVERLAP``."""
    known = [t for t in (computation.window_check_time, last_as_of) if t is not None]
    start = max(known) if known else computation.last_success_time
    assert start is not None
    return start - OVERLAP


def candidates_sql(
    space_id: int, found: Edges, since: dt.datetime, now: dt.datetime
) -> tuple[str, dict[str, Any]]:
    """(sql, params) selecting ``profile_id`` of the space's events whose age
    crossed one of ``found``'s edges between ``since`` and ``now``."""
    params: dict[str, Any] = {"space_": space_id}
    parts: list[str] = []
    for name, ages in sorted(found.spans.items()):
        for age in sorted(ages):
            n = len(parts)
            params[f"name{n}_"] = name
            params[f"lo{n}_"] = since - age
            params[f"hi{n}_"] = now - age
            match = f"pe.event_name = %(name{n}_)s"
            if name in PAGE_EVENTS:  # the builder's Page/Screen Viewed: any page/screen call
                params[f"type{n}_"] = PAGE_EVENTS[name][0]
                match = f"({match} OR pe.type = %(type{n}_)s)"
            parts.append(
                f"SELECT pe.profile_id FROM {EVENTS} pe WHERE pe.space_id = %(space_)s "
                f"AND {match} AND pe.timestamp >= %(lo{n}_)s AND pe.timestamp < %(hi{n}_)s"
            )
    return " UNION ".join(parts), params


@dataclass
class SpaceCheck:
    space_id: int
    skipped: bool = False
    candidates: int = 0
    full: list[str] = field(default_factory=list)
    changed: dict[str, computation_runs.Diff] = field(default_factory=dict)


def check_windows(now: dt.datetime | None = None) -> list[SpaceCheck]:
    """One beat tick: every space with enabled real-time computations checked at
    ``now``. A space that fails is logged and left for the next tick (its stored
    check time did not move)."""
    moment = now or timezone.now()
    spaces = (
        Computation.objects.filter(
            enabled=True,
            compute_mode=ComputationMode.REALTIME,
            last_success_time__isnull=False,
        )
        .values_list("space_id", flat=True)
        .distinct()
        .order_by("space_id")
    )
    results = []
    for space_id in list(spaces):
        try:
            results.append(check_space(space_id, now=moment))
        except Exception:
            logger.exception("window check of space %s failed", space_id)
    return results


def check_space(space_id: int, *, now: dt.datetime) -> SpaceCheck:
    """The space's real-time computations at ``now`` (module docstring), in one
    transaction with their new ``window_check_time``."""
    result = SpaceCheck(space_id)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [WINDOW_LOCK, space_id])
            if not cursor.fetchone()[0]:
                result.skipped = True
                return result
        live = list(
            Computation.objects.filter(
                space_id=space_id,
                enabled=True,
                compute_mode=ComputationMode.REALTIME,
                last_success_time__isnull=False,
            ).annotate(last_as_of=Max("runs__as_of", filter=Q(runs__status=RunStatus.SUCCEEDED)))
        )
        plan = {c.pk: edges(c) for c in live}
        moving = [c for c in live if plan[c.pk].moves]
        if not moving:
            return result
        bounded = [c for c in moving if not plan[c.pk].full]
        touched = _candidates(space_id, bounded, plan, now)
        result.candidates = len(touched)
        full = {c.key for c in moving if plan[c.pk].full}
        affected = {c.key for c in moving}
        for c in computation_runs.dependency_order(live):
            refs = _refs(c)
            if refs & full:
                full.add(c.key)  # refers to one re-evaluated in full: so is it
            if refs & affected:
                affected.add(c.key)
            if c.key not in affected:
                continue
            if c.key in full:
                diff = computation_runs.reevaluate_computation(c.pk, None, None, now=now)
                result.full.append(c.key)
            elif touched:
                ids = sorted(touched)
                diff = computation_runs.reevaluate_computation(c.pk, ids, ids, now=now)
            else:
                continue
            if diff is not None and (diff.entered or diff.exited or diff.changed):
                result.changed[c.key] = diff
                touched.update(diff.entered, diff.exited, diff.changed)
        # Never moved back: a slower check of an earlier instant keeps the later one.
        Computation.objects.filter(pk__in=[c.pk for c in live if c.key in affected]).filter(
            Q(window_check_time__isnull=True) | Q(window_check_time__lt=now)
        ).update(window_check_time=now)
    return result


def _refs(computation: Computation) -> frozenset[str]:
    if computation.kind != ComputationKind.AUDIENCE:
        return frozenset()
    refs = definitions.references(computation.definition)
    return refs.audiences | refs.traits


def _candidates(
    space_id: int, bounded: Sequence[Computation], plan: Mapping[int, Edges], now: dt.datetime
) -> set[int]:
    """The canonical profiles whose events crossed an edge of these computations
    since each one's own last check."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    for i, c in enumerate(bounded):
        sql, own = candidates_sql(space_id, plan[c.pk], _since(c, c.last_as_of), now)  # type: ignore[attr-defined]
        parts.append(sql.replace("%(", f"%(c{i}_"))
        params.update({f"c{i}_{k}": v for k, v in own.items()})
    if not parts:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT coalesce(p.canonical_id, p.id) FROM ({' UNION '.join(parts)}) x "
            f"JOIN {PROFILES} p ON p.id = x.profile_id",
            params,
        )
        return {row[0] for row in cursor.fetchall()}
