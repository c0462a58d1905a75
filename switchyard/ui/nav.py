"""The workspace sidebar's app sections: what an app adds to the navigation.

The kernel lists no app, so an app that has pages of its own registers its
entries from ``AppConfig.ready`` (``nav.register(...)``) and ``base.html`` shows
them (``{% app_nav as sections %}``, from ``switchyard_nav``) below the
Connections section, in registration order. Workspace and Connections predate
this hook and stay written into ``base.html``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str  # reversed with the workspace's slug as its only argument
    nav: str  # the ``nav`` a page passes in its context to mark the entry active
    owners_only: bool = False  # shown only to those who may administer the workspace


@dataclass(frozen=True)
class NavSection:
    title: str
    entries: tuple[NavEntry, ...]

    @property
    def owners_only(self) -> bool:
        return all(entry.owners_only for entry in self.entries)


_sections: dict[str, NavSection] = {}


def register(title: str, *entries: NavEntry) -> None:
    """Add (or replace, so a reloaded app cannot duplicate it) a sidebar section."""
    _sections[title] = NavSection(title, entries)


def sections() -> tuple[NavSection, ...]:
    return tuple(_sections.values())
