"""The five reads of a profile, in Segment's shapes. Lists page with an opaque
``next`` cursor naming where the next page starts; ``cursor.url`` is that next
page's URL (this page's when there is none)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlencode

from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from connections.dataplane.event_store import stored_payloads
from connections.models import Source
from engage.models import Profile, ProfileEvent, ProfileIdentifier, ProfileLink, Space
from engage.profile_api.errors import invalid
from engage.profile_api.lookup import merged_group
from engage.profile_api.params import Params

# Segment keeps 14 days of a profile's events readable through the API.
EVENTS_LOOKBACK = dt.timedelta(days=14)
_BAD_CURSOR = "is not a cursor this API returned"
_SLUGS_MAX = 10_000
_source_slugs: dict[int, str] = {}


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def source_keys(ids: Iterable[int | None]) -> dict[int, str]:
    """Source slugs (what the Config API names sources by) by id; a slug never
    changes, so this process remembers them. A deleted source shows its number."""
    wanted = {i for i in ids if i is not None and i not in _source_slugs}
    if wanted:
        if len(_source_slugs) + len(wanted) > _SLUGS_MAX:
            _source_slugs.clear()
        found = dict(Source.objects.filter(pk__in=wanted).values_list("pk", "slug"))
        for i in wanted:
            _source_slugs[i] = found.get(i, str(i))
    return _source_slugs


class Page:
    """Builds ``cursor`` for a list answer."""

    def __init__(self, space: Space, profile: Profile, resource: str, query: QueryDict) -> None:
        self.path = (
            f"/v1/spaces/{space.key_id}/collections/{profile.collection}/profiles/"
            f"{quote(profile.segment_id, safe='')}/{resource}"
        )
        self.query = query

    def cursor(self, next_cursor: str, limit: int) -> dict[str, Any]:
        params = [(k, v) for k, v in self.query.items() if k != "next"]
        if next_cursor:
            params.append(("next", next_cursor))
        url = f"{self.path}?{urlencode(params)}" if params else self.path
        return {"url": url, "has_more": bool(next_cursor), "next": next_cursor, "limit": limit}


def _id_cursor(prefix: str, raw: str) -> int:
    if not raw:
        return 0
    number = raw.removeprefix(prefix)
    if not raw.startswith(prefix) or not number.isdigit() or len(number) > 18:
        raise invalid("next", _BAD_CURSOR)
    return int(number)


# -- traits ------------------------------------------------------------------------


def traits(space: Space, profile: Profile, params: Params, page: Page) -> dict[str, Any]:
    """Custom traits, last updated wins (kept so by the resolver), in key order.
    Audiences and computed traits do not exist yet: ``class=`` either is empty."""
    stored: dict[str, Any] = {} if params.trait_class else profile.traits
    keys = sorted(params.include if params.include else stored)
    keys = [k for k in keys if k in stored and k >= params.next]
    shown, rest = keys[: params.limit], keys[params.limit :]
    if params.verbose:
        times = profile.trait_times
        # Traits keep their update time only: the source that set one is not stored.
        body = {
            k: {"value": stored[k], "source_id": None, "updated_at": times.get(k)} for k in shown
        }
    else:
        body = {k: stored[k] for k in shown}
    return {"traits": body, "cursor": page.cursor(rest[0] if rest else "", params.limit)}


# -- external ids ------------------------------------------------------------------


def _external_id(row: ProfileIdentifier, sources: dict[int, str]) -> dict[str, Any]:
    return {
        "source_id": sources.get(row.source_id) if row.source_id is not None else None,
        "collection": row.collection,
        "id": row.value,
        "type": row.type,
        "created_at": iso(row.first_seen),
        "encoding": "none",
        "first_message_id": row.first_message_id,
    }


def external_ids(space: Space, profile: Profile, params: Params, page: Page) -> dict[str, Any]:
    after = _id_cursor("map_", params.next)
    rows = ProfileIdentifier.objects.filter(profile_id__in=merged_group(profile), pk__gte=after)
    if params.include:
        rows = rows.filter(type__in=params.include)
    found = list(rows.order_by("pk")[: params.limit + 1])
    shown, more = found[: params.limit], found[params.limit :]
    sources = source_keys(r.source_id for r in shown)
    data = []
    for row in shown:
        item = _external_id(row, sources)
        if params.verbose:
            item["last_seen_at"] = iso(row.last_seen)
        data.append(item)
    next_cursor = f"map_{more[0].pk}" if more else ""
    return {"data": data, "cursor": page.cursor(next_cursor, params.limit)}


# -- events ------------------------------------------------------------------------


def _encode_event_cursor(event: ProfileEvent) -> str:
    stamp = int(event.timestamp.timestamp() * 1_000_000)
    return base64.urlsafe_b64encode(f"{stamp}::{event.pk}".encode()).decode()


def _decode_event_cursor(raw: str) -> tuple[dt.datetime, int]:
    try:
        stamp, _, pk = base64.urlsafe_b64decode(raw.encode()).decode().partition("::")
        when = dt.datetime.fromtimestamp(int(stamp) / 1_000_000, tz=dt.UTC)
        return when, int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError, OSError):
        raise invalid("next", _BAD_CURSOR) from None


def _event_ids(payload: dict[str, Any], collection: str) -> list[dict[str, Any]]:
    """The identifiers the message itself carries: userId, anonymousId, a group's
    groupId, and context.externalIds."""
    found: list[dict[str, Any]] = []
    for key, id_type, kind in (
        ("userId", "user_id", "users"),
        ("anonymousId", "anonymous_id", "users"),
        ("groupId", "group_id", "accounts"),
    ):
        value = payload.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            found.append(
                {"collection": kind, "type": id_type, "id": str(value), "encoding": "none"}
            )
    context = payload.get("context")
    extra = context.get("externalIds") if isinstance(context, dict) else None
    for entry in extra if isinstance(extra, list) else []:
        if isinstance(entry, dict) and entry.get("id") is not None and entry.get("type"):
            found.append(
                {
                    "collection": entry.get("collection") or collection,
                    "type": str(entry["type"]),
                    "id": str(entry["id"]),
                    "encoding": entry.get("encoding") or "none",
                }
            )
    return found


def _event(
    row: ProfileEvent, payload: dict[str, Any], profile: Profile, sources: dict[int, str]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_ids": _event_ids(payload, profile.collection),
        "context": payload.get("context") or {},
        "type": row.type,
        "message_id": row.message_id,
        "source_id": sources.get(row.source_id),
        "timestamp": payload.get("timestamp") or iso(row.timestamp),
    }
    if row.type == "track":
        body["event"] = payload.get("event", row.event_name)
        body["properties"] = payload.get("properties") or {}
    elif row.type in ("page", "screen"):
        body["name"] = payload.get("name", row.event_name)
        body["properties"] = payload.get("properties") or {}
    elif row.type in ("identify", "group"):
        body["traits"] = payload.get("traits") or {}
        if row.type == "group":
            body["group_id"] = payload.get("groupId")
    elif row.type == "alias":
        body["previous_id"] = payload.get("previousId")
    body["related"] = {profile.collection: profile.segment_id}
    return body


def events(space: Space, profile: Profile, params: Params, page: Page) -> dict[str, Any]:
    """Up to 14 days back (by event time), newest first unless ``sort=asc``; each
    event read from the event store it is a reference to (one gone with retention
    or erasure is left out)."""
    floor = timezone.now() - EVENTS_LOOKBACK
    rows = ProfileEvent.objects.filter(
        profile_id__in=merged_group(profile), timestamp__gte=max(floor, params.start or floor)
    )
    if params.end:
        rows = rows.filter(timestamp__lte=params.end)
    if params.include:
        rows = rows.filter(event_name__in=params.include)
    if params.exclude:
        rows = rows.exclude(event_name__in=params.exclude)
    descending = params.sort == "desc"
    if params.next:
        when, pk = _decode_event_cursor(params.next)
        if descending:
            rows = rows.filter(Q(timestamp__lt=when) | Q(timestamp=when, pk__lte=pk))
        else:
            rows = rows.filter(Q(timestamp__gt=when) | Q(timestamp=when, pk__gte=pk))
    order = ("-timestamp", "-pk") if descending else ("timestamp", "pk")
    found = list(rows.order_by(*order)[: params.limit + 1])
    shown, more = found[: params.limit], found[params.limit :]
    payloads = stored_payloads([(r.received_at, r.event_id) for r in shown])
    sources = source_keys(r.source_id for r in shown)
    data = [
        _event(r, payloads[r.event_id], profile, sources) for r in shown if r.event_id in payloads
    ]
    next_cursor = _encode_event_cursor(more[0]) if more else ""
    return {"data": data, "cursor": page.cursor(next_cursor, params.limit)}


# -- metadata ----------------------------------------------------------------------


def metadata(space: Space, profile: Profile, params: Params, page: Page) -> dict[str, Any]:
    # The resolver writes a profile's row only when the profile changes, not for
    # every event it attaches: the latest message is its newest event.
    latest = (
        ProfileEvent.objects.filter(profile=profile)
        .order_by("-timestamp", "-id")
        .values_list("message_id", "source_id", "received_at")
        .first()
    )
    last_message, last_source, updated = profile.last_message_id, profile.last_source_id, None
    if latest is not None:
        last_message, last_source, updated = latest
    sources = source_keys((profile.first_source_id, last_source))

    def key(source_id: int | None) -> str | None:
        return sources.get(source_id) if source_id is not None else None

    body: dict[str, Any] = {
        "created_at": iso(profile.create_time),
        "updated_at": iso(max(profile.update_time, updated or profile.update_time)),
        "expires_at": None,
        "first_message_id": profile.first_message_id,
        "first_source_id": key(profile.first_source_id),
        "last_message_id": last_message,
        "last_source_id": key(last_source or None),
    }
    if params.verbose:
        body |= {
            "segment_id": profile.segment_id,
            "collection": profile.collection,
            "merges": profile.merges,
        }
    return {"metadata": body}


# -- links -------------------------------------------------------------------------


def links(space: Space, profile: Profile, params: Params, page: Page) -> dict[str, Any]:
    """A user's accounts, or an account's users; links made before a merge count for
    the survivor, and a linked profile since merged shows as its survivor."""
    after = _id_cursor("lnk_", params.next)
    group = merged_group(profile)
    to_users = profile.collection == "accounts"
    rows = ProfileLink.objects.filter(
        Q(account_id__in=group) if to_users else Q(user_id__in=group), pk__gte=after
    )
    found = list(rows.order_by("pk")[: params.limit + 1])
    shown, more = found[: params.limit], found[params.limit :]
    other: Callable[[ProfileLink], int] = (
        (lambda link: link.user_id) if to_users else (lambda link: link.account_id)
    )
    linked = dict(
        Profile.objects.filter(pk__in=[other(link) for link in shown]).values_list(
            "pk", "canonical_id"
        )
    )
    targets = list(dict.fromkeys(linked[other(link)] or other(link) for link in shown))
    identifiers: dict[int, list[ProfileIdentifier]] = {t: [] for t in targets}
    for row in ProfileIdentifier.objects.filter(profile_id__in=targets).order_by("pk"):
        identifiers[row.profile_id].append(row)
    sources = source_keys(r.source_id for rows_ in identifiers.values() for r in rows_)
    to_collection = "users" if to_users else "accounts"
    data = []
    for target in targets:
        ids = []
        for row in identifiers[target]:
            item = _external_id(row, sources)
            del item["first_message_id"]
            ids.append(item)
        data.append({"to_collection": to_collection, "external_ids": ids})
    next_cursor = f"lnk_{more[0].pk}" if more else ""
    return {"data": data, "cursor": page.cursor(next_cursor, params.limit)}


READS = {
    "traits": traits,
    "external_ids": external_ids,
    "events": events,
    "metadata": metadata,
    "links": links,
}
