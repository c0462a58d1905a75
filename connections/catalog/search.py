"""The one search and category filter over the catalog: the API (``?search=``),
the catalog page and the add-destination picker all call it (the picker's
live filter in switchyard/static/switchyard/destinations.js matches the same
way). Every word of the search must appear, case-insensitively, in an
entry's slug, name, description or categories."""

from __future__ import annotations

from collections.abc import Iterable

from switchyard.errors import InvalidArgument

from .definitions import (
    DESTINATION_CATEGORIES,
    SOURCE_CATEGORIES,
    DestinationDefinition,
    SourceType,
)


def _words(search: str) -> list[str]:
    return search.casefold().split()


def _matches(words: list[str], *texts: str) -> bool:
    haystack = " ".join(texts).casefold()
    return all(word in haystack for word in words)


def source_category(value: str) -> str:
    """The source category named by ``value`` (any case); InvalidArgument if none."""
    found = value.strip().casefold()
    if found not in SOURCE_CATEGORIES:
        raise InvalidArgument(
            f"unknown category {value!r}: one of {', '.join(SOURCE_CATEGORIES)}", field="category"
        )
    return found


def destination_category(value: str) -> str:
    """The destination category named by ``value`` (any case); InvalidArgument if none."""
    by_folded = {c.casefold(): c for c in DESTINATION_CATEGORIES}
    found = by_folded.get(value.strip().casefold())
    if found is None:
        raise InvalidArgument(
            f"unknown category {value!r}: one of {', '.join(DESTINATION_CATEGORIES)}",
            field="category",
        )
    return found


def filter_source_types(
    items: Iterable[SourceType], *, search: str = "", category: str = ""
) -> list[SourceType]:
    """Source types whose slug, name, category or description contain every word of
    ``search`` (case-insensitive), in ``category`` when one is given."""
    wanted = source_category(category) if category.strip() else ""
    words = _words(search)
    return [
        s
        for s in items
        if (not wanted or s.category == wanted)
        and _matches(words, s.slug, s.name, s.category, s.description)
    ]


def filter_destinations(
    items: Iterable[DestinationDefinition], *, search: str = "", category: str = ""
) -> list[DestinationDefinition]:
    """Destinations whose slug, name, categories or description contain every word
    of ``search`` (case-insensitive), in ``category`` when one is given."""
    wanted = destination_category(category) if category.strip() else ""
    words = _words(search)
    return [
        d
        for d in items
        if (not wanted or wanted in d.categories)
        and _matches(words, d.slug, d.name, d.description, *d.categories)
    ]
