"""Reads for the UI and API: a workspace's matchers, defaults and custom together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from privacy.matching import Detector, Matcher, effective, overrides
from privacy.matching.defaults import DEFAULT_MATCHERS
from privacy.models import PiiMatcher
from workspace.models import Workspace


@dataclass(frozen=True)
class Entry:
    """One row of the matcher list: a default (``row`` None) or a custom matcher."""

    workspace_slug: str
    matcher: Matcher
    row: PiiMatcher | None = None
    overridden_by: str = ""  # a default replaced by this custom matcher id
    overrides: str = ""  # the default this custom matcher replaces

    @property
    def list_key(self) -> str:
        """Defaults first, in the docs' order, then custom matchers, oldest first."""
        if self.row is None:
            return f"0:{_POSITION[self.matcher.id]:04d}"
        return f"1:{self.row.create_time.isoformat()}:{self.row.pk:012d}"

    @property
    def resource_name(self) -> str:
        return f"workspaces/{self.workspace_slug}/pii-matchers/{self.matcher.id}"

    # The fields the API and the pages show, flat.
    @property
    def id(self) -> str:
        return self.matcher.id

    @property
    def display_name(self) -> str:
        return self.matcher.name

    @property
    def classification(self) -> str:
        return self.matcher.classification.value

    @property
    def match_on(self) -> str:
        return self.matcher.match_on.value

    @property
    def precision(self) -> str:
        return self.matcher.precision.value

    @property
    def pattern(self) -> str:
        return self.matcher.pattern

    @property
    def synonyms(self) -> list[str]:
        return list(self.matcher.synonyms)

    @property
    def enabled(self) -> bool:
        return self.matcher.enabled

    @property
    def default(self) -> bool:
        return self.row is None

    @property
    def create_time(self) -> Any:
        return self.row.create_time if self.row else None

    @property
    def update_time(self) -> Any:
        return self.row.update_time if self.row else None


_POSITION = {m.id: i for i, m in enumerate(DEFAULT_MATCHERS)}


def custom_matchers(workspace: Workspace) -> list[PiiMatcher]:
    return list(
        PiiMatcher.objects.filter(workspace=workspace)
        .select_related("workspace")
        .order_by("create_time", "pk")
    )


def entry_for(workspace: Workspace, row: PiiMatcher) -> Entry:
    replaced = next((d.id for d in DEFAULT_MATCHERS if overrides(row.as_matcher(), d)), "")
    return Entry(workspace.slug, row.as_matcher(), row, overrides=replaced)


def entries(workspace: Workspace, rows: list[PiiMatcher] | None = None) -> list[Entry]:
    """Every matcher of the workspace: the defaults (each marked when a custom
    matcher overrides it), then the custom matchers."""
    rows = custom_matchers(workspace) if rows is None else rows
    customs = [entry_for(workspace, row) for row in rows]
    by_default = {c.overrides: c.matcher.id for c in customs if c.overrides}
    defaults = [
        Entry(workspace.slug, d, overridden_by=by_default.get(d.id, "")) for d in DEFAULT_MATCHERS
    ]
    return [*defaults, *customs]


def default_entry(workspace: Workspace, matcher_id: str) -> Entry | None:
    for entry in entries(workspace):
        if entry.row is None and entry.matcher.id == matcher_id:
            return entry
    return None


def effective_matchers(workspace: Workspace) -> list[Matcher]:
    return effective(DEFAULT_MATCHERS, [row.as_matcher() for row in custom_matchers(workspace)])


@dataclass(frozen=True)
class Flag:
    matcher: Matcher
    paths: list[str]


def flag_fields(workspace: Workspace, event: dict[str, Any]) -> list[Flag]:
    """What each effective matcher flags in a sample event (the "test" panel)."""
    matchers = effective_matchers(workspace)
    found = Detector(matchers).detect(event)
    return [Flag(m, found[m.id]) for m in matchers if m.id in found]
