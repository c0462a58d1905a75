"""Identity resolution applied to the database, a batch at a time.

``resolve_events(space, events)`` reads every identifier of the batch, takes a
transaction-level advisory lock per (space, collection, type, value) in sorted
order (so two workers resolving the same person serialize and can neither
create two profiles for one value nor lose a merge), locks the matched profile
rows, and then decides each event in order with the pure engine
(engage.identity) over an in-memory copy of that part of the graph. Writes go
out in bulk at the end of each chunk (engage.services.resolution_writes).

Idempotent: an event already attached (ProfileEvent is unique per space,
source and messageId) is skipped, so reprocessing a batch changes nothing.

Profiles Insights: every error and violation is logged; success logs record
what changes the graph (a profile created, identifiers added, a merge) and not
the plain "event added to a known profile", which would be nearly every event:
the log stays proportional to graph changes (the page shows 500 records).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from engage import identity
from engage.identity import ACCOUNTS, USERS, Action, Code, Identifier, ProfileView, Rule, Settings
from engage.models import (
    IdentifierSetting,
    IdentityLog,
    InsightKind,
    Profile,
    ProfileEvent,
    ProfileIdentifier,
    Space,
)
from engage.services import resolution_writes as writes
from engage.services.resolution_state import (
    UNWRITTEN,
    Attached,
    Graph,
    Log,
    Node,
    ProfileRow,
    trait_time,
)

CHUNK = 1000  # events per lock set (advisory locks share the server's lock table)
ATTEMPTS = 5
INTERNAL_SOURCE = 0  # messages with no source (CSV uploads: internal identify calls)


class ResolverEvent(NamedTuple):
    """An event store row as the resolver takes it. ``timestamp`` defaults to the
    payload's ``timestamp`` (else ``received_at``)."""

    event_id: int
    received_at: dt.datetime
    source_id: int
    message_id: str
    type: str
    event_name: str
    payload: Mapping[str, Any]
    timestamp: dt.datetime | None = None


@dataclass
class Outcome:
    """What a call did, in counts."""

    created: int = 0
    attached: int = 0
    merged: int = 0
    skipped: int = 0  # already attached (a replay), or a duplicate in the batch
    dropped: int = 0  # silent drops
    failed: int = 0  # errors logged (no identifiers, identify over 300 traits)

    def add(self, other: Outcome) -> None:
        for name in ("created", "attached", "merged", "skipped", "dropped", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class _Stale(Exception):
    """The graph moved between reading it and locking it: start the chunk again."""


class _Prepared(NamedTuple):
    event: ResolverEvent
    users: list[Identifier]
    accounts: list[Identifier]
    blocked: list[Identifier]
    timestamp: dt.datetime


# -- settings ---------------------------------------------------------------------------------


# A space's Settings, reused while its rows are unchanged: building one compiles
# every blocked pattern, and it remembers its blocked-value answers.
_SETTINGS: dict[int, tuple[tuple[Any, ...], Settings]] = {}
_SETTINGS_KEPT = 64


def load_settings(space: Space) -> Settings:
    rows = tuple(
        (type_, priority, limit, period, json.dumps(blocked, sort_keys=True))
        for type_, priority, limit, period, blocked in IdentifierSetting.objects.filter(space=space)
        .order_by("type")
        .values_list("type", "priority", "limit", "period", "blocked_values")
    )
    cached = _SETTINGS.get(space.pk)
    if cached is not None and cached[0] == rows:
        return cached[1]
    settings = Settings(
        Rule(type_, priority, limit, period, tuple(json.loads(blocked)))
        for type_, priority, limit, period, blocked in rows
    )
    if len(_SETTINGS) >= _SETTINGS_KEPT:
        _SETTINGS.clear()
    _SETTINGS[space.pk] = (rows, settings)
    return settings


def _add_types(space: Space, settings: Settings, types: Iterable[str]) -> Settings:
    """Types first seen in ``context.externalIds`` join the space's settings with
    the preset rule (ranked last, default limit and period), as the docs say."""
    names = sorted(set(types))
    if not names:
        return settings
    IdentifierSetting.objects.bulk_create(
        [
            IdentifierSetting(
                space=space,
                type=name,
                priority=settings.priority(name) + n,
                limit=settings.preset(name).limit,
                period=settings.preset(name).period,
                blocked_values=[],
                custom=True,
            )
            for n, name in enumerate(names)
        ],
        ignore_conflicts=True,
    )
    return load_settings(space)


# -- entry point ------------------------------------------------------------------------------


def _as_event(item: ResolverEvent | Mapping[str, Any], now: dt.datetime) -> ResolverEvent:
    if isinstance(item, ResolverEvent):
        return item
    return ResolverEvent(
        event_id=0,
        received_at=now,
        source_id=INTERNAL_SOURCE,
        message_id=str(item.get("messageId") or ""),
        type=str(item.get("type") or ""),
        event_name=str(item.get("event") or item.get("name") or ""),
        payload=item,
    )


def _timestamp(event: ResolverEvent) -> dt.datetime:
    if event.timestamp is not None:
        return event.timestamp
    raw = event.payload.get("timestamp")
    parsed = parse_datetime(raw) if isinstance(raw, str) else None
    if parsed is not None and parsed.tzinfo is not None:
        return parsed
    return event.received_at


def resolve_events(
    space: Space, events: Sequence[ResolverEvent | Mapping[str, Any]], *, chunk: int = CHUNK
) -> Outcome:
    """Resolve ``events`` (in order: the events of one person in message order)
    into ``space``'s identity graph. A plain message dict is an internal call
    (no source, no event store row): CSV uploads' identify calls."""
    now = timezone.now()
    settings = load_settings(space)
    outcome = Outcome()
    prepared: list[_Prepared] = []
    logs: list[Log] = []
    new_types: set[str] = set()
    seen: set[tuple[int, str]] = set()
    for item in events:
        event = _as_event(item, now)
        key = (event.source_id, event.message_id)
        if key in seen:
            outcome.skipped += 1
            continue
        seen.add(key)
        message = event.payload
        if identity.dropped(message):
            outcome.dropped += 1
            continue
        examined = identity.examine(message, settings)
        if examined.new_types:
            new_types.update(examined.new_types)
        found = examined.identifiers
        if all(i.collection == USERS for i in found):  # most messages: no account
            users, accounts = found, []
        else:
            users = [i for i in found if i.collection == USERS]
            accounts = [i for i in found if i.collection == ACCOUNTS]
        prepared.append(_Prepared(event, users, accounts, examined.blocked, _timestamp(event)))
    settings = _add_types(space, settings, new_types)
    for start in range(0, len(prepared), chunk):
        part = prepared[start : start + chunk]
        for attempt in range(ATTEMPTS):
            try:
                with transaction.atomic():
                    outcome.add(_resolve_chunk(space, settings, part, logs))
                break
            except _Stale:
                logs.clear()
                _forget(space, part)
                if attempt == ATTEMPTS - 1:
                    raise
    return outcome


# -- one chunk, under its locks ---------------------------------------------------------------


def _lock_key(space_id: int, identifier: Identifier) -> int:
    digest = hashlib.blake2b(
        f"{space_id}\x1f{identifier.collection}\x1f{identifier.type}\x1f{identifier.value}".encode(),
        digest_size=8,
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


# Lock keys of recent values (hashing one costs more than deciding its event).
_LOCK_KEYS: dict[tuple[int, Identifier], int] = {}
_LOCK_KEYS_KEPT = 200_000


def _lock_keys(space_id: int, identifiers: Iterable[Identifier]) -> list[int]:
    cache = _LOCK_KEYS
    keys: set[int] = set()
    for identifier in identifiers:
        key = cache.get((space_id, identifier))
        if key is None:
            if len(cache) >= _LOCK_KEYS_KEPT:
                cache.clear()
            key = cache[space_id, identifier] = _lock_key(space_id, identifier)
        keys.add(key)
    return sorted(keys)


def _lock(space: Space, identifiers: Iterable[Identifier]) -> None:
    """The chunk's advisory locks, and asynchronous commit (one round trip).

    Asynchronous commit: a crash can lose the last moments of resolution, but
    only together with the caller's record of having done it (the feed's queue
    row, the upload's progress are in the same transaction), and resolving
    again is idempotent. Waiting for the WAL flush of every batch would cost
    more than resolving it."""
    keys = _lock_keys(space.pk, identifiers)
    with connection.cursor() as cursor:
        # The array is sorted: every worker takes its locks in one global order.
        # set_config(..., true) is SET LOCAL.
        cursor.execute(
            "SELECT set_config('synchronous_commit', 'off', true), "
            "count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k",
            [writes.bigints(keys)],
        )


def _attached(space: Space, part: Sequence[_Prepared]) -> set[tuple[int, str]]:
    pairs = sorted({(p.event.source_id, p.event.message_id) for p in part})
    if not pairs:
        return set()
    table = ProfileEvent._meta.db_table
    with connection.cursor() as cursor:
        # One index probe per message, whatever the planner's statistics say
        # about a fast-growing table: a LIMIT in a LATERAL subquery cannot be
        # flattened into a join, which stale statistics (a space that grew since
        # the last ANALYZE) turned into hashing every event of the space.
        cursor.execute(
            "SELECT k.s, k.m FROM jsonb_to_recordset(%s::jsonb) AS k(s bigint, m text) "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT 1 FROM {table} e WHERE e.space_id = %s "
            "AND e.source_id = k.s AND e.message_id = k.m LIMIT 1) AS found",
            [writes.dumps([{"s": s, "m": m} for s, m in pairs]), space.pk],
        )
        return {(s, m) for s, m in cursor.fetchall()}


_Row = tuple[int, int, dt.datetime]  # identifier row id, profile id, last seen

# Known identifier rows per space, kept between calls of this process: most
# traffic comes from people seen before, and probing the unique key for each of
# their values was a tenth of the time. A remembered row is only a guess: the
# chunk locks the profile it names, and a value leaves a profile only when the
# profile is merged away (its canonical_id set) or deleted (its row gone), both
# of which _load sees on the locked row and answers with _Stale, which forgets
# the chunk's values and reads them again. Rows are remembered when the chunk's
# transaction commits (a rolled-back chunk's rows may never have existed).
_KNOWN: dict[int, dict[Identifier, _Row]] = {}
_KNOWN_PER_SPACE = 100_000  # values (a few hundred bytes each)
_KNOWN_SPACES = 8


def forget_known_identifiers() -> None:
    """Drop every remembered identifier row (the next chunks read them all)."""
    _KNOWN.clear()


def _forget(space: Space, part: Sequence[_Prepared]) -> None:
    known = _KNOWN.get(space.pk)
    if known:
        for item in part:
            for identifier in (*item.users, *item.accounts):
                known.pop(identifier, None)


def _remember(space_id: int, rows: dict[Identifier, _Row]) -> None:
    known = _KNOWN.get(space_id)
    if known is None or len(known) + len(rows) > _KNOWN_PER_SPACE:
        if len(_KNOWN) >= _KNOWN_SPACES:
            _KNOWN.clear()
        known = _KNOWN[space_id] = {}
    known.update(rows)


def _known_rows(graph: Graph) -> dict[Identifier, _Row]:
    """The graph's stored identifier rows as they are once the chunk is written
    (a merged profile's rows now belong to its survivor; the values the chunk
    added are among them)."""
    final, index = graph.final, graph.index
    rows: dict[Identifier, _Row] = {}
    for identifier, (pk, last_seen) in graph.rows.items():
        profile_id = final(index[identifier]).profile.pk
        if profile_id is not None:
            rows[identifier] = (pk, profile_id, last_seen)
    return rows


def _lookup(space: Space, identifiers: Sequence[Identifier]) -> dict[Identifier, _Row]:
    known = _KNOWN.get(space.pk, {})
    found: dict[Identifier, _Row] = {}
    missing: list[Identifier] = []
    for identifier in identifiers:
        row = known.get(identifier)
        if row is None:
            missing.append(identifier)
        else:
            found[identifier] = row
    if missing:
        found.update(_read_rows(space, missing))
    return found


def _read_rows(space: Space, identifiers: Sequence[Identifier]) -> dict[Identifier, _Row]:
    table = ProfileIdentifier._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            # Times as epoch seconds: parsing 1,000s of timestamps costs more than
            # the query. LATERAL ... LIMIT 1: one unique-key probe per value, as in
            # _attached, whatever the statistics.
            "SELECT k.c, k.t, k.v, i.id, i.profile_id, i.seen "  # noqa: S608
            "FROM jsonb_to_recordset(%s::jsonb) AS k(c text, t text, v text) "
            "CROSS JOIN LATERAL (SELECT id, profile_id, "
            f"extract(epoch FROM last_seen)::float8 AS seen FROM {table} "
            "WHERE space_id = %s AND collection = k.c AND type = k.t AND value = k.v "
            "LIMIT 1) AS i",
            [writes.dumps([{"c": c, "t": t, "v": v} for t, v, c in identifiers]), space.pk],
        )
        return {Identifier(t, v, c): (pk, pid, _time(seen)) for c, t, v, pk, pid, seen in cursor}


def _time(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def _needs(
    part: Sequence[_Prepared], owners: Mapping[Identifier, _Row]
) -> tuple[set[int], set[int]]:
    """The profiles whose every value the decisions may count (an event adds
    values to them or merges them), and those whose traits may change (those,
    or the profile of an identify or group call with traits). An event whose
    identifiers are all known and on one profile, most traffic, needs neither;
    and a profile can only gain a value or a merge through an event counted
    here, so no other profile changes beyond its last message."""
    values: set[int] = set()
    traits: set[int] = set()
    for item in part:
        for collection, identifiers in ((USERS, item.users), (ACCOUNTS, item.accounts)):
            # One plain loop: comprehensions cost more than one or two values.
            matched: set[int] = set()
            missing = False
            for identifier in identifiers:
                row = owners.get(identifier)
                if row is None:
                    missing = True
                else:
                    matched.add(row[1])
            if not matched:
                continue
            if missing or len(matched) > 1:
                values |= matched
            elif _takes_traits(item.event.type, collection):
                given = item.event.payload.get("traits")
                if type(given) is dict or isinstance(given, Mapping):
                    traits |= matched
    return values, values | traits


def _takes_traits(kind: str, collection: str) -> bool:
    return (kind, collection) in (("identify", USERS), ("group", ACCOUNTS))


# Not create_time and the first message: only a profile the chunk creates has
# them written (converting each locked row's time cost more than its decision).
_PROFILE_COLUMNS = (
    "id, canonical_id, segment_id, collection, merges, mappings, "
    "extract(epoch FROM update_time)::float8, last_message_id, last_source_id"
)


def _lock_profiles(ids: list[int], full: set[int]) -> list[tuple[ProfileRow, bool]]:
    """The profiles, row-locked in id order; traits only for ``full``. NO KEY
    UPDATE: resolvers still exclude each other, while the foreign-key checks of
    rows inserted for these profiles (their KEY SHARE locks) don't wait."""
    if not ids:
        return []
    table = Profile._meta.db_table
    wanted = sorted(full)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_PROFILE_COLUMNS}, "  # noqa: S608
            "CASE WHEN id = ANY(%s) THEN traits END, CASE WHEN id = ANY(%s) THEN trait_times END "
            f"FROM {table} WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
            [writes.bigints(wanted), writes.bigints(wanted), writes.bigints(ids)],
        )
        rows = cursor.fetchall()
    # Positional arguments, and for a profile the chunk only attaches events to
    # (most of them) no time to convert: such a row is never rewritten (it
    # gains no value, merge or trait; Graph.map and the trait setters assert
    # it), so its last message is not needed, and an update time no event
    # reaches keeps Node.touch from recording one.
    profiles: list[tuple[ProfileRow, bool]] = []
    for (
        pk,
        canonical,
        segment,
        collection,
        merges,
        mappings,
        updated,
        last,
        source,
        traits,
        times,
    ) in rows:
        if pk in full:
            row = ProfileRow(
                pk,
                segment,
                collection,
                merges,
                mappings,
                _time(updated),
                last,
                source,
                canonical,
                _json(traits),
                _json(times),
            )
            profiles.append((row, True))
        else:
            row = ProfileRow(
                pk, segment, collection, merges, mappings, UNWRITTEN, "", None, canonical
            )
            profiles.append((row, False))
    return profiles


def _json(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        value = json.loads(raw)
        return value if isinstance(value, dict) else {}
    return dict(raw) if isinstance(raw, Mapping) else {}


def _load(space: Space, part: Sequence[_Prepared], identifiers: Sequence[Identifier]) -> Graph:
    """The part of the graph the chunk touches, its profiles locked. Identifier
    values move between profiles only in a merge, which sets ``canonical`` on
    the profile they leave: a locked profile with ``canonical`` set means the
    lookup is stale (the values this chunk locked cannot gain a new owner)."""
    owners = _lookup(space, identifiers)
    ids = sorted({row[1] for row in owners.values()})
    need_values, need_traits = _needs(part, owners)
    profiles = _lock_profiles(ids, need_traits)
    if any(p.canonical_id is not None for p, _ in profiles) or len(profiles) != len(ids):
        raise _Stale
    graph = Graph(space)
    for profile, loaded in profiles:
        graph.add_existing(profile, loaded=loaded)
    for identifier, (pk, profile_id, last_seen) in owners.items():
        graph.add_identifier(pk, profile_id, identifier, last_seen)
    if need_values:
        rows = ProfileIdentifier.objects.filter(profile_id__in=sorted(need_values)).values_list(
            "pk", "profile_id", "collection", "type", "value", "last_seen"
        )
        for pk, profile_id, collection, type_, value, last_seen in rows:
            graph.add_identifier(pk, profile_id, Identifier(type_, value, collection), last_seen)
    return graph


def _resolve_chunk(
    space: Space, settings: Settings, part: Sequence[_Prepared], logs: list[Log]
) -> Outcome:
    outcome = Outcome()
    identifiers = list(dict.fromkeys(i for p in part for i in (*p.users, *p.accounts)))
    _lock(space, identifiers)
    attached = _attached(space, part)
    graph = _load(space, part, identifiers)
    sent, records = _known_events(graph, part, attached)
    events: list[Attached] = []
    with writes.events_inserted_meanwhile(space, records):
        for n, item in enumerate(part):
            event = item.event
            if n in sent:
                _attach_sent(graph, item, outcome)
            elif (event.source_id, event.message_id) in attached:
                outcome.skipped += 1
            else:
                _resolve_one(space, settings, graph, item, events, logs, outcome)
    writes.flush(space, graph, events, _logs_once(space, logs, events))
    rows = _known_rows(graph)
    transaction.on_commit(lambda: _remember(space.pk, rows))
    return outcome


def _resolve_one(
    space: Space,
    settings: Settings,
    graph: Graph,
    item: _Prepared,
    events: list[Attached],
    logs: list[Log],
    outcome: Outcome,
) -> None:
    event, message = item.event, item.event.payload
    when = event.received_at
    if _attach_known(graph, item, events, outcome):
        return

    def log(kind: str, code: str, text: str, node: Node | None, detail: dict[str, Any]) -> None:
        logs.append(
            Log(
                kind=kind,
                code=code,
                message=text[:500],
                message_id=event.message_id,
                source_id=event.source_id,
                segment_id=node.segment_id if node is not None else "",
                detail=detail,
                time=when,
            )
        )

    for blocked in item.blocked:
        log(
            InsightKind.VIOLATION,
            Code.BLOCKED,
            identity.MESSAGES[Code.BLOCKED],
            None,
            {"type": blocked.type, "value": blocked.value},
        )
    reason = identity.rejected(message)
    if reason is not None:
        outcome.failed += 1
        log(
            InsightKind.ERROR,
            Code.TOO_MANY_TRAITS,
            identity.MESSAGES[Code.TOO_MANY_TRAITS],
            None,
            {},
        )
        return
    user = account = None
    if item.users or not item.accounts:
        user = _apply(graph, settings, item, item.users, log, outcome)
    if item.accounts:
        account = _apply(graph, settings, item, item.accounts, log, outcome)
    if user is None and account is None:
        return
    traits = message.get("traits")
    if isinstance(traits, Mapping):
        if event.type == "identify" and user is not None:
            user.set_traits(traits, item.timestamp)
        elif event.type == "group" and account is not None:
            account.set_traits(traits, item.timestamp)
    if user is not None and account is not None:
        graph.link(user, account, event.source_id or None, when)
    owner = user if user is not None else account
    assert owner is not None
    owner.touch(event.message_id, event.source_id or None, when)
    if account is not None and account is not owner:
        account.touch(event.message_id, event.source_id or None, when)
    _record(graph, events, item, owner)


def _record(graph: Graph, events: list[Attached], item: _Prepared, owner: Node) -> None:
    event = item.event
    events.append(
        Attached(
            source_id=event.source_id,
            message_id=event.message_id,
            event_id=event.event_id,
            received_at=event.received_at,
            type=event.type[:16],
            event_name=event.event_name[:256],
            timestamp=item.timestamp,
        )
    )
    graph.event_owner.append(owner)


def _known_events(
    graph: Graph, part: Sequence[_Prepared], attached: set[tuple[int, str]]
) -> tuple[set[int], list[dict[str, Any]]]:
    """The events (positions in ``part``) :func:`_attach_known` will take, known
    right after loading (before any decision), with their ProfileEvent rows, so
    the rows can be written while the rest of the chunk is decided.

    An event whose values all belong to one profile as loaded keeps them on
    one profile whatever the chunk's earlier events do: a value leaves a
    profile only in a merge, which moves all of them to the survivor (and its
    events with them, in writes.flush's _move_merged). Such an event, a user's
    with no traits to set and nothing blocked, is attached by _attach_known."""
    index = graph.index
    sent: set[int] = set()
    records: list[dict[str, Any]] = []
    for n, item in enumerate(part):
        users = item.users
        if item.blocked or item.accounts or not users:
            continue
        event = item.event
        if event.type in ("identify", "group"):
            traits = event.payload.get("traits")
            if type(traits) is dict or isinstance(traits, Mapping):
                continue
        node = index.get(users[0])
        if node is None or node.new or any(index.get(i) is not node for i in users):
            continue
        if (event.source_id, event.message_id) in attached:
            continue
        profile_id = node.profile.pk
        assert profile_id is not None
        sent.add(n)
        records.append(
            writes.event_record(
                profile_id,
                event.source_id,
                event.message_id,
                event.event_id,
                event.received_at,
                event.type[:16],
                event.event_name[:256],
                item.timestamp,
            )
        )
    return sent, records


def _attach_sent(graph: Graph, item: _Prepared, outcome: Outcome) -> None:
    """_attach_known for an event of :func:`_known_events`, whose row is written."""
    event, when = item.event, item.event.received_at
    owner = graph.owner(item.users[0])
    assert owner is not None
    for identifier in item.users:  # each once (engage.identity.examine)
        graph.seen(identifier, when)
    owner.touch(event.message_id, event.source_id or None, when)
    outcome.attached += 1


def _attach_known(graph: Graph, item: _Prepared, events: list[Attached], outcome: Outcome) -> bool:
    """Most traffic, decided without the engine: a user's event with no traits to
    set and nothing blocked, whose identifiers are all known and on one profile.
    The engine would attach it and add nothing (engage.identity.decide's own
    first case); this skips building its decision and log closure."""
    event = item.event
    if item.blocked or item.accounts or not item.users:
        return False
    if event.type in ("identify", "group"):
        traits = event.payload.get("traits")
        if type(traits) is dict or isinstance(traits, Mapping):
            return False
    owner = graph.owner(item.users[0])
    if owner is None or any(graph.owner(i) is not owner for i in item.users):
        return False
    when = event.received_at
    for identifier in item.users:  # each once (engage.identity.examine)
        graph.seen(identifier, when)
    owner.touch(event.message_id, event.source_id or None, when)
    outcome.attached += 1
    _record(graph, events, item, owner)
    return True


def _apply(
    graph: Graph,
    settings: Settings,
    item: _Prepared,
    identifiers: Sequence[Identifier],
    log: Any,
    outcome: Outcome,
) -> Node | None:
    event, when = item.event, item.event.received_at
    matches: dict[Identifier, ProfileView] = {}
    for identifier in identifiers:
        node = graph.owner(identifier)
        if node is not None:
            matches[identifier] = node.view
    decision = identity.decide(identifiers, matches, settings, when)
    if decision.action is Action.NONE:
        outcome.failed += 1
        for violation in decision.violations:
            log(InsightKind.ERROR, violation.code, violation.message, None, violation.detail)
        return None
    collection = identifiers[0].collection
    if decision.action is Action.CREATE:
        node = graph.create(collection, when, event.message_id, event.source_id or None)
    else:
        assert decision.profile is not None
        node = graph.node(decision.profile)
    # Violations name the profile the event went to (a new one after a demotion).
    for violation in decision.violations:
        log(InsightKind.VIOLATION, violation.code, violation.message, node, violation.detail)
    if decision.action is Action.CREATE:
        outcome.created += 1
        log(InsightKind.SUCCESS, "profile_created", "Profile created", node, _values(decision.add))
    else:
        if decision.action is Action.MERGE:
            for other in decision.merged:
                merged = graph.node(other)
                graph.merge(merged, node, event.message_id, event.source_id or None, when)
                log(
                    InsightKind.SUCCESS,
                    "profiles_merged",
                    f"Profile {merged.segment_id} merged into {node.segment_id}",
                    node,
                    {"merged": merged.segment_id},
                )
            outcome.merged += 1
        else:
            outcome.attached += 1
        if decision.add:
            log(
                InsightKind.SUCCESS,
                "identifiers_added",
                "Identifiers added to profile",
                node,
                _values(decision.add),
            )
    for identifier in decision.add:
        graph.map(node, identifier, when, event.message_id, event.source_id or None)
    for identifier in decision.seen:
        graph.seen(identifier, when)
    return node


def _values(identifiers: Sequence[Identifier]) -> dict[str, Any]:
    return {"identifiers": [f"{i.type}:{i.value}" for i in identifiers]}


def _logs_once(space: Space, logs: list[Log], events: Sequence[Attached]) -> list[Log]:
    """A message that attached nothing (an error) is not remembered by a
    ProfileEvent, so a replay would log it again: keep only its logs not
    already written."""
    if not logs:
        return []
    pending = list(logs)
    logs.clear()
    attached = {(e.source_id, e.message_id) for e in events}
    loose = {(log.source_id, log.message_id) for log in pending} - attached
    if not loose:
        return pending
    done = set(
        IdentityLog.objects.filter(
            space=space, message_id__in=sorted({m for _, m in loose})
        ).values_list("source_id", "message_id", "code")
    )
    return [log for log in pending if (log.source_id, log.message_id, log.code) not in done]


__all__ = [
    "Outcome",
    "ResolverEvent",
    "forget_known_identifiers",
    "load_settings",
    "resolve_events",
    "trait_time",
]
