"""Reads for the Inbox and the Inventory, shared by the UI and the API.

The Inbox is what detection saw in the last 7 days, one row per (field path,
source) with the event types and names that carried it; a path in the
Inventory shows the Inventory's classification. The Inventory's details and
its CSV come from the same observations (all of them, not only the last week).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import models
from django.db.models import Case, Max, Min, Q, Sum, Value, When
from django.utils import timezone

from connections.models import Destination, Source
from privacy import samples
from privacy.models import InventoryField, ObservedField
from privacy.selectors.matchers import Entry, entries
from switchyard import access, masking
from switchyard.access import Principal
from switchyard.access.roles import BY_SLUG, OWNER_ROLE
from workspace.models import AccessToken, Label, Membership, RoleGrant, Workspace

WINDOW = dt.timedelta(days=7)  # "the past 7 days"
PII_ACCESS_ROLE = "pii-access"
ENVIRONMENT = "environment"  # the label key of the Inventory's environment filter

_RANK = Case(
    When(recommended="RED", then=Value(2)),
    When(recommended="YELLOW", then=Value(1)),
    default=Value(0),
)
# The strongest recommendation first, then the latest: what the row recommends.
_STRONGEST = (_RANK.desc(), models.F("last_seen").desc())


# --- the Inbox ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    workspace_slug: str
    path: str
    source: Source
    event_types: list[str]
    event_names: list[str]
    sample_count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    recommended: str  # the matchers' (or, when seen, the Inventory's) word
    matcher_id: str  # the matcher that flagged it ("" when none did)
    inventory: InventoryField | None  # the path's Inventory entry, if classified
    sample: Any = None  # the latest value seen, as the reader may see it (None: none kept)

    @property
    def source_id(self) -> int:
        return self.source.pk

    @property
    def classification(self) -> str:
        """What the row is classified as: the Inventory's classification wins."""
        return self.inventory.classification if self.inventory else self.recommended

    @property
    def in_inventory(self) -> bool:
        return self.inventory is not None

    @property
    def source_name(self) -> str:
        return f"workspaces/{self.workspace_slug}/sources/{self.source.slug}"

    @property
    def matcher_name(self) -> str:
        if not self.matcher_id:
            return ""
        return f"workspaces/{self.workspace_slug}/pii-matchers/{self.matcher_id}"

    @property
    def inventory_field(self) -> str:
        return self.inventory.resource_name if self.inventory else ""


def inbox_queryset(
    workspace: Workspace, principal: Principal, *, now: dt.datetime | None = None
) -> models.QuerySet[ObservedField]:
    since = (now or timezone.now()) - WINDOW
    rows = ObservedField.objects.filter(workspace=workspace, last_seen__gte=since)
    return access.restrict(rows, principal, "view")


def inbox_rows(
    workspace: Workspace,
    principal: Principal,
    *,
    after: tuple[str, int] | None = None,
    limit: int | None = None,
    now: dt.datetime | None = None,
    source: str = "",
    path: str | None = None,
) -> list[InboxRow]:
    """Inbox rows ordered by (path, source id), those after ``after``; four queries,
    and the reader's mask (``switchyard.masking``) for the samples."""
    rows = inbox_queryset(workspace, principal, now=now)
    if source:
        rows = rows.filter(source__slug=source)
    if path is not None:
        rows = rows.filter(path=path)
    if after is not None:
        rows = rows.filter(Q(path__gt=after[0]) | Q(path=after[0], source_id__gt=after[1]))
    grouped = (
        rows.values("path", "source_id")
        .annotate(
            event_types=ArrayAgg("event_type", distinct=True, order_by="event_type"),
            event_names=ArrayAgg("event_name", distinct=True, order_by="event_name"),
            total=Sum("sample_count"),
            first=Min("first_seen"),
            last=Max("last_seen"),
            recommendations=ArrayAgg("recommended", order_by=_STRONGEST),
            matchers=ArrayAgg("matcher_id", order_by=_STRONGEST),
        )
        .order_by("path", "source_id")
    )
    found = list(grouped if limit is None else grouped[:limit])
    if not found:
        return []
    sources = Source.objects.in_bulk({g["source_id"] for g in found})
    inventory = inventory_by_path(workspace, {g["path"] for g in found})
    latest = latest_samples(rows, [(g["path"], g["source_id"]) for g in found])
    mask = masking.mask_for(principal, workspace.pk)
    return [
        InboxRow(
            workspace_slug=workspace.slug,
            path=g["path"],
            source=sources[g["source_id"]],
            event_types=list(g["event_types"]),
            event_names=[name for name in g["event_names"] if name],
            sample_count=int(g["total"]),
            first_seen=g["first"],
            last_seen=g["last"],
            recommended=g["recommendations"][0],
            matcher_id=g["matchers"][0],
            inventory=inventory.get(g["path"]),
            sample=samples.masked(mask, g["path"], latest.get((g["path"], g["source_id"]))),
        )
        for g in found
    ]


def latest_samples(
    rows: models.QuerySet[ObservedField], keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], Any]:
    """The latest sample kept per (path, source id) among ``rows``, unmasked."""
    if not keys:
        return {}
    wanted = set(keys)
    kept = (
        rows.filter(
            path__in={k[0] for k in keys},
            source_id__in={k[1] for k in keys},
            sample__isnull=False,
        )
        .order_by("path", "source_id", "-last_seen", "-pk")
        .distinct("path", "source_id")
        .values_list("path", "source_id", "sample")
    )
    return {(p, s): v for p, s, v in kept if (p, s) in wanted}


@dataclass(frozen=True)
class SourceSeen:
    source: Source
    sample_count: int
    last_seen: dt.datetime
    sample: Any


@dataclass(frozen=True)
class InboxDetail:
    """One Inbox row opened: the events that carried the field, every source that
    sent it in the window, the matcher that flagged it, and an example snippet."""

    row: InboxRow
    events: list[EventSeen]  # of the row's source, latest first
    sources: list[SourceSeen]
    matcher: Entry | None  # None: no matcher flagged it (or it is gone)

    @property
    def snippet(self) -> str:
        latest = next((e for e in self.events if e.sample is not None), None)
        if latest is None:
            return ""
        return samples.snippet(self.row.path, latest.sample, latest.event_type, latest.event_name)


def inbox_detail(
    workspace: Workspace,
    principal: Principal,
    *,
    path: str,
    source: str,
    now: dt.datetime | None = None,
) -> InboxDetail | None:
    """The Inbox row of ``path`` sent by the source ``source`` (a slug), or None."""
    found = inbox_rows(workspace, principal, now=now, source=source, path=path)
    if not found:
        return None
    row = found[0]
    mask = masking.mask_for(principal, workspace.pk)
    seen = inbox_queryset(workspace, principal, now=now).filter(path=path)
    events = [
        EventSeen(
            row.source,
            e.event_type,
            e.event_name,
            e.sample_count,
            e.last_seen,
            samples.masked(mask, path, e.sample),
        )
        for e in seen.filter(source=row.source).order_by("-last_seen", "event_type", "event_name")
    ]
    per_source = (
        seen.values("source_id")
        .annotate(total=Sum("sample_count"), last=Max("last_seen"))
        .order_by("source_id")
    )
    totals = {r["source_id"]: r for r in per_source}
    by_id = Source.objects.in_bulk(list(totals))
    latest = latest_samples(seen, [(path, source_id) for source_id in totals])
    sources = sorted(
        (
            SourceSeen(
                by_id[source_id],
                int(r["total"]),
                r["last"],
                samples.masked(mask, path, latest.get((path, source_id))),
            )
            for source_id, r in totals.items()
        ),
        key=lambda s: s.source.slug,
    )
    matcher = None
    if row.matcher_id:
        matcher = next((e for e in entries(workspace) if e.matcher.id == row.matcher_id), None)
    return InboxDetail(row=row, events=events, sources=sources, matcher=matcher)


def inventory_by_path(workspace: Workspace, paths: Iterable[str]) -> dict[str, InventoryField]:
    rows = InventoryField.objects.filter(workspace=workspace, path__in=list(paths))
    return {row.path: row for row in rows.select_related("workspace")}


# --- the Inventory --------------------------------------------------------------------------


def inventory_queryset(
    workspace: Workspace,
    principal: Principal,
    *,
    classification: str = "",
    source: str = "",
    environment: str = "",
) -> models.QuerySet[InventoryField]:
    """The Inventory, filtered: a classification, the fields a source (by slug) sent,
    or the fields sent by sources labelled ``environment:<value>``."""
    rows = InventoryField.objects.filter(workspace=workspace).select_related(
        "workspace", "classified_by"
    )
    if classification:
        rows = rows.filter(classification=classification)
    seen = ObservedField.objects.filter(workspace=workspace)
    if source:
        rows = rows.filter(path__in=seen.filter(source__slug=source).values("path"))
    if environment:
        labelled = seen.filter(
            source__source_labels__label__key=ENVIRONMENT,
            source__source_labels__label__value=environment,
        )
        rows = rows.filter(path__in=labelled.values("path"))
    return access.restrict(rows, principal, "view")


def environments(workspace: Workspace) -> list[str]:
    """The values of the workspace's ``environment:`` labels (the filter's choices)."""
    labels = Label.objects.filter(workspace=workspace, key=ENVIRONMENT).order_by("value")
    return list(labels.values_list("value", flat=True))


@dataclass(frozen=True)
class SourceCount:
    source: Source
    sample_count: int
    last_seen: dt.datetime
    destinations: list[Destination] = field(default_factory=list)
    sample: Any = None  # the latest value the source sent, as the reader may see it


@dataclass(frozen=True)
class EventSeen:
    source: Source
    event_type: str
    event_name: str
    sample_count: int
    last_seen: dt.datetime
    sample: Any = None


@dataclass(frozen=True)
class Holder:
    kind: str  # "member", "group", "token"
    name: str
    why: str  # "Workspace Owner" or "PII Access"


@dataclass(frozen=True)
class Details:
    field: InventoryField
    sources: list[SourceCount]
    events: list[EventSeen]
    holders: list[Holder]

    @property
    def destinations(self) -> list[tuple[Source, Destination]]:
        return [(s.source, d) for s in self.sources for d in s.destinations]


def details(field_row: InventoryField, principal: Principal) -> Details:
    """Counts and the latest sample per source (masked for ``principal``), the events
    that carried the field, the destinations of those sources, and who sees its
    values unmasked."""
    seen = ObservedField.objects.filter(workspace_id=field_row.workspace_id, path=field_row.path)
    events = list(
        seen.select_related("source").order_by("source__slug", "event_type", "event_name")
    )
    per_source = (
        seen.values("source_id")
        .annotate(total=Sum("sample_count"), last=Max("last_seen"))
        .order_by("source_id")
    )
    sources = Source.objects.in_bulk([row["source_id"] for row in per_source])
    latest = latest_samples(seen, [(field_row.path, source_id) for source_id in sources])
    mask = masking.mask_for(principal, field_row.workspace_id)
    destinations: dict[int, list[Destination]] = {}
    for destination in Destination.objects.filter(source_id__in=list(sources)).order_by(
        "display_name", "pk"
    ):
        destinations.setdefault(destination.source_id, []).append(destination)
    counts = [
        SourceCount(
            sources[row["source_id"]],
            int(row["total"]),
            row["last"],
            destinations.get(row["source_id"], []),
            samples.masked(mask, field_row.path, latest.get((field_row.path, row["source_id"]))),
        )
        for row in per_source
    ]
    counts.sort(key=lambda c: c.source.slug)
    return Details(
        field=field_row,
        sources=counts,
        events=[
            EventSeen(e.source, e.event_type, e.event_name, e.sample_count, e.last_seen)
            for e in events
        ],
        holders=pii_holders(field_row.workspace),
    )


def pii_holders(workspace: Workspace) -> list[Holder]:
    """Who sees Red and Yellow values unmasked (where they can see the data at all):
    Workspace Owners (by membership, grant or owner token) and PII Access holders."""
    owner = BY_SLUG[OWNER_ROLE].name
    pii = BY_SLUG[PII_ACCESS_ROLE].name
    holders: list[Holder] = []
    members = Membership.objects.filter(workspace=workspace, role=Membership.Role.OWNER)
    for membership in members.select_related("user").order_by("user__username"):
        holders.append(Holder("member", membership.user.get_username(), owner))
    grants = RoleGrant.objects.filter(workspace=workspace, role__in=(OWNER_ROLE, PII_ACCESS_ROLE))
    for grant in grants.select_related("user", "group", "token").order_by("role", "pk"):
        why = owner if grant.role == OWNER_ROLE else pii
        if grant.user is not None:
            holders.append(Holder("member", grant.user.get_username(), why))
        elif grant.group is not None:
            holders.append(Holder("group", grant.group.name, why))
        elif grant.token is not None and grant.token.revoke_time is None:
            holders.append(Holder("token", grant.token.description, why))
    tokens = AccessToken.objects.filter(
        workspace=workspace, access=AccessToken.Access.OWNER, revoke_time=None
    )
    for token in tokens.order_by("create_time", "pk"):
        holders.append(Holder("token", token.description, owner))
    unique: dict[tuple[str, str, str], Holder] = {}
    for holder in holders:
        unique.setdefault((holder.kind, holder.name, holder.why), holder)
    return list(unique.values())


# --- the CSV -------------------------------------------------------------------------------

CSV_COLUMNS = (
    "path",
    "classification",
    "masked",
    "sources",
    "event_types",
    "events",
    "sample_count",
    "last_seen",
    "classified_by",
    "update_time",
)


def _cell(value: object) -> str:
    """Text a spreadsheet shows as it is: a leading = + - @ would start a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _joined(values: Sequence[str]) -> str:
    return "; ".join(v for v in values if v)


def inventory_csv(workspace: Workspace, principal: Principal) -> str:
    """The whole Inventory as CSV, whatever filters a page shows (as the docs say)."""
    rows = inventory_queryset(workspace, principal).order_by("path", "pk")
    seen: dict[str, dict[str, Any]] = {
        row["path"]: dict(row)
        for row in ObservedField.objects.filter(workspace=workspace)
        .values("path")
        .annotate(
            sources=ArrayAgg("source__slug", distinct=True, order_by="source__slug"),
            types=ArrayAgg("event_type", distinct=True, order_by="event_type"),
            names=ArrayAgg("event_name", distinct=True, order_by="event_name"),
            total=Sum("sample_count"),
            last=Max("last_seen"),
        )
        .order_by()
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        observed: dict[str, Any] = seen.get(row.path, {})
        last = observed.get("last")
        writer.writerow(
            [
                _cell(row.path),
                row.classification,
                "yes" if row.restricted else "no",
                _cell(_joined(observed.get("sources", []))),
                _cell(_joined(observed.get("types", []))),
                _cell(_joined(observed.get("names", []))),
                observed.get("total", 0),
                last.isoformat() if last else "",
                _cell(row.classified_by.get_username() if row.classified_by else ""),
                row.update_time.isoformat(),
            ]
        )
    return out.getvalue()
