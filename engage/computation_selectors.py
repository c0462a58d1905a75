"""Reads for the Audiences and Computed Traits pages: the list (folder filter, name
search), an overview's size over time (from the change history), run history and a
page of members with their segment id, user id and email (through the reader's PII
mask)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from engage.models import (
    Computation,
    ComputationChange,
    ComputationKind,
    ComputationMember,
    ComputationRun,
    ProfileIdentifier,
    Space,
)
from switchyard import masking

MEMBERS_PAGE = 50
RUNS_SHOWN = 20
HISTORY_DAYS = 14
SEARCH_MAX = 200


def computations(
    space: Space, kind: str, *, folder: str | None = None, query: str = ""
) -> QuerySet[Computation]:
    """The space's audiences (or traits), by name; ``folder`` "" for those in none."""
    rows = Computation.objects.filter(space=space, kind=kind)
    if folder is not None:
        rows = rows.filter(folder=folder)
    query = query.strip()[:SEARCH_MAX]
    if query:
        rows = rows.filter(display_name__icontains=query)
    return rows.order_by("display_name", "pk")


def folder_counts(space: Space, kind: str) -> dict[str, int]:
    from django.db.models import Count

    rows = (
        Computation.objects.filter(space=space, kind=kind)
        .exclude(folder="")
        .values("folder")
        .annotate(n=Count("pk"))
    )
    return {row["folder"]: row["n"] for row in rows}


@dataclass
class RunRow:
    run: ComputationRun
    duration: str  # "" while it has not finished


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def runs(computation: Computation, limit: int = RUNS_SHOWN) -> list[RunRow]:
    """The latest runs, newest first, with how long each took."""
    found = ComputationRun.objects.filter(computation=computation).order_by("-create_time", "-pk")[
        :limit
    ]
    return [
        RunRow(
            run,
            duration_text((run.finish_time - run.start_time).total_seconds())
            if run.start_time and run.finish_time
            else "",
        )
        for run in found
    ]


def _present(column: str, kind: str) -> str:
    """SQL: the JSON ``column`` counts as a member (audiences: true; traits: a value)."""
    if kind == ComputationKind.AUDIENCE:
        return f"({column} IS NOT NULL AND {column} = 'true'::jsonb)"
    return f"({column} IS NOT NULL AND {column} <> 'null'::jsonb)"


def size_history(
    computation: Computation, *, days: int = HISTORY_DAYS, now: dt.datetime | None = None
) -> list[tuple[dt.date, int]]:
    """The size at the end of each of the last ``days`` days (UTC), worked back from
    the current size through the history of entries and exits."""
    moment = now or timezone.now()
    today = moment.astimezone(dt.UTC).date()
    first = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    table = ComputationChange._meta.db_table
    delta = f"{_present('new', computation.kind)}::int - {_present('old', computation.kind)}::int"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (time AT TIME ZONE 'UTC')::date AS day, sum({delta}) "  # noqa: S608
            f"FROM {table} WHERE computation_id = %s AND time >= %s GROUP BY day",
            [computation.pk, start],
        )
        net = {row[0]: int(row[1] or 0) for row in cursor.fetchall()}
    size = ComputationMember.objects.filter(computation=computation)
    if computation.kind == ComputationKind.TRAIT:
        size = size.exclude(value=None)
    current = size.count()
    out: list[tuple[dt.date, int]] = []
    for offset in range(days):
        day = today - dt.timedelta(days=offset)
        out.append((day, max(current, 0)))
        current -= net.get(day, 0)
    return list(reversed(out))


@dataclass
class MemberRow:
    segment_id: str
    user_id: str
    email: str
    value: Any
    since: dt.datetime


@dataclass
class MembersPage:
    rows: list[MemberRow]
    next_after: int | None  # the profile id the next page starts after


def members_page(
    computation: Computation, mask: masking.Mask, *, after: int = 0, size: int = MEMBERS_PAGE
) -> MembersPage:
    """Members (traits: profiles with a value) by profile id, after ``after``."""
    found = list(
        ComputationMember.objects.filter(computation=computation, profile_id__gt=after)
        .select_related("profile")
        .order_by("profile_id")[: size + 1]
    )
    more = len(found) > size
    found = found[:size]
    ids = [m.profile_id for m in found]
    idents: dict[tuple[int, str], str] = {}
    for pid, type_, ident in (
        ProfileIdentifier.objects.filter(profile_id__in=ids, type__in=("user_id", "email"))
        .order_by("profile_id", "type", "-last_seen", "value")
        .values_list("profile_id", "type", "value")
    ):
        idents.setdefault((pid, type_), _shown(mask, type_, ident))
    rows = []
    for member in found:
        value = member.value
        if mask.active and computation.kind == ComputationKind.TRAIT:
            value = (
                mask.event({"traits": {computation.key: value}})
                .get("traits", {})
                .get(computation.key, value)
            )
        rows.append(
            MemberRow(
                segment_id=member.profile.segment_id,
                user_id=idents.get((member.profile_id, "user_id"), ""),
                email=idents.get((member.profile_id, "email"), ""),
                value=value,
                since=member.since,
            )
        )
    return MembersPage(rows, found[-1].profile_id if more and found else None)


def _shown(mask: masking.Mask, type_: str, value: str) -> str:
    if not mask.active:
        return value
    return str(mask.event({"traits": {type_: value}}).get("traits", {}).get(type_, value))
