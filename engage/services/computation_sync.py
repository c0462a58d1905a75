"""Sending audiences and computed traits to connected event destinations (issue 15,
engage.md §5.8): the documented Identify / Track payloads, one per identifier value,
handed to the connections delivery pipeline.

Plain data in, plain data out: the callers (a compute run's sync step, the connect
destination service) own the audience and trait models; this module only needs a
``ComputationRef``, the destination's ``SyncSettings``, the profiles' ``Change``\\ s
and their identifiers (``load_identifiers``).

- Which profiles: after a run, only what changed (``audience_changes``,
  ``trait_changes``: audience entries and exits; trait values that differ). On
  the first sync of a computation, or to a newly connected destination (the
  documented backfill), every current member / value (``initial_changes``).
- Payloads, per profile (``build_messages``): Identify ``traits{<key>: true|false}``
  and/or Track ``Audience Entered`` / ``Audience Exited`` with
  ``properties{audience_key, <key>}``; for a trait Identify ``traits{<key>: value}``
  and/or Track ``Trait Computed`` with ``properties{trait_key, <key>}``. Event names
  come from the settings. Always ``context.personas`` (computation_class,
  computation_id, computation_key = the key, namespace = space_id = the space's
  ``spa_`` id) and ``integrations{"All": false, <catalog name>: true}``.
- Fan-out, one call per identifier value (§5.8 "Fan-out"):

  * every ``user_id`` value: ``userId`` = that value;
  * every ``email`` value: the profile's carrier id (below), with the email in
    ``traits.email`` (Identify) or ``context.traits.email`` (Track);
  * every ``anonymous_id`` value, only when the destination includes anonymous
    users: ``anonymousId`` = that value (and ``userId`` = the carrier user id when
    the profile has one, as Segment's calls after an identify carry both).

  The carrier of the email calls is ``userId`` = the profile's first ``user_id``
  (earliest seen) when it has one, else ``anonymousId`` = its first
  ``anonymous_id``, else ``anonymousId`` = its ``segment_id`` (a Spec message
  needs one of the two ids; an email-only profile from a CSV upload has neither).
  Other identifier types (mobile ids, custom ones) are not sent: that is ID Sync
  and "Send Mobile IDs", not built.
- ``messageId``: ``"engage-"`` + a SHA-256 of (run, destination, computation,
  profile, identifier, call, event name), so a retried sync makes the same ids and
  the pipeline's 24-hour messageId dedupe stores each call once. The destination
  is part of it because two destinations behind one source get different
  messages (their ``integrations``) and must not dedupe each other.
- Delivery (``send``): the messages are stored for the source the destinations are
  connected to, through ``connections.dataplane.ingest.ingest_for_source`` (the
  Tracking API's statement: event store, messageId dedupe, the delivery outbox), so
  they are delivered like any event of that source: the destination's filters and
  mappings, retries with backoff, recorded outcomes and counters. Other
  destinations of that source see them "Filtered at destination" by the
  ``integrations`` object, as in Segment. The integrations object names a catalog
  destination, not an instance: ``send`` refuses (``AmbiguousDestination``) when
  another enabled destination of the same catalog type on that source would get
  the messages too. Segment's rule is the same: connect audiences to destination
  instances whose source is the Engage space's own, not a Connections source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from connections import catalog
from connections.dataplane.delivery.deliver import integrations_allow
from connections.dataplane.ingest import Ingested, ingest_for_source
from connections.dataplane.tracking import validation
from connections.models import Destination
from engage.models import Profile, ProfileIdentifier, Space

AUDIENCE = "audience"
TRAIT = "trait"

# The identifier types that get a call of their own (§5.8 fan-out); the rest are ID Sync's.
USER_ID = "user_id"
EMAIL = "email"
ANONYMOUS_ID = "anonymous_id"
SEGMENT_ID = "segment_id"  # not an identifier: the carrier of last resort (load_identifiers)

# Messages stored per ingest statement (the Tracking API's batch limit).
SEND_CHUNK = validation.BATCH_EVENTS_LIMIT


@dataclass(frozen=True)
class ComputationRef:
    kind: Literal["audience", "trait"]
    key_id: str  # aud_... / tra_...
    key: str  # the snake_cased key on profiles: first_time_shopper
    space_key_id: str  # spa_...


@dataclass(frozen=True)
class SyncSettings:
    """One destination connected to an audience or trait, and its toggles."""

    destination_id: int
    send_identify: bool = True
    send_track: bool = False
    entered_event: str = "Audience Entered"
    exited_event: str = "Audience Exited"
    trait_event: str = "Trait Computed"
    include_anonymous: bool = False


@dataclass(frozen=True)
class Change:
    """A profile whose audience membership (``new`` True/False) or trait value changed.
    ``old`` is None on a first sync (nothing was sent before)."""

    profile_id: int
    old: Any
    new: Any


class AmbiguousDestination(ValueError):
    """The integrations object could not keep the messages from a destination that is
    not connected to the computation."""


# --- which profiles ----------------------------------------------------------------------


def audience_changes(entered: Iterable[int], exited: Iterable[int]) -> list[Change]:
    """A run's entries and exits, in profile order (exits first when both, which a
    caller should not pass)."""
    changes = [Change(pid, True, False) for pid in exited]
    changes += [Change(pid, False, True) for pid in entered]
    return sorted(changes, key=lambda c: c.profile_id)


def trait_changes(old: Mapping[int, Any], new: Mapping[int, Any]) -> list[Change]:
    """Only the values that changed (§5.8: "only when the value changed"); a profile
    that lost its value (no longer in ``new``) gets ``None``."""
    changes = [
        Change(pid, old.get(pid), value) for pid, value in new.items() if old.get(pid) != value
    ]
    changes += [Change(pid, value, None) for pid, value in old.items() if pid not in new]
    return sorted(changes, key=lambda c: c.profile_id)


def initial_changes(
    ref: ComputationRef, current: Iterable[int] | Mapping[int, Any]
) -> list[Change]:
    """The first sync, or the backfill of a newly connected destination: every
    current member entered (``current``: the member profile ids) or every current
    value (``current``: {profile id: value}). Send them to that destination only;
    the other destinations keep getting only changes."""
    if ref.kind == AUDIENCE:
        return [Change(pid, None, True) for pid in sorted(current)]
    if not isinstance(current, Mapping):
        raise TypeError("a trait's first sync needs {profile id: value}")
    return [Change(pid, None, current[pid]) for pid in sorted(current) if current[pid] is not None]


# --- identifiers -------------------------------------------------------------------------


def load_identifiers(space_id: int, profile_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """{profile id: [(type, value), ...]}: the profiles' ``user_id``, ``email`` and
    ``anonymous_id`` values, earliest seen first, then ``("segment_id", ...)`` (the
    carrier for profiles without a user or anonymous id). Two queries."""
    ids = sorted(set(profile_ids))
    found: dict[int, list[tuple[str, str]]] = {pid: [] for pid in ids}
    rows = (
        ProfileIdentifier.objects.filter(
            space_id=space_id, profile_id__in=ids, type__in=(USER_ID, EMAIL, ANONYMOUS_ID)
        )
        .order_by("profile_id", "first_seen", "id")
        .values_list("profile_id", "type", "value")
    )
    for pid, kind, value in rows:
        found[pid].append((kind, value))
    for pid, segment_id in Profile.objects.filter(space_id=space_id, pk__in=ids).values_list(
        "pk", "segment_id"
    ):
        found[pid].append((SEGMENT_ID, segment_id))
    return {pid: values for pid, values in found.items() if values}


# --- payloads ----------------------------------------------------------------------------


def destination_name(destination: Destination) -> str:
    """The key naming it in an ``integrations`` object: its catalog name, as delivery
    matches it (``connections.dataplane.delivery.deliver.integrations_allow``)."""
    definition = catalog.destination(destination.definition)
    return definition.name if definition is not None else destination.definition


def personas(ref: ComputationRef) -> dict[str, str]:
    return {
        "computation_class": ref.kind,
        "computation_id": ref.key_id,
        "computation_key": ref.key,
        "namespace": ref.space_key_id,
        "space_id": ref.space_key_id,
    }


def message_id(
    run_id: str,
    destination_id: int,
    ref: ComputationRef,
    profile_id: int,
    identifier: tuple[str, str],
    call: str,
    event: str,
) -> str:
    parts = (run_id, str(destination_id), ref.key_id, str(profile_id), *identifier, call, event)
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"engage-{digest[:48]}"


def _calls(
    identifiers: Sequence[tuple[str, str]], include_anonymous: bool
) -> list[tuple[tuple[str, str], dict[str, str], str | None]]:
    """(identifier, the ids of its call, its email or None), in the order sent."""
    users = [v for t, v in identifiers if t == USER_ID]
    anonymous = [v for t, v in identifiers if t == ANONYMOUS_ID]
    emails = [v for t, v in identifiers if t == EMAIL]
    segment_ids = [v for t, v in identifiers if t == SEGMENT_ID]
    if users:
        carrier = {"userId": users[0]}
    elif anonymous:
        carrier = {"anonymousId": anonymous[0]}
    elif segment_ids:
        carrier = {"anonymousId": segment_ids[0]}
    else:
        carrier = {}
    calls: list[tuple[tuple[str, str], dict[str, str], str | None]] = []
    calls += [((USER_ID, u), {"userId": u}, None) for u in users]
    if carrier:
        calls += [((EMAIL, e), carrier, e) for e in emails]
    if include_anonymous:
        with_user = {"userId": users[0]} if users else {}
        calls += [((ANONYMOUS_ID, a), {**with_user, "anonymousId": a}, None) for a in anonymous]
    return calls


def _plain(value: Any) -> Any:
    """A value as JSON carries it: SQL aggregates over numeric properties come back as
    ``Decimal`` (sum, avg, min, max), which a Spec message cannot hold; they become
    floats, always (a trait whose type changed with its value would break typed
    columns downstream), as the docs' ``450.00``."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def build_messages(
    ref: ComputationRef,
    settings: SyncSettings,
    change: Change,
    identifiers: Sequence[tuple[str, str]],
    *,
    integration: str,
    run_id: str,
    timestamp: dt.datetime,
) -> list[dict[str, Any]]:
    """The calls for one profile's change at one destination (``integration``: its
    ``destination_name``). ``run_id`` names the compute run (or the backfill) so a
    retried sync repeats its messageIds; ``timestamp`` is when the change was computed."""
    key = ref.key
    value = _plain(change.new)
    identify: dict[str, Any] = {key: value}
    if ref.kind == AUDIENCE:
        value = bool(value)
        identify = {key: value}
        event = settings.entered_event if value else settings.exited_event
        properties: dict[str, Any] = {"audience_key": key, key: value}
    else:
        event = settings.trait_event
        properties = {"trait_key": key, key: value}
    stamp = validation.iso(timestamp)
    integrations = {"All": False, integration: True}
    messages: list[dict[str, Any]] = []
    for identifier, ids, email in _calls(identifiers, settings.include_anonymous):
        calls: list[tuple[str, str]] = []
        if settings.send_identify:
            calls.append(("identify", ""))
        if settings.send_track:
            calls.append(("track", event))
        for call, name in calls:
            message: dict[str, Any] = {
                "messageId": message_id(
                    run_id, settings.destination_id, ref, change.profile_id, identifier, call, name
                ),
                "timestamp": stamp,
                "type": call,
                **ids,
            }
            context: dict[str, Any] = {"personas": personas(ref)}
            if call == "identify":
                message["traits"] = {**identify, "email": email} if email else dict(identify)
            else:
                message["event"] = name
                message["properties"] = dict(properties)
                if email:
                    context["traits"] = {"email": email}
            message["context"] = context
            message["integrations"] = dict(integrations)
            messages.append(message)
    return messages


def messages_for(
    ref: ComputationRef,
    settings: SyncSettings,
    changes: Iterable[Change],
    identifiers: Mapping[int, Sequence[tuple[str, str]]],
    *,
    run_id: str,
    timestamp: dt.datetime,
) -> list[dict[str, Any]]:
    """``build_messages`` for every change at one destination (a profile without
    identifiers, deleted meanwhile, gets none)."""
    destination = Destination.objects.get(pk=settings.destination_id)
    integration = destination_name(destination)
    out: list[dict[str, Any]] = []
    for change in changes:
        out += build_messages(
            ref,
            settings,
            change,
            identifiers.get(change.profile_id, ()),
            integration=integration,
            run_id=run_id,
            timestamp=timestamp,
        )
    return out


# --- delivery ----------------------------------------------------------------------------


def send(
    space: Space, destination_ids: Sequence[int], messages: Sequence[dict[str, Any]]
) -> list[Ingested]:
    """Hand ``messages`` to delivery for exactly ``destination_ids`` (destinations of
    the space's workspace): stored once per source they are connected to, in
    chunks of the Tracking API's batch size, each chunk a delivery outbox batch
    queued after its commit. A message already stored for that source in the last
    24 hours (same messageId: a retried sync) is not stored again. Raises
    ``AmbiguousDestination`` before storing anything when the messages'
    integrations objects would also let another enabled destination of one of
    those sources receive them, and ``Destination.DoesNotExist`` for a destination
    that is gone or of another workspace; ``validation.Invalid`` for a message the
    Tracking API would refuse (a NUL character, nesting too deep). Call it outside
    a transaction, or know that delivery starts at the commit."""
    wanted = set(destination_ids)
    chosen = list(
        Destination.objects.filter(pk__in=wanted, source__workspace_id=space.workspace_id)
    )
    if len(chosen) != len(wanted):
        raise Destination.DoesNotExist(
            f"destinations {sorted(wanted)} are not all of the space's workspace"
        )
    # Each message goes to the sources of the chosen destinations its integrations
    # object lets through (a message built for one destination is not stored for
    # another's source).
    names_on: dict[int, set[str]] = defaultdict(set)
    for destination in chosen:
        names_on[destination.source_id].add(destination_name(destination))
    routed: dict[int, list[int]] = defaultdict(list)
    for index, message in enumerate(messages):
        for source_id, names in names_on.items():
            if any(_allows(message, name) for name in names):
                routed[source_id].append(index)
    for other in Destination.objects.filter(source_id__in=list(routed), enabled=True).exclude(
        pk__in=wanted
    ):
        name = destination_name(other)
        if any(_allows(messages[i], name) for i in routed[other.source_id]):
            raise AmbiguousDestination(
                f"destination {other.key_id} ({name}) of the same source would receive these"
                " messages too: connect the computation to a destination whose source has"
                " one destination of that type"
            )
    received_at = dt.datetime.now(dt.UTC)
    received_iso = validation.iso(received_at)
    rows = {
        index: validation.normalize(
            messages[index], kind=None, received_at=received_at, received_iso=received_iso
        )
        for indexes in routed.values()
        for index in indexes
    }
    stored: list[Ingested] = []
    for source_id in sorted(routed):
        indexes = routed[source_id]
        for start in range(0, len(indexes), SEND_CHUNK):
            chunk = [rows[i] for i in indexes[start : start + SEND_CHUNK]]
            result = ingest_for_source(source_id, chunk, received_at=received_at)
            if result is not None:
                stored.append(result)
    return stored


def _allows(message: Mapping[str, Any], name: str) -> bool:
    """Whether delivery would let ``message`` through to a destination called ``name``."""
    return integrations_allow(dict(message), name)
