"""Writing a resolution chunk's changes in bulk: new profiles, identifier values,
merges (the merged profile's identifiers, events and account links move to the
survivor; it keeps its row with ``canonical`` set), events, links and logs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from django.db import IntegrityError, connection, transaction

from engage.identity import Identifier
from engage.models import (
    IdentityLog,
    Profile,
    ProfileEvent,
    ProfileIdentifier,
    ProfileLink,
    ProfileMerge,
    Space,
)
from engage.services.resolution_state import Attached, Graph, Log, Node, ProfileRow


def dumps(value: Any) -> str:
    """JSON for a statement's parameter: orjson (several times faster on the
    thousands of records a chunk writes), json where orjson refuses a value
    (an integer beyond 64 bits in a trait)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def bigints(values: Iterable[int]) -> str:
    """An array literal for ``%s::bigint[]``: psycopg quotes a list's elements one
    by one in Python, which costs more than the statement that reads them."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def flush(space: Space, graph: Graph, events: Sequence[Attached], logs: Sequence[Log]) -> None:
    final = graph.final
    nodes = list(graph.nodes.values())
    _insert_profiles(space, [n.profile for n in nodes if n.new])
    for node in nodes:
        if node.canonical is not None:
            node.profile.canonical_id = final(node).profile.pk
    # The rest in pipeline mode: statements go out without waiting for each
    # other, one round trip per result read (the identifiers' ids, the ORM's
    # bulk inserts) instead of one per statement.
    with pipelined():
        _update_profiles(
            [n.profile for n in nodes if n.changed and (not n.new or n.canonical is not None)]
        )
        _move_merged(graph)
        _touch_seen(graph)
        links: dict[tuple[int, int], ProfileLink] = {}
        for user, account, source_id, when in graph.links.values():
            u, a = final(user), final(account)
            links.setdefault(
                (_pk(u), _pk(a)),
                ProfileLink(
                    space=space,
                    user_id=_pk(u),
                    account_id=_pk(a),
                    source_id=source_id,
                    create_time=when,
                ),
            )
        if links:
            ProfileLink.objects.bulk_create(list(links.values()), ignore_conflicts=True)
        _insert_events(space, events, [_pk(final(owner)) for owner in graph.event_owner])
        _insert_identifiers(space, graph)
        if graph.merges:
            ProfileMerge.objects.bulk_create(
                [
                    ProfileMerge(
                        space=space,
                        merged_id=_pk(merged),
                        into_id=_pk(into),
                        message_id=message_id[:128],
                        source_id=source_id,
                        time=when,
                    )
                    for merged, into, message_id, source_id, when in graph.merges
                ]
            )
        _insert_logs(space, logs)


@contextmanager
def pipelined() -> Iterator[None]:
    """The block's statements in psycopg's pipeline mode: each is sent without
    waiting for the one before; reading a result waits for everything sent
    (errors are raised there, or on leaving the block, as Django's: the feed
    retries on its OperationalError, a deadlock or a lost connection)."""
    assert connection.connection is not None
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def _pk(node: Node) -> int:
    pk = node.profile.pk
    assert pk is not None, "a profile written before it was inserted"
    return pk


def _move_merged(graph: Graph) -> None:
    """Rows of profiles that existed before the chunk and were merged in it move
    to the survivor (rows of profiles created in the chunk are written with
    their survivor already): one statement per table for all the chunk's merges."""
    moves = [
        {"o": _pk(node), "s": _pk(graph.final(node))}
        for node in graph.nodes.values()
        if node.canonical is not None and not node.new
    ]
    if not moves:
        return
    # Arrays, not a JSON recordset: the planner sees how many profiles move (a
    # recordset is always "100 rows") and reads their rows by index, where it
    # would otherwise hash the whole events table.
    # The ANY condition too: an index scan of the moved profiles' rows even when
    # the join alone was planned as a hash over the table.
    olds = bigints(m["o"] for m in moves)
    mapping = [olds, bigints(m["s"] for m in moves)]
    moved = "unnest(%s::bigint[], %s::bigint[]) AS m(o, s)"
    profiles = Profile._meta.db_table
    identifiers = ProfileIdentifier._meta.db_table
    events = ProfileEvent._meta.db_table
    links = ProfileLink._meta.db_table
    with connection.cursor() as cursor:
        for table, column in (
            (identifiers, "profile_id"),
            (events, "profile_id"),
            (profiles, "canonical_id"),
        ):
            # canonical_id: earlier merges into a profile merged now follow it.
            cursor.execute(
                f"UPDATE {table} AS t SET {column} = m.s FROM {moved} "  # noqa: S608
                f"WHERE t.{column} = m.o AND t.{column} = ANY(%s::bigint[])",
                [*mapping, olds],
            )
        for side, other in (("user_id", "account_id"), ("account_id", "user_id")):
            cursor.execute(
                f"INSERT INTO {links} (space_id, {side}, {other}, source_id, create_time) "  # noqa: S608
                f"SELECT l.space_id, m.s, l.{other}, l.source_id, l.create_time "
                f"FROM {links} l JOIN {moved} ON l.{side} = m.o ON CONFLICT DO NOTHING",
                mapping,
            )
            cursor.execute(
                f"DELETE FROM {links} AS l USING {moved} WHERE l.{side} = m.o",  # noqa: S608
                mapping,
            )


def _insert_profiles(space: Space, profiles: Sequence[ProfileRow]) -> None:
    """The chunk's new profiles in one statement, their ids matched back by
    segment id (unique)."""
    if not profiles:
        return
    table = Profile._meta.db_table
    records = [
        {
            "g": p.segment_id,
            "c": p.collection,
            "t": dumps(p.traits),
            "tt": dumps(p.trait_times),
            "mg": p.merges,
            "mp": p.mappings,
            "ct": _created(p),
            "ut": p.update_time.timestamp(),
            "fm": p.first_message_id,
            "fs": p.first_source_id,
            "lm": p.last_message_id,
            "ls": p.last_source_id,
        }
        for p in profiles
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (space_id, segment_id, collection, traits, trait_times, "  # noqa: S608
            "merges, mappings, create_time, update_time, first_message_id, first_source_id, "
            "last_message_id, last_source_id) "
            "SELECT %s, g, c, t::jsonb, tt::jsonb, mg, mp, to_timestamp(ct), to_timestamp(ut), "
            "fm, fs, lm, ls FROM jsonb_to_recordset(%s::jsonb) AS x(g text, c text, t text, "
            "tt text, mg int, mp int, ct float8, ut float8, fm text, fs bigint, lm text, "
            "ls bigint) RETURNING segment_id, id",
            [space.pk, dumps(records)],
        )
        ids = dict(cursor.fetchall())
    for profile in profiles:
        profile.pk = ids[profile.segment_id]


def _created(profile: ProfileRow) -> float:
    assert profile.create_time is not None, "a new profile without its creation time"
    return profile.create_time.timestamp()


def _insert_identifiers(space: Space, graph: Graph) -> None:
    """The chunk's new values, then known to the graph as stored rows (so the
    resolver remembers them once the chunk commits: a new person's next events
    follow soon, and need not look their values up again)."""
    if not graph.added:
        return
    table = ProfileIdentifier._meta.db_table
    records = [
        {
            "c": identifier.collection,
            "t": identifier.type,
            "v": identifier.value,
            "p": _pk(graph.final(node)),
            "s": source_id,
            "m": message_id[:128],
            "w": when.timestamp(),
        }
        for identifier, node, when, message_id, source_id in graph.added
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (space_id, collection, type, value, profile_id, source_id, "  # noqa: S608
            "first_message_id, first_seen, last_seen) "
            "SELECT %s, c, t, v, p, s, m, to_timestamp(w), to_timestamp(w) "
            "FROM jsonb_to_recordset(%s::jsonb) "
            "AS x(c text, t text, v text, p bigint, s bigint, m text, w float8) "
            "RETURNING collection, type, value, id",
            [space.pk, dumps(records)],
        )
        ids = {Identifier(t, v, c): pk for c, t, v, pk in cursor.fetchall()}
    for identifier, _, when, _, _ in graph.added:
        # The time as stored (to_timestamp of the epoch), as a lookup reads it.
        stored = dt.datetime.fromtimestamp(when.timestamp(), dt.UTC)
        graph.rows[identifier] = (ids[identifier], stored)


def _insert_logs(space: Space, logs: Sequence[Log]) -> None:
    """The chunk's logs in one statement (the ORM's bulk_create compiles every
    field of every row, and the ids it returns would make the pipeline wait)."""
    if not logs:
        return
    records = [
        {
            "k": log.kind,
            "c": log.code,
            "m": log.message,
            "i": log.message_id,
            "s": log.source_id,
            "g": log.segment_id,
            "d": log.detail,
            # ISO text, not epoch seconds: a float would round the microseconds.
            "t": log.time.isoformat(),
        }
        for log in logs
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {IdentityLog._meta.db_table} (space_id, kind, code, message, "  # noqa: S608
            "message_id, source_id, segment_id, detail, time) "
            "SELECT %s, k, c, m, i, s, g, d, t FROM jsonb_to_recordset(%s::jsonb) "
            "AS x(k text, c text, m text, i text, s bigint, g text, d jsonb, t timestamptz)",
            [space.pk, dumps(records)],
        )


_INSERT_EVENTS = (
    "INSERT INTO {table} (space_id, profile_id, source_id, message_id, event_id, "
    "received_at, type, event_name, timestamp) "
    "SELECT %s, p, s, m, e, to_timestamp(r), t, n, to_timestamp(ts) "
    "FROM jsonb_to_recordset(%s::jsonb) "
    "AS x(p bigint, s bigint, m text, e bigint, r float8, t text, n text, ts float8)"
    " ON CONFLICT DO NOTHING"
)
_ON_CONFLICT = " ON CONFLICT DO NOTHING"


def event_record(
    profile_id: int,
    source_id: int,
    message_id: str,
    event_id: int,
    received_at: dt.datetime,
    type_: str,
    event_name: str,
    timestamp: dt.datetime,
) -> dict[str, Any]:
    """A ProfileEvent row as the insert statements take it (times as epoch seconds)."""
    return {
        "p": profile_id,
        "s": source_id,
        "m": message_id,
        "e": event_id,
        "r": received_at.timestamp(),
        "t": type_,
        "n": event_name,
        "ts": timestamp.timestamp(),
    }


def _insert_events(space: Space, events: Sequence[Attached], owners: list[int]) -> None:
    """The chunk's events in one statement (the ORM's bulk_create compiles every
    field of every row); a message attached meanwhile is left as it is."""
    if not events:
        return
    records = [
        event_record(
            owner,
            e.source_id,
            e.message_id,
            e.event_id,
            e.received_at,
            e.type,
            e.event_name,
            e.timestamp,
        )
        for e, owner in zip(events, owners, strict=True)
    ]
    with connection.cursor() as cursor:
        # One JSON document (times as epoch seconds): psycopg would quote array
        # elements one by one in Python.
        cursor.execute(
            _INSERT_EVENTS.format(table=ProfileEvent._meta.db_table), [space.pk, dumps(records)]
        )


@contextmanager
def events_inserted_meanwhile(space: Space, records: Sequence[dict[str, Any]]) -> Iterator[None]:
    """Insert ``records`` (from :func:`event_record`) while the block runs: the
    statement goes out in pipeline mode, and PostgreSQL writes the rows (the
    chunk's costliest statement) while this process decides the chunk's other
    events. The block must not use the connection; leaving it waits for the
    statement (and raises its error).

    A plain insert, in a savepoint: ON CONFLICT's speculative insertion costs
    each row a third more, for a conflict that needs another worker attaching
    the same message at the same moment (the chunk skipped those already
    attached, under its locks). If one did, the rows go in again with ON
    CONFLICT DO NOTHING, so that message's row is left as it is."""
    if not records:
        yield
        return
    sql = _INSERT_EVENTS.format(table=ProfileEvent._meta.db_table)
    params: list[Any] = [space.pk, dumps(records)]
    decided = False
    try:
        with transaction.atomic(), connection.cursor() as cursor, pipelined():
            cursor.execute(sql.removesuffix(_ON_CONFLICT), params)
            yield
            decided = True
    except IntegrityError:
        if not decided:  # the block's own error, not the insert's
            raise
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _update_profiles(profiles: Sequence[ProfileRow]) -> None:
    """One statement for every changed profile (Django's bulk_update builds a
    CASE per field and row, which costs more than resolving the events)."""
    if not profiles:
        return
    table = Profile._meta.db_table
    records = [
        {
            "i": p.pk,
            "t": dumps(p.traits),
            "tt": dumps(p.trait_times),
            "mg": p.merges,
            "mp": p.mappings,
            "c": p.canonical_id,
            "u": p.update_time.timestamp(),
            "lm": p.last_message_id,
            "ls": p.last_source_id,
        }
        for p in profiles
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS p SET traits = u.t::jsonb, trait_times = u.tt::jsonb, "  # noqa: S608
            "merges = u.mg, mappings = u.mp, canonical_id = u.c, "
            "update_time = to_timestamp(u.u), last_message_id = u.lm, last_source_id = u.ls "
            "FROM jsonb_to_recordset(%s::jsonb) AS u(i bigint, t text, tt text, mg int, "
            "mp int, c bigint, u float8, lm text, ls bigint) WHERE p.id = u.i",
            [dumps(records)],
        )


def _touch_seen(graph: Graph) -> None:
    if not graph.seen_rows:
        return
    table = ProfileIdentifier._meta.db_table
    pks = list(graph.seen_rows)
    with connection.cursor() as cursor:
        cursor.execute(
            # GREATEST: the time read may be one this process remembered (the
            # resolver's cache of known rows) while another worker moved it on.
            f"UPDATE {table} AS i SET last_seen = GREATEST(i.last_seen, to_timestamp(s.t)) "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::float8[]) AS s(id, t) WHERE i.id = s.id",
            [
                bigints(pks),
                "{" + ",".join(repr(graph.seen_rows[pk].timestamp()) for pk in pks) + "}",
            ],
        )


__all__ = ["Node", "flush"]
