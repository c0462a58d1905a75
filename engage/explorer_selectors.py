"""Reads for the Profile explorer and Profiles Insights, shown through the reader's
PII mask (switchyard.masking) as the debugger shows events: identifier values and
traits are hidden where the event fields they come from would be, and a search
only finds what the reader is shown."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from connections.models import Event, Source
from engage.models import (
    IdentifierSetting,
    IdentityLog,
    InsightKind,
    Profile,
    ProfileEvent,
    ProfileIdentifier,
    ProfileLink,
    ProfileMerge,
    Space,
)
from switchyard import masking
from workspace import selectors as workspace_selectors

RECENT = 50
SEARCH_LIMIT = 50
TIMELINE = 100
INSIGHTS_WINDOW = dt.timedelta(days=30)
INSIGHTS_WINDOWS = {
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
    "30d": INSIGHTS_WINDOW,
}
INSIGHTS_LIMIT = 500
DEFAULT_TYPES = ("user_id", "email", "anonymous_id", "group_id")


def _shown_identifier(mask: masking.Mask, type_: str, value: str) -> str:
    """An identifier value as the reader may see it: masked as the same value would
    be in an event's traits (where email, phone, ... arrive)."""
    if not mask.active:
        return value
    shown = mask.event({"traits": {type_: value}})
    return str(shown.get("traits", {}).get(type_, value))


def identifier_types(space: Space) -> list[str]:
    configured = IdentifierSetting.objects.filter(space=space).values_list("type", flat=True)
    return sorted(set(configured) | set(DEFAULT_TYPES))


def search_profiles(space: Space, query: str, mask: masking.Mask) -> list[Profile]:
    """Profiles (canonical ones: a merged profile leads to its survivor) with an
    identifier matching ``query``: ``type:value`` for one type, a bare value across
    the space's identifier types, or a profile's ``segment_id``."""
    query = query.strip()
    if not query:
        return []
    types = identifier_types(space)
    type_, sep, value = query.partition(":")
    if sep and type_ in types and value:
        wanted = ProfileIdentifier.objects.filter(space=space, type=type_, value=value)
    else:
        wanted = ProfileIdentifier.objects.filter(space=space, type__in=types, value=query)
    found: dict[int, Profile] = {}
    for ident in wanted.select_related("profile")[:SEARCH_LIMIT]:
        if _shown_identifier(mask, ident.type, ident.value) != ident.value:
            continue  # the reader cannot see this value: searching by it must not tell
        profile = survivor_of(ident.profile)
        found[profile.pk] = profile
    by_id = Profile.objects.filter(space=space, segment_id=query).first()
    if by_id is not None:
        survivor = survivor_of(by_id)
        found[survivor.pk] = survivor
    return sorted(found.values(), key=lambda p: p.update_time, reverse=True)


def survivor_of(profile: Profile) -> Profile:
    seen = {profile.pk}
    while profile.canonical_id is not None and profile.canonical_id not in seen:
        seen.add(profile.canonical_id)
        nxt = Profile.objects.filter(pk=profile.canonical_id).first()
        if nxt is None:
            break
        profile = nxt
    return profile


def recent_profiles(space: Space) -> list[Profile]:
    return list(
        Profile.objects.filter(space=space, canonical__isnull=True).order_by("-update_time", "-id")[
            :RECENT
        ]
    )


def profile_of(space: Space, segment_id: str) -> Profile | None:
    return Profile.objects.filter(space=space, segment_id=segment_id).first()


@dataclass
class TimelineEvent:
    type: str
    name: str
    timestamp: dt.datetime
    received_at: dt.datetime
    message_id: str
    source: str
    payload: str  # pretty JSON as the reader may see it ("" when aged out of the store)


@dataclass
class ProfileView:
    profile: Profile
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    traits: list[tuple[str, str]] = field(default_factory=list)
    events: list[TimelineEvent] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    links: list[Profile] = field(default_factory=list)


def _merged_into(profile: Profile) -> list[int]:
    """The profile and every profile merged into it (directly or through others)."""
    ids = [profile.pk]
    frontier = [profile.pk]
    while frontier and len(ids) < 1000:
        frontier = list(
            Profile.objects.filter(canonical_id__in=frontier)
            .exclude(pk__in=ids)
            .values_list("pk", flat=True)
        )
        ids.extend(frontier)
    return ids


def _trait_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def profile_view(space: Space, profile: Profile, mask: masking.Mask) -> ProfileView:
    view = ProfileView(profile=profile)
    sources = dict(
        Source.objects.filter(workspace_id=space.workspace_id).values_list("pk", "display_name")
    )
    for ident in ProfileIdentifier.objects.filter(profile=profile).order_by("type", "first_seen"):
        view.identifiers.append(
            {
                "type": ident.type,
                "value": _shown_identifier(mask, ident.type, ident.value),
                "first_seen": ident.first_seen,
                "last_seen": ident.last_seen,
                "source": sources.get(ident.source_id or 0, ""),
            }
        )
    traits = mask.event({"traits": profile.traits}).get("traits", {}) if mask.active else None
    shown_traits = traits if isinstance(traits, dict) else profile.traits
    view.traits = [(key, _trait_text(shown_traits[key])) for key in sorted(shown_traits)]
    view.events = _timeline(space, _merged_into(profile), sources, mask)
    merges = (
        ProfileMerge.objects.filter(Q(into=profile) | Q(merged=profile))
        .select_related("merged", "into")
        .order_by("-time", "-id")[:100]
    )
    view.merges = [
        {
            "merged": m.merged.segment_id,
            "into": m.into.segment_id,
            "time": m.time,
            "message_id": m.message_id,
            "source": sources.get(m.source_id or 0, ""),
        }
        for m in merges
    ]
    if profile.collection == "users":
        links = ProfileLink.objects.filter(user=profile).select_related("account")
        view.links = [link.account for link in links[:100]]
    else:
        links = ProfileLink.objects.filter(account=profile).select_related("user")
        view.links = [link.user for link in links[:100]]
    return view


def _timeline(
    space: Space, profile_ids: list[int], sources: dict[int, str], mask: masking.Mask
) -> list[TimelineEvent]:
    rows = list(
        ProfileEvent.objects.filter(space=space, profile_id__in=profile_ids).order_by(
            "-timestamp", "-id"
        )[:TIMELINE]
    )
    if not rows:
        return []
    # The store's key is (id, received_at): bounding received_at prunes partitions.
    stored = dict(
        Event.objects.filter(
            workspace_id=space.workspace_id,
            id__in=[r.event_id for r in rows],
            received_at__gte=min(r.received_at for r in rows),
            received_at__lte=max(r.received_at for r in rows),
        ).values_list("id", "payload")
    )
    timeline = []
    for row in rows:
        payload = stored.get(row.event_id)
        shown = mask.event(payload) if payload is not None else None
        timeline.append(
            TimelineEvent(
                type=row.type,
                name=row.event_name,
                timestamp=row.timestamp,
                received_at=row.received_at,
                message_id=row.message_id,
                source=sources.get(row.source_id, ""),
                payload=json.dumps(shown, indent=2, ensure_ascii=False) if shown else "",
            )
        )
    return timeline


@dataclass
class InsightRow:
    kind: str
    code: str
    message: str
    message_id: str
    segment_id: str
    source: str
    time: dt.datetime
    detail: str


ERROR_KINDS = (InsightKind.ERROR, InsightKind.VIOLATION)


def insights(
    space: Space,
    *,
    tab: str,
    search: str,
    mask: masking.Mask,
    window: str = "30d",
    kind: str = "",
    now: dt.datetime | None = None,
) -> list[InsightRow]:
    """Profiles Insights: the tab's logs of the last ``window`` (at most 30 days),
    newest first, at most 500, optionally of one ``kind`` (the errors tab: ERROR or
    VIOLATION); ``search`` matches a message id or a code exactly, or any identifier
    value (or other text) in the log's detail or message as the reader is shown it."""
    since = (now or timezone.now()) - INSIGHTS_WINDOWS.get(window, INSIGHTS_WINDOW)
    kinds = ERROR_KINDS if tab == "errors" else (InsightKind.SUCCESS,)
    if kind in kinds:
        kinds = (InsightKind(kind),)
    rows = IdentityLog.objects.filter(space=space, kind__in=kinds, time__gte=since)
    search = search.strip()
    if search:
        rows = rows.annotate(detail_text=Cast("detail", TextField())).filter(
            Q(message_id=search)
            | Q(code=search)
            | Q(segment_id=search)
            | Q(detail_text__icontains=search)
            | Q(message__icontains=search)
        )
    sources = dict(
        Source.objects.filter(workspace_id=space.workspace_id).values_list("pk", "display_name")
    )
    out = []
    for log in rows.order_by("-time", "-id")[:INSIGHTS_LIMIT]:
        detail = mask.json(log.detail) if mask.active else log.detail
        message = mask.json(log.message) if mask.active else log.message
        detail_text = json.dumps(detail, indent=2, ensure_ascii=False) if detail else ""
        if search and mask.active and not _shown_match(search, log, str(message), detail_text):
            continue
        out.append(
            InsightRow(
                kind=log.kind,
                code=log.code,
                message=str(message),
                message_id=log.message_id,
                segment_id=log.segment_id,
                source=sources.get(log.source_id or 0, ""),
                time=log.time,
                detail=detail_text,
            )
        )
    return out


@dataclass
class AuditRow:
    time: dt.datetime
    action: str
    resource: str  # under the space: "" (the space itself), "identifiers/email", ...
    actor: str
    changes: list[tuple[str, str, str]]  # (key, before, after) as the reader may see them


def _json_text(value: Any) -> str:
    return "—" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def audit_trail(
    space: Space,
    *,
    search: str,
    mask: masking.Mask,
    window: str = "30d",
    now: dt.datetime | None = None,
) -> list[AuditRow]:
    """Profiles Insights' Audit trail: the workspace audit trail's entries about this
    space and what is under it (identity resolution settings, sources, tokens, CSV
    uploads) of the last ``window``, newest first, at most 500. Entries from before
    the space was created (a deleted space of the same slug) are not its own.
    ``search`` matches an action, a username or token prefix exactly, or text in the
    resource name or in a change as the reader is shown it (values are masked as
    audit diffs are on the workspace's trail)."""
    since = max(
        (now or timezone.now()) - INSIGHTS_WINDOWS.get(window, INSIGHTS_WINDOW), space.create_time
    )
    entries = workspace_selectors.audit_entries_under(
        space.workspace, space.resource_name, since=since
    )
    search = search.strip()
    if search:
        entries = entries.annotate(
            before_text=Cast("before", TextField()), after_text=Cast("after", TextField())
        ).filter(
            Q(action=search)
            | Q(actor_user__username=search)
            | Q(actor_token__prefix=search)
            | Q(resource_name__icontains=search)
            | Q(before_text__icontains=search)
            | Q(after_text__icontains=search)
        )
    prefix = f"{space.resource_name}/"
    out = []
    for entry in entries.order_by("-time", "-id")[:INSIGHTS_LIMIT]:
        before = mask.json(entry.before) if mask.active else entry.before
        after = mask.json(entry.after) if mask.active else entry.after
        changes = _changes(before, after)
        who = workspace_selectors.actor_of(entry)
        actor = _actor_label(who)
        resource = entry.resource_name.removeprefix(prefix)
        resource = "" if resource == space.resource_name else resource
        if search and mask.active:
            shown = " ".join(f"{k} {b} {a}" for k, b, a in changes).casefold()
            exact = search in (entry.action, who["user"], who["token"])
            if not exact and search.casefold() not in f"{entry.resource_name} {shown}".casefold():
                continue  # it matched a value the reader is not shown
        out.append(
            AuditRow(
                time=entry.time,
                action=entry.action,
                resource=resource,
                actor=actor,
                changes=changes,
            )
        )
    return out


def _changes(before: Any, after: Any) -> list[tuple[str, str, str]]:
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    keys = list(new) + [k for k in old if k not in new]
    return [(str(k), _json_text(old.get(k)), _json_text(new.get(k))) for k in keys]


def _actor_label(actor: dict[str, Any]) -> str:
    if actor["type"] == "token":
        return f"{actor['user'] or 'workspace token'} (token {actor['token']}…)"
    return str(actor["user"] or "system")


def _shown_match(search: str, log: IdentityLog, message: str, detail: str) -> bool:
    if search in (log.message_id, log.code, log.segment_id):
        return True
    wanted = search.casefold()
    return wanted in message.casefold() or wanted in detail.casefold()
