"""Reads the audience and computed trait builders need: what a space offers to
pick from (its audiences, computed traits, event names seen, whether it has
accounts), and a computed trait's value distribution for the live preview."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection

from engage.compute.sql import trait_values
from engage.models import Computation, ComputationKind, Profile, ProfileEvent, Space

EVENT_NAMES = 200
DISTRIBUTION = 10


@dataclass(frozen=True)
class Catalogue:
    audiences: list[dict[str, str]]  # key, name, mode
    traits: list[dict[str, str]]  # computed traits: key, name, mode
    events: list[str]
    accounts: bool


def catalogue(space: Space, *, exclude_key: str = "", accounts: bool = False) -> Catalogue:
    """The space's audiences (but ``exclude_key``, the one being edited) and computed
    traits, the most recent event names seen, and whether the space knows accounts
    (it has account profiles from group calls, or ``accounts``: the audience being
    edited is one)."""
    rows = (
        Computation.objects.filter(space=space)
        .exclude(key=exclude_key or None)
        .order_by("display_name", "key")
        .values_list("kind", "key", "display_name", "compute_mode")
    )
    audiences: list[dict[str, str]] = []
    traits: list[dict[str, str]] = []
    for kind, key, name, mode in rows:
        entry = {"key": key, "name": name, "mode": mode}
        (audiences if kind == ComputationKind.AUDIENCE else traits).append(entry)
    events = sorted(
        set(
            ProfileEvent.objects.filter(space=space)
            .exclude(event_name="")
            .order_by("-id")
            .values_list("event_name", flat=True)[: EVENT_NAMES * 5]
        )
    )[:EVENT_NAMES]
    has_accounts = accounts or Profile.objects.filter(space=space, collection="accounts").exists()
    return Catalogue(audiences=audiences, traits=traits, events=events, accounts=has_accounts)


def value_distribution(
    space: Space, definition: dict[str, Any], now: dt.datetime, *, limit: int = DISTRIBUTION
) -> list[dict[str, Any]]:
    """The most common values of a (checked) computed trait definition at ``now``:
    ``[{"value": ..., "count": n}]``, most common first."""
    sql, params = trait_values(space.pk, definition, now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT q.value::text, count(*) FROM ({sql}) q "  # noqa: S608 - compiled
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %(distribution_limit)s",
            {**params, "distribution_limit": limit},
        )
        return [{"value": json.loads(text), "count": int(n)} for text, n in cursor.fetchall()]
