"""The part of a space's identity graph one resolution chunk works on, in memory:
the locked profiles, their identifier values, and what the chunk changed
(written out in bulk by engage.services.resolution_writes)."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from engage.identity import Identifier, ProfileView
from engage.models import Space

ALPHABET = string.ascii_letters + string.digits
PREFIXES = {"users": "use_", "accounts": "acc_"}
# A value's last-seen time is rewritten only when it moved this much: sliding
# limits count in days, and a write per known identifier per event would cost
# more than resolving the event.
SEEN_GRAIN = dt.timedelta(hours=1)
# The update time of a profile read without its traits: later than any event,
# so Node.touch records no message on a row the chunk never rewrites.
UNWRITTEN = dt.datetime.max.replace(tzinfo=dt.UTC)


_SPAN = len(ALPHABET) ** 27


def segment_id(collection: str) -> str:
    """A prefix and 27 random characters of ALPHABET (about 160 bits), drawn as one
    number below 62**27 (27 calls to secrets.choice cost more than resolving the
    event that creates the profile)."""
    while (number := secrets.randbits(161)) >= _SPAN:
        continue
    digits = []
    for _ in range(27):
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    return PREFIXES.get(collection, "use_") + "".join(digits)


def trait_time(when: dt.datetime) -> str:
    """Fixed-width UTC ISO-8601, so trait times compare as strings."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Attached(NamedTuple):
    """An event to attach (a ProfileEvent row once its profile is known)."""

    source_id: int
    message_id: str
    event_id: int
    received_at: dt.datetime
    type: str
    event_name: str
    timestamp: dt.datetime


class Log(NamedTuple):
    """An IdentityLog row to write (a model instance per log cost more than the
    decision it records; engage.services.resolution_writes inserts them)."""

    kind: str
    code: str
    message: str
    message_id: str
    source_id: int
    segment_id: str
    detail: dict[str, Any]
    time: dt.datetime


@dataclass(slots=True, eq=False)
class ProfileRow:
    """A profile's columns as the resolver works on them (a model instance per
    profile costs more than the decision about it)."""

    pk: int | None  # None until a profile created in the chunk is inserted
    segment_id: str
    collection: str
    merges: int
    mappings: int
    update_time: dt.datetime
    last_message_id: str = ""
    last_source_id: int | None = None
    canonical_id: int | None = None
    traits: dict[str, Any] = field(default_factory=dict)
    trait_times: dict[str, str] = field(default_factory=dict)
    # Written only when the chunk creates the profile: a stored profile's are
    # never rewritten, so they are not read (None and empty then).
    create_time: dt.datetime | None = None
    first_message_id: str = ""
    first_source_id: int | None = None


@dataclass(eq=False, slots=True)
class Node:
    profile: ProfileRow
    view: ProfileView
    new: bool = False
    # Traits are read only for the profiles the chunk may change them on.
    loaded: bool = True
    # Traits, identifiers, counters or canonical changed: the row is rewritten. An
    # event that only attaches leaves the row alone (the profile's latest message
    # is read from its events), so most traffic writes no profile row at all.
    changed: bool = False
    canonical: Node | None = None

    @property
    def segment_id(self) -> str:
        return self.profile.segment_id

    @property
    def collection(self) -> str:
        return self.profile.collection

    def set_traits(self, traits: Mapping[str, Any], when: dt.datetime) -> None:
        """Last updated wins per key, by the message's timestamp."""
        assert self.loaded, "traits set on a profile read without them"
        stamp = trait_time(when)
        current, times = self.profile.traits, self.profile.trait_times
        for key, value in traits.items():
            if times.get(key, "") <= stamp:
                current[key] = value
                times[key] = stamp
                self.changed = True

    def absorb_traits(self, other: Node) -> None:
        """A merge keeps, per key, the newest value of the two profiles."""
        assert self.loaded and other.loaded, "merge of a profile read without its traits"
        current, times = self.profile.traits, self.profile.trait_times
        for key, value in other.profile.traits.items():
            stamp = other.profile.trait_times.get(key, "")
            if key not in current or stamp > times.get(key, ""):
                current[key] = value
                times[key] = stamp

    def touch(self, message_id: str, source_id: int | None, when: dt.datetime) -> None:
        """The latest message, written with the row if the chunk changes it."""
        profile = self.profile
        if when >= profile.update_time:
            profile.update_time = when
            profile.last_message_id = message_id[:128]
            profile.last_source_id = source_id


@dataclass
class Graph:
    space: Space
    nodes: dict[int, Node] = field(default_factory=dict)  # by view key
    index: dict[Identifier, Node] = field(default_factory=dict)
    # Stored identifier rows (id, last seen): those read, and once the chunk is
    # written, those it inserted.
    rows: dict[Identifier, tuple[int, dt.datetime]] = field(default_factory=dict)
    by_pk: dict[int, Node] = field(default_factory=dict)
    added: list[tuple[Identifier, Node, dt.datetime, str, int | None]] = field(default_factory=list)
    seen_rows: dict[int, dt.datetime] = field(default_factory=dict)
    merges: list[tuple[Node, Node, str, int | None, dt.datetime]] = field(default_factory=list)
    links: dict[tuple[int, int], tuple[Node, Node, int | None, dt.datetime]] = field(
        default_factory=dict
    )
    event_owner: list[Node] = field(default_factory=list)
    _keys: itertools.count[int] = field(default_factory=itertools.count)

    def _node(self, profile: ProfileRow, new: bool, loaded: bool = True) -> Node:
        # Positional arguments: this runs for each of the chunk's ~1,000 profiles.
        key = next(self._keys)
        node = Node(profile, ProfileView(key, {}, profile.merges, profile.mappings), new, loaded)
        self.nodes[key] = node
        return node

    def add_existing(self, profile: ProfileRow, *, loaded: bool = True) -> None:
        assert profile.pk is not None
        self.by_pk[profile.pk] = self._node(profile, False, loaded)

    def add_identifier(
        self, pk: int, profile_id: int, identifier: Identifier, last_seen: dt.datetime
    ) -> None:
        node = self.by_pk[profile_id]
        node.view.values.setdefault(identifier.type, {})[identifier.value] = last_seen
        self.index[identifier] = node
        self.rows[identifier] = (pk, last_seen)

    def owner(self, identifier: Identifier) -> Node | None:
        return self.index.get(identifier)

    def node(self, view: ProfileView) -> Node:
        return self.nodes[view.key]  # type: ignore[index]

    def create(
        self, collection: str, when: dt.datetime, message_id: str, source_id: int | None
    ) -> Node:
        profile = ProfileRow(
            pk=None,
            segment_id=segment_id(collection),
            collection=collection,
            merges=0,
            mappings=0,
            create_time=when,
            update_time=when,
            first_message_id=message_id[:128],
            first_source_id=source_id,
            last_message_id=message_id[:128],
            last_source_id=source_id,
        )
        return self._node(profile, new=True)

    def map(
        self,
        node: Node,
        identifier: Identifier,
        when: dt.datetime,
        message_id: str,
        source_id: int | None,
    ) -> None:
        assert node.loaded, "identifier added to a profile read without its traits"
        node.view.values.setdefault(identifier.type, {})[identifier.value] = when
        node.view.mappings += 1
        node.profile.mappings = node.view.mappings
        node.changed = True
        self.index[identifier] = node
        self.added.append((identifier, node, when, message_id, source_id))

    def seen(self, identifier: Identifier, when: dt.datetime) -> None:
        node = self.index[identifier]
        values = node.view.values[identifier.type]
        if values[identifier.value] >= when:
            return
        values[identifier.value] = when
        row = self.rows.get(identifier)
        if row is not None and when - row[1] >= SEEN_GRAIN:
            self.seen_rows[row[0]] = when
            self.rows[identifier] = (row[0], when)

    def merge(
        self,
        merged: Node,
        into: Node,
        message_id: str,
        source_id: int | None,
        when: dt.datetime,
    ) -> None:
        for type_, values in merged.view.values.items():
            mine = into.view.values.setdefault(type_, {})
            for value, last_seen in values.items():
                mine[value] = max(last_seen, mine.get(value, last_seen))
                self.index[Identifier(type_, value, merged.collection)] = into
        merged.view.values = {}
        into.view.merges += merged.view.merges + 1
        into.view.mappings += merged.view.mappings
        into.profile.merges, into.profile.mappings = into.view.merges, into.view.mappings
        into.absorb_traits(merged)
        merged.canonical = into
        merged.changed = into.changed = True
        self.merges.append((merged, into, message_id, source_id, when))

    def link(self, user: Node, account: Node, source_id: int | None, when: dt.datetime) -> None:
        key = (id(user), id(account))
        if key not in self.links:
            self.links[key] = (user, account, source_id, when)

    @staticmethod
    def final(node: Node) -> Node:
        while node.canonical is not None:
            node = node.canonical
        return node
