# ruff: noqa: S608 - the module writes SQL text from its own names and constants;
# every value is bound as a parameter (see the docstring).
"""Audience and computed-trait definitions (the JSON of engage.md §12.2) compiled
to one PostgreSQL query each: ``audience_members`` and ``trait_values``.

Shape of the SQL, so that it stays plain PostgreSQL over tables keyed by profile
id (and runs unchanged on Citus with profiles and events distributed by it):

- an event condition ANDed into the root ("at least once" / "zero times") is an
  EXISTS / NOT EXISTS correlated on the profile id: a semi or anti join, so the
  planner picks index probes or a hash of the events as for a hand-written
  query; any other (under or / not, other counts) is a CTE of (profile_id, n)
  grouped by the profile id (at account level by the account id through the
  user links), LEFT JOINed to the profiles: ``coalesce(n, 0)`` compared with
  the count, so "zero times" is true for a profile without such events; ANDed
  into the root with a count that 0 fails ("at least 2", "exactly 3"), the CTE
  keeps the passing profiles (HAVING) and is joined (an inner join the planner
  may start from);
- trait and audience conditions read ``Profile.traits`` (computed traits and
  audience memberships are written there as traits, Segment-style: an audience
  condition is ``traits -> key = true``);
- a funnel child ("and then did / did not") is a count over the same profile's
  events after the parent instance, correlated on the parent event row (the
  profile timeline index serves it);
- the event store's payload is joined (on id and received_at, so only those
  days' partitions are read) only when a condition reads a property: counting
  events by name, source and time needs only ``ProfileEvent``, so it still sees
  events the store's retention has dropped.

Every value goes in as a named parameter (``%(pN)s``): the SQL text holds only
our own table names, aliases and constants. Run it with Django's cursor:
``cursor.execute(sql, params)``; embed it as a subquery freely (parameter names
are ``p0``, ``p1``, ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connections.dataplane.event_store import events_table
from connections.models import Source
from engage.compute.values import (
    TIME_UNITS,
    CompileError,
    compare,
    compare_ref,
    duration,
    number,
    present,
    text,
)
from engage.models import Profile, ProfileEvent, ProfileIdentifier, ProfileLink, Space

__all__ = ["ELIGIBLE", "HORIZON", "CompileError", "audience_members", "trait_values"]

# Event conditions without a window look back this far (the docs' 3-year default).
HORIZON = dt.timedelta(days=3 * 365 + 1)
# Identifier types that make a profile eligible for an audience (engage.md §5.2).
ELIGIBLE = ("user_id", "email", "android.idfa", "ios.idfa")
ANONYMOUS = "anonymous_id"
ACCOUNT_ID = "group_id"
# Page and screen calls are the builder's "Page Viewed" / "Screen Viewed", their
# name the page_name / screen_name property.
PAGE_EVENTS = {"Page Viewed": ("page", "page_name"), "Screen Viewed": ("screen", "screen_name")}
_COUNT_OPS = {"gte": ">=", "eq": "=", "lte": "<="}

PROFILES = Profile._meta.db_table
EVENTS = ProfileEvent._meta.db_table
IDENTIFIERS = ProfileIdentifier._meta.db_table
LINKS = ProfileLink._meta.db_table
SPACES = Space._meta.db_table
SOURCES = Source._meta.db_table

Query = tuple[str, dict[str, Any]]


def audience_members(
    space_id: int,
    definition: Mapping[str, Any],
    now: dt.datetime,
    *,
    profile_ids: Sequence[int] | None = None,
    events_since: dt.datetime | None = None,
) -> Query:
    """(sql, params) selecting ``id`` of every canonical profile of the space's
    collection (``definition["type"]``: users or accounts) that satisfies
    ``definition["root"]`` at ``now`` and is eligible: it holds a ``user_id``,
    ``email``, ``android.idfa`` or ``ios.idfa`` (also ``anonymous_id`` with
    ``include_anonymous``); an account holds its ``group_id``. Ordered by id.
    ``profile_ids`` restricts the run to those profiles (the real-time
    re-evaluation of touched profiles); it should name canonical profiles.
    ``events_since`` (an audience created with ``include_historical`` false: its
    creation time) counts only events received (``received_at``, the event
    store's ingest time) at or after it, in every event condition and funnel
    step; trait and audience conditions read the profile as it is."""
    c = _Compiler(space_id, now)
    c.events_since = events_since
    level = _level(definition)
    top = _Scope(alias="p", level=level, restrict=c.restriction(level, profile_ids))
    condition = c.node(definition["root"], top, conjunct=True)
    if level == "accounts":
        types = [ACCOUNT_ID]
    else:
        types = [*ELIGIBLE, *([ANONYMOUS] if definition.get("include_anonymous") else [])]
    eligible = (
        f"EXISTS (SELECT 1 FROM {IDENTIFIERS} i WHERE i.profile_id = p.id "
        f"AND i.type = ANY({c.bind(types, 'text[]')}))"
    )
    where = [*c.profiles_where("p", level, profile_ids), eligible, condition]
    body = (
        f"SELECT p.id FROM {PROFILES} p {' '.join(top.joins)} "
        f"WHERE {' AND '.join(where)} ORDER BY p.id"
    )
    return c.finish(body)


def trait_values(
    space_id: int,
    definition: Mapping[str, Any],
    now: dt.datetime,
    *,
    profile_ids: Sequence[int] | None = None,
) -> Query:
    """(sql, params) selecting ``(profile_id, value jsonb)`` of a computed trait
    at ``now``, ordered by profile id, for the space's canonical profiles of the
    collection (``type``; account level runs over the events of every linked user).

    Event Counter and Unique List Count give every profile a row (0 without
    events: a window that empties sets the trait back to 0). The other kinds give
    rows only to profiles with a value; a profile without a row has none.
    - ``aggregation``: sum/avg/min/max of the numeric values (strings holding a
      number count; others are skipped);
    - ``most_frequent``: the value (as a string; arrays as their JSON text) seen
      at least ``min_frequency`` (2) times, ties to the first in byte order;
    - ``first`` / ``last``: the value at the earliest / latest event timestamp
      (then event id) among events where the property exists;
    - ``unique_list``: the distinct values as strings, in byte order
      (``COLLATE "C"``, the same on every server); ``unique_list_count`` their count."""
    c = _Compiler(space_id, now)
    level = _level(definition)
    kind = definition.get("kind")
    rows = c.event_rows(definition, level, c.restriction(level, profile_ids))
    o = rows.owner
    value = "" if kind == "event_counter" else c.property_value(rows.events, definition["property"])
    everyone = False
    if kind == "event_counter":
        inner = f"SELECT {o} AS profile_id, count(*) AS n {rows.sql()} GROUP BY {o}"
        out, everyone = "to_jsonb(coalesce(t.n, 0))", True
    elif kind == "unique_list_count":
        inner = (
            f"SELECT {o} AS profile_id, count(DISTINCT {text(value)}) AS n "
            f"{rows.sql(present(value))} GROUP BY {o}"
        )
        out, everyone = "to_jsonb(coalesce(t.n, 0))", True
    elif kind == "aggregation":
        agg = definition.get("aggregation")
        if agg not in ("sum", "avg", "min", "max"):
            raise CompileError(f"unknown aggregation {agg!r}")
        call = f"trim_scale(avg({number(value)}))" if agg == "avg" else f"{agg}({number(value)})"
        inner = (
            f"SELECT {o} AS profile_id, {call} AS v "
            f"{rows.sql(f'{number(value)} IS NOT NULL')} GROUP BY {o}"
        )
        out = "to_jsonb(t.v)"
    elif kind == "most_frequent":
        least = c.bind(int(definition.get("min_frequency") or 2), "bigint")
        inner = (
            f"SELECT DISTINCT ON (f.profile_id) f.profile_id, f.v FROM ("
            f"SELECT {o} AS profile_id, {text(value)} AS v, count(*) AS n "
            f"{rows.sql(present(value))} GROUP BY 1, 2 "
            f"HAVING count(*) >= {least}) f "
            f'ORDER BY f.profile_id, f.n DESC, f.v COLLATE "C"'
        )
        out = "to_jsonb(t.v)"
    elif kind in ("first", "last"):
        order = "ASC" if kind == "first" else "DESC"
        pe = rows.events.pe
        inner = (
            f"SELECT DISTINCT ON ({o}) {o} AS profile_id, {value} AS v "
            f"{rows.sql(present(value))} "
            f"ORDER BY {o}, {pe}.timestamp {order}, {pe}.id {order}"
        )
        out = "t.v"
    elif kind == "unique_list":
        inner = (
            f'SELECT u.profile_id, jsonb_agg(u.v ORDER BY u.v COLLATE "C") AS v FROM ('
            f"SELECT DISTINCT {o} AS profile_id, {text(value)} AS v "
            f"{rows.sql(present(value))}) u GROUP BY u.profile_id"
        )
        out = "t.v"
    else:
        raise CompileError(f"unknown computed trait kind {kind!r}")
    join = "LEFT JOIN" if everyone else "JOIN"
    where = c.profiles_where("p", level, profile_ids)
    body = (
        f"SELECT p.id AS profile_id, {out} AS value FROM {PROFILES} p "
        f"{join} ({inner}) t ON t.profile_id = p.id "
        f"WHERE {' AND '.join(where)} ORDER BY p.id"
    )
    return c.finish(body)


# -- the compiler --------------------------------------------------------------------------


def _level(definition: Mapping[str, Any]) -> str:
    level = definition.get("type", "users")
    if level not in ("users", "accounts"):
        raise CompileError(f"unknown definition type {level!r}")
    return str(level)


@dataclass
class _Scope:
    """Where a profile-level condition is evaluated: the profile row's alias, its
    collection, the joins its event conditions add, and how event rows are
    restricted to the profiles under evaluation (None: all of them)."""

    alias: str
    level: str
    restrict: Callable[[str], str] | None
    joins: list[str] = field(default_factory=list)


@dataclass
class _Events:
    """The rows of one event condition: the ProfileEvent alias, and the event
    store payload and owning profile, joined only if a condition asks for them."""

    pe: str
    name: str
    payload_alias: str
    owner_alias: str
    parent: _Events | None = None
    needs_payload: bool = False
    needs_owner: bool = False

    def payload(self) -> str:
        self.needs_payload = True
        return self.payload_alias

    def owner(self) -> str:
        self.needs_owner = True
        return self.owner_alias

    def joins(self) -> str:
        out = ""
        if self.needs_payload:
            e = self.payload_alias
            out += (
                f" JOIN {events_table()} {e} ON {e}.id = {self.pe}.event_id "
                f"AND {e}.received_at = {self.pe}.received_at"
            )
        if self.needs_owner:
            o = self.owner_alias
            out += f" JOIN {PROFILES} {o} ON {o}.id = {self.pe}.profile_id"
        return out


@dataclass
class _Rows:
    """``FROM ... WHERE ...`` of an event condition, grouped later by ``owner``.
    The joins are written when ``sql`` is called, after every expression over the
    rows was compiled (they decide whether the payload is needed)."""

    events: _Events
    owner: str
    source: str
    conditions: list[str]

    def sql(self, *extra: str) -> str:
        return (
            f"FROM {self.source}{self.events.joins()} "
            f"WHERE {' AND '.join([*self.conditions, *extra])}"
        )


class _Compiler:
    def __init__(self, space_id: int, now: dt.datetime) -> None:
        if now.tzinfo is None:
            raise CompileError("now must be timezone-aware (UTC)")
        self.params: dict[str, Any] = {}
        self.ctes: list[str] = []
        self.aliases = 0
        self.now = now
        self.events_since: dt.datetime | None = None
        self.space = self.bind(space_id, "bigint")

    def bind(self, value: Any, cast: str = "") -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s" + (f"::{cast}" if cast else "")

    def alias(self, prefix: str) -> str:
        self.aliases += 1
        return f"{prefix}{self.aliases}"

    def finish(self, body: str) -> Query:
        sql = f"WITH {', '.join(self.ctes)} {body}" if self.ctes else body
        return sql, self.params

    def profiles_where(self, p: str, level: str, profile_ids: Sequence[int] | None) -> list[str]:
        where = [
            f"{p}.space_id = {self.space}",
            f"{p}.collection = {self.bind(level)}",
            f"{p}.canonical_id IS NULL",
        ]
        if profile_ids is not None:
            where.append(f"{p}.id = ANY({self.bind(list(profile_ids), 'bigint[]')})")
        return where

    def restriction(
        self, level: str, profile_ids: Sequence[int] | None
    ) -> Callable[[str], str] | None:
        if profile_ids is None:
            return None
        ids = self.bind(list(profile_ids), "bigint[]")
        return lambda column: f"{column} = ANY({ids})"

    # -- audience nodes (profile level) --

    def node(self, node: Mapping[str, Any], scope: _Scope, conjunct: bool = False) -> str:
        """``conjunct``: the condition is ANDed into its query's WHERE (the root and
        its and-chains). There an "at least once" event condition is an EXISTS and
        "zero times" a NOT EXISTS, which PostgreSQL turns into a semi or anti join
        and so may probe the profile timeline index for the few profiles the other
        conditions leave, or hash the events, whichever is cheaper, as a
        hand-written query would. Elsewhere (under or / not) it is the grouped
        CTE: one pass over the events whatever the tree."""
        op = node.get("op")
        if op in ("and", "or"):
            args = node.get("args") or []
            if not args:
                raise CompileError(f"{op} needs at least one argument")
            inner = conjunct and op == "and"
            joined = f" {op.upper()} ".join(self.node(a, scope, inner) for a in args)
            return f"({joined})"
        if op == "not":
            arg = node["arg"]
            if conjunct and arg.get("kind") == "event" and _at_least_once(arg):
                return f"(NOT {self.event_exists(arg, scope)})"
            return f"(NOT {self.node(arg, scope)})"
        if op in ("any", "all", "none"):
            return self.quantified(op, node["arg"], scope)
        kind = node.get("kind")
        if kind == "event":
            if conjunct and _at_least_once(node):
                return self.event_exists(node, scope)
            if conjunct and _never(node):
                return f"(NOT {self.event_exists(node, scope)})"
            return self.event_condition(node, scope, inner=conjunct and _needs_events(node))
        if kind == "trait":
            v = f"{scope.alias}.traits #> {self.bind(_path(node['trait']), 'text[]')}"
            return self.comparison(
                v, node["cmp"], node.get("value"), scope_alias=scope.alias, total=not conjunct
            )
        if kind == "audience":
            member = (
                f"{scope.alias}.traits -> {self.bind(str(node['audience_key']))} = 'true'::jsonb"
            )
            if node.get("member", True):
                return member if conjunct else f"coalesce({member}, false)"
            return f"(NOT coalesce({member}, false))"
        raise CompileError(f"unknown condition {node!r}")

    def quantified(self, op: str, arg: Mapping[str, Any], scope: _Scope) -> str:
        """A user-level condition over an account's linked (canonical) users. An
        account without users: any = false, none = true, all = true (vacuously:
        all = none of the users fail it)."""
        if scope.level != "accounts":
            raise CompileError(f"{op} applies only to account audiences")
        u, link = self.alias("u"), self.alias("l")
        restrict: Callable[[str], str] | None = None
        if scope.restrict is not None:
            accounts, lr = scope.restrict(f"{link}r.account_id"), f"{link}r"

            def restrict(column: str) -> str:
                return f"{column} IN (SELECT {lr}.user_id FROM {LINKS} {lr} WHERE {accounts})"

        inner = _Scope(alias=u, level="users", restrict=restrict)
        # any / none AND the condition into the users' query; all negates it.
        condition = self.node(arg, inner, conjunct=op != "all")
        base = (
            f"SELECT 1 FROM {LINKS} {link} JOIN {PROFILES} {u} ON {u}.id = {link}.user_id "
            f"{' '.join(inner.joins)} "
            f"WHERE {link}.account_id = {scope.alias}.id AND {u}.canonical_id IS NULL"
        )
        if op == "any":
            return f"EXISTS ({base} AND {condition})"
        if op == "all":
            return f"(NOT EXISTS ({base} AND NOT {condition}))"
        return f"(NOT EXISTS ({base} AND {condition}))"

    def event_condition(self, node: Mapping[str, Any], scope: _Scope, inner: bool = False) -> str:
        """The grouped CTE of (profile_id, n), LEFT JOINed (a profile without such
        events counts 0). ``inner``: the condition is ANDed into the WHERE and
        false at 0 ("at least 2", "exactly 3"): the CTE keeps only the profiles
        that pass (HAVING) and is joined, so the planner may start from those few
        profiles and fetch them by id, as a hand-written query would, instead of
        reading every profile of the space to keep the LEFT JOIN's."""
        rows = self.event_rows(node, scope.level, scope.restrict)
        cte = self.alias("c")
        having = f" HAVING {self.count_check('count(*)', node)}" if inner else ""
        self.ctes.append(
            f"{cte} AS (SELECT {rows.owner} AS profile_id, count(*) AS n "
            f"{rows.sql()} GROUP BY {rows.owner}{having})"
        )
        if inner:
            scope.joins.append(f"JOIN {cte} ON {cte}.profile_id = {scope.alias}.id")
            return "TRUE"
        scope.joins.append(f"LEFT JOIN {cte} ON {cte}.profile_id = {scope.alias}.id")
        return self.count_check(f"coalesce({cte}.n, 0)", node)

    def event_exists(self, node: Mapping[str, Any], scope: _Scope) -> str:
        """The profile has at least one of the condition's events (correlated on
        the profile id, so restricting the profiles restricts the events read)."""
        rows = self.event_rows(node, scope.level, None)
        return f"EXISTS (SELECT 1 {rows.sql(f'{rows.owner} = {scope.alias}.id')})"

    def count_check(self, n: str, node: Mapping[str, Any]) -> str:
        count = node.get("count") or {"cmp": "gte", "value": 1}
        if count.get("cmp") not in _COUNT_OPS:
            raise CompileError(f"unknown count comparison {count!r}")
        return f"{n} {_COUNT_OPS[count['cmp']]} {self.bind(int(count['value']), 'bigint')}"

    # -- event rows --

    def event_rows(
        self, node: Mapping[str, Any], level: str, restrict: Callable[[str], str] | None
    ) -> _Rows:
        """The events of an event condition (name, window, sources, ``where``),
        owned by the user (``pe.profile_id``) or, at account level, by each account
        the user is linked to."""
        events = self.new_events(str(node["event"]))
        pe = events.pe
        if level == "users":
            owner, source = f"{pe}.profile_id", f"{EVENTS} {pe}"
            conditions = [f"{pe}.space_id = {self.space}"]
        else:
            link = self.alias("l")
            owner = f"{link}.account_id"
            source = f"{LINKS} {link} JOIN {EVENTS} {pe} ON {pe}.profile_id = {link}.user_id"
            conditions = [f"{link}.space_id = {self.space}"]
        conditions.extend(self.event_filter(node, events))
        if restrict is not None:
            conditions.append(restrict(owner))
        return _Rows(events, owner, source, conditions)

    def new_events(self, name: str, parent: _Events | None = None) -> _Events:
        return _Events(
            pe=self.alias("pe"),
            name=name,
            payload_alias=self.alias("e"),
            owner_alias=self.alias("o"),
            parent=parent,
        )

    def event_filter(self, node: Mapping[str, Any], events: _Events) -> list[str]:
        pe = events.pe
        name = events.name
        if name in PAGE_EVENTS:
            kind = PAGE_EVENTS[name][0]
            conditions = [
                f"({pe}.type = {self.bind(kind)} OR "
                f"({pe}.type = 'track' AND {pe}.event_name = {self.bind(name)}))"
            ]
        else:
            conditions = [f"{pe}.type = 'track'", f"{pe}.event_name = {self.bind(name)}"]
        conditions.extend(self.window(node.get("window"), events))
        if self.events_since is not None:
            conditions.append(f"{pe}.received_at >= {self.bind(self.events_since, 'timestamptz')}")
        excluded = node.get("exclude_sources") or []
        if excluded:
            conditions.append(f"{pe}.source_id <> ALL({self.sources(excluded)})")
        where = node.get("where")
        if where:
            conditions.append(self.pnode(where, events, conjunct=True))
        return conditions

    def sources(self, names: Sequence[Any]) -> str:
        """Source ids as an array: integers are source ids, strings source slugs
        (the API's names) in the space's workspace."""
        ids = [int(n) for n in names if isinstance(n, int) and not isinstance(n, bool)]
        slugs = [str(n) for n in names if isinstance(n, str)]
        by_slug = (
            f"ARRAY(SELECT s.id FROM {SOURCES} s JOIN {SPACES} sp "
            f"ON sp.workspace_id = s.workspace_id "
            f"WHERE sp.id = {self.space} AND s.slug = ANY({self.bind(slugs, 'text[]')}))"
        )
        return f"({self.bind(ids, 'bigint[]')} || {by_slug})"

    def window(self, window: Mapping[str, Any] | None, events: _Events) -> list[str]:
        ts = f"{events.pe}.timestamp"
        if window is None:
            if events.parent is not None:
                # A child event without a window: any time after the parent instance.
                return [f"{ts} > {events.parent.pe}.timestamp"]
            return [f"{ts} >= {self.bind(self.now - HORIZON, 'timestamptz')}"]
        if window.get("type") == "within":
            span = _span(window)
            if window.get("relative_to", "now") == "parent":
                if events.parent is None:
                    raise CompileError("a parent-relative window outside a funnel")
                parent = f"{events.parent.pe}.timestamp"
                return [f"{ts} > {parent}", f"{ts} <= {parent} + {self.bind(span, 'interval')}"]
            return [
                f"{ts} >= {self.bind(self.now - span, 'timestamptz')}",
                f"{ts} <= {self.bind(self.now, 'timestamptz')}",
            ]
        if window.get("type") == "between":
            near, far = sorted((_span(window["start"]), _span(window["end"])))
            return [
                f"{ts} >= {self.bind(self.now - far, 'timestamptz')}",
                f"{ts} <= {self.bind(self.now - near, 'timestamptz')}",
            ]
        raise CompileError(f"unknown window {window!r}")

    # -- property conditions (PNODE) --

    def pnode(self, node: Mapping[str, Any], events: _Events, conjunct: bool = False) -> str:
        op = node.get("op")
        if op in ("and", "or"):
            args = node.get("args") or []
            if not args:
                raise CompileError(f"{op} needs at least one argument")
            inner = conjunct and op == "and"
            joined = f" {op.upper()} ".join(self.pnode(a, events, inner) for a in args)
            return f"({joined})"
        if op == "not":
            return f"(NOT {self.pnode(node['arg'], events)})"
        kind = node.get("kind")
        if kind == "property":
            v = self.property_value(events, node["path"])
        elif kind == "context":
            path = self.bind(["context", *_path(node["path"])], "text[]")
            v = f"({events.payload()}.payload #> {path})"
        elif kind == "event":
            return self.child_event(node, events)
        else:
            raise CompileError(f"unknown property condition {node!r}")
        return self.comparison(v, node["cmp"], node.get("value"), events=events, total=not conjunct)

    def property_value(self, events: _Events, path: str) -> str:
        e = events.payload()
        segments = _path(path)
        located = f"({e}.payload #> {self.bind(['properties', *segments], 'text[]')})"
        page = PAGE_EVENTS.get(events.name)
        if page is not None and segments == [page[1]]:
            # A page/screen call's name is its page_name/screen_name property.
            return (
                f"(CASE WHEN {events.pe}.type = {self.bind(page[0])} "
                f"THEN {e}.payload -> 'name' ELSE {located} END)"
            )
        return located

    def child_event(self, node: Mapping[str, Any], parent: _Events) -> str:
        """A funnel step: for the parent event row, the same profile's events
        matching the child (after the parent, within its window) counted; "did"
        once and "did not" are (NOT) EXISTS, which stop at the first match."""
        child = self.new_events(str(node["event"]), parent)
        conditions = self.event_filter(node, child)
        rows = (
            f"FROM {EVENTS} {child.pe}{child.joins()} "
            f"WHERE {child.pe}.profile_id = {parent.pe}.profile_id AND {' AND '.join(conditions)}"
        )
        if _at_least_once(node):
            return f"EXISTS (SELECT 1 {rows})"
        if _never(node):
            return f"(NOT EXISTS (SELECT 1 {rows}))"
        return f"({self.count_check(f'(SELECT count(*) {rows})', node)})"

    # -- comparisons --

    def comparison(
        self,
        v: str,
        cmp: str,
        value: Any,
        *,
        events: _Events | None = None,
        scope_alias: str | None = None,
        total: bool = True,
    ) -> str:
        if isinstance(value, dict) and "ref" in value:
            return compare_ref(v, cmp, self.reference(value, events, scope_alias))
        return compare(v, cmp, value, self.bind, self.now, total=total)

    def reference(
        self, ref: Mapping[str, Any], events: _Events | None, scope_alias: str | None
    ) -> str:
        if ref["ref"] == "trait":
            path = self.bind(_path(ref["name"]), "text[]")
            owner = events.owner() if events is not None else scope_alias
            return f"({owner}.traits #> {path})"
        if ref["ref"] == "parent_property":
            if events is None or events.parent is None:
                raise CompileError("a parent property reference outside a funnel child")
            return self.property_value(events.parent, ref["path"])
        raise CompileError(f"unknown reference {ref!r}")


def _count(node: Mapping[str, Any]) -> tuple[str, int]:
    count = node.get("count") or {"cmp": "gte", "value": 1}
    return str(count.get("cmp")), int(count.get("value", 1))


def _at_least_once(node: Mapping[str, Any]) -> bool:
    return _count(node) == ("gte", 1)


def _never(node: Mapping[str, Any]) -> bool:
    return _count(node) in (("eq", 0), ("lte", 0))


def _needs_events(node: Mapping[str, Any]) -> bool:
    """The count condition is false for a profile without such events."""
    cmp, value = _count(node)
    return (cmp == "gte" and value >= 1) or (cmp == "eq" and value >= 1)


def _path(path: str) -> list[str]:
    segments = str(path).split(".")
    if not all(segments):
        raise CompileError(f"not a property path: {path!r}")
    return segments


def _span(window: Mapping[str, Any]) -> dt.timedelta:
    if window.get("unit") not in TIME_UNITS:
        raise CompileError(f"unknown time unit in {window!r}")
    return duration({"value": window.get("value"), "unit": window["unit"]})
