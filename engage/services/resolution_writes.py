"""Writing a resolution chunk's changes in bulk: new profiles, identifier values,
merges (the merged profile's identifiers, events and account links move to the
survivor; it keeps its row with ``canonical`` set), events, links and logs."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection

from engage.models import (
    IdentityLog,
    Profile,
    ProfileEvent,
    ProfileIdentifier,
    ProfileLink,
    ProfileMerge,
    Space,
)
from engage.services.resolution_state import Attached, Graph, Node, ProfileRow


def flush(
    space: Space, graph: Graph, events: Sequence[Attached], logs: Sequence[IdentityLog]
) -> None:
    final = graph.final
    nodes = list(graph.nodes.values())
    created = [n for n in nodes if n.new]
    models = Profile.objects.bulk_create([n.profile.model(space) for n in created])
    for node, model in zip(created, models, strict=True):
        node.profile.pk = model.pk
    for node in nodes:
        if node.canonical is not None:
            node.profile.canonical_id = final(node).profile.pk
    saved = [n for n in nodes if n.dirty and (not n.new or n.canonical is not None)]
    _update_profiles([n.profile for n in saved if n.changed])
    _touch_profiles([n.profile for n in saved if not n.changed])
    _move_merged(graph)
    if graph.added:
        ProfileIdentifier.objects.bulk_create(
            [
                ProfileIdentifier(
                    space=space,
                    collection=identifier.collection,
                    type=identifier.type,
                    value=identifier.value,
                    profile_id=_pk(final(node)),
                    source_id=source_id,
                    first_message_id=message_id[:128],
                    first_seen=when,
                    last_seen=when,
                )
                for identifier, node, when, message_id, source_id in graph.added
            ]
        )
    _touch_seen(graph)
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
    if logs:
        IdentityLog.objects.bulk_create(list(logs))


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
    mapping = json.dumps(moves)
    moved = "jsonb_to_recordset(%s::jsonb) AS m(o bigint, s bigint)"
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
                f"UPDATE {table} AS t SET {column} = m.s FROM {moved} WHERE t.{column} = m.o",  # noqa: S608
                [mapping],
            )
        for side, other in (("user_id", "account_id"), ("account_id", "user_id")):
            cursor.execute(
                f"INSERT INTO {links} (space_id, {side}, {other}, source_id, create_time) "  # noqa: S608
                f"SELECT l.space_id, m.s, l.{other}, l.source_id, l.create_time "
                f"FROM {links} l JOIN {moved} ON l.{side} = m.o ON CONFLICT DO NOTHING",
                [mapping],
            )
            cursor.execute(
                f"DELETE FROM {links} AS l USING {moved} WHERE l.{side} = m.o",  # noqa: S608
                [mapping],
            )


def _insert_events(space: Space, events: Sequence[Attached], owners: list[int]) -> None:
    """The chunk's events in one statement (the ORM's bulk_create compiles every
    field of every row); a message attached meanwhile is left as it is."""
    if not events:
        return
    table = ProfileEvent._meta.db_table
    records = [
        {
            "p": owner,
            "s": e.source_id,
            "m": e.message_id,
            "e": e.event_id,
            "r": e.received_at.timestamp(),
            "t": e.type,
            "n": e.event_name,
            "ts": e.timestamp.timestamp(),
        }
        for e, owner in zip(events, owners, strict=True)
    ]
    with connection.cursor() as cursor:
        # One JSON document (times as epoch seconds): psycopg would quote array
        # elements one by one in Python.
        cursor.execute(
            f"INSERT INTO {table} (space_id, profile_id, source_id, message_id, event_id, "  # noqa: S608
            "received_at, type, event_name, timestamp) "
            "SELECT %s, p, s, m, e, to_timestamp(r), t, n, to_timestamp(ts) "
            "FROM jsonb_to_recordset(%s::jsonb) "
            "AS x(p bigint, s bigint, m text, e bigint, r float8, t text, n text, ts float8) "
            "ON CONFLICT DO NOTHING",
            [space.pk, json.dumps(records)],
        )


def _update_profiles(profiles: Sequence[ProfileRow]) -> None:
    """One statement for every changed profile (Django's bulk_update builds a
    CASE per field and row, which costs more than resolving the events)."""
    if not profiles:
        return
    table = Profile._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS p SET traits = u.traits::jsonb, "  # noqa: S608
            "trait_times = u.trait_times::jsonb, merges = u.merges, mappings = u.mappings, "
            "canonical_id = u.canonical, update_time = u.update_time, "
            "last_message_id = u.last_message_id, last_source_id = u.last_source_id "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::int[], %s::int[], "
            "%s::bigint[], %s::timestamptz[], %s::text[], %s::bigint[]) "
            "AS u(id, traits, trait_times, merges, mappings, canonical, update_time, "
            "last_message_id, last_source_id) WHERE p.id = u.id",
            [
                [p.pk for p in profiles],
                [json.dumps(p.traits) for p in profiles],
                [json.dumps(p.trait_times) for p in profiles],
                [p.merges for p in profiles],
                [p.mappings for p in profiles],
                [p.canonical_id for p in profiles],
                [p.update_time for p in profiles],
                [p.last_message_id for p in profiles],
                [p.last_source_id for p in profiles],
            ],
        )


def _touch_profiles(profiles: Sequence[ProfileRow]) -> None:
    """Profiles that only took events: their last message and update time."""
    if not profiles:
        return
    table = Profile._meta.db_table
    records = [
        {
            "i": p.pk,
            "u": p.update_time.timestamp(),
            "m": p.last_message_id,
            "s": p.last_source_id,
        }
        for p in profiles
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS p SET update_time = to_timestamp(x.u), last_message_id = x.m, "  # noqa: S608
            "last_source_id = x.s FROM jsonb_to_recordset(%s::jsonb) "
            "AS x(i bigint, u float8, m text, s bigint) WHERE p.id = x.i",
            [json.dumps(records)],
        )


def _touch_seen(graph: Graph) -> None:
    if not graph.seen_rows:
        return
    table = ProfileIdentifier._meta.db_table
    pks = list(graph.seen_rows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS i SET last_seen = s.t "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS s(id, t) WHERE i.id = s.id",
            [pks, [graph.seen_rows[pk] for pk in pks]],
        )


__all__ = ["Node", "flush"]
