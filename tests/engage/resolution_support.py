"""Events for the identity resolution tests, as the pipeline hands them over."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from engage.models import Profile, ProfileIdentifier, Space
from engage.services.resolution import ResolverEvent

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
_numbers = itertools.count(1)


def event(
    kind: str = "track",
    *,
    at: dt.datetime | None = None,
    timestamp: dt.datetime | None = None,
    source_id: int = 7,
    message_id: str | None = None,
    **payload: Any,
) -> ResolverEvent:
    number = next(_numbers)
    received = at or T0 + dt.timedelta(seconds=number)
    message_id = message_id or f"msg-{number}"
    body = {"type": kind, "messageId": message_id, **payload}
    return ResolverEvent(
        event_id=number,
        received_at=received,
        source_id=source_id,
        message_id=message_id,
        type=kind,
        event_name=str(payload.get("event", "")),
        payload=body,
        timestamp=timestamp or received,
    )


def owner(space: Space, type_: str, value: str, collection: str = "users") -> Profile:
    return (
        ProfileIdentifier.objects.select_related("profile")
        .get(space=space, collection=collection, type=type_, value=value)
        .profile
    )


def values(profile: Profile) -> set[tuple[str, str]]:
    return set(ProfileIdentifier.objects.filter(profile=profile).values_list("type", "value"))


def live(space: Space) -> list[Profile]:
    return list(Profile.objects.filter(space=space, canonical__isnull=True).order_by("pk"))
