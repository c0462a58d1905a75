"""A space's identity rules as the engine reads them: per identifier type its
priority, value limit (ever or per sliding period) and blocked values.

Blocked patterns are RE2 (Go's syntax, linear time: an admin's pattern can't
stall the pipeline), searched anywhere in the value as Go's ``MatchString``
does; the suggested "zeroes and dashes" pattern anchors itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, NamedTuple

import re2

from engage.identity import defaults

# Sliding windows: a value counts towards the limit while it was seen within it.
WINDOWS: dict[str, timedelta | None] = {
    "EVER": None,
    "WEEKLY": timedelta(days=7),
    "MONTHLY": timedelta(days=30),
    "ANNUALLY": timedelta(days=365),
}


class Rule(NamedTuple):
    type: str
    priority: int  # 1 = highest
    limit: int
    period: str = defaults.DEFAULT_PERIOD
    blocked_values: tuple[Mapping[str, Any], ...] = ()

    @property
    def window(self) -> timedelta | None:
        return WINDOWS.get(self.period)


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False
    return options


_OPTIONS = _options()


class _Blocks:
    __slots__ = ("exact", "patterns")

    def __init__(self, entries: Iterable[Mapping[str, Any]]) -> None:
        self.exact: frozenset[str] = frozenset(
            str(e.get("value", "")) for e in entries if e.get("kind") != defaults.REGEX
        )
        patterns = []
        for entry in entries:
            if entry.get("kind") != defaults.REGEX:
                continue
            try:
                patterns.append(re2.compile(str(entry.get("value", "")), _OPTIONS))
            except re2.error:
                # Settings validate patterns when saved; a bad row must not stop resolution.
                continue
        self.patterns = tuple(patterns)

    def match(self, value: str) -> bool:
        if value in self.exact:
            return True
        return any(p.search(value) is not None for p in self.patterns)


ANSWERS_KEPT = 100_000  # blocked-value answers a Settings remembers (about 15 MB)


class Settings:
    """The rules of one space. A type the space has no row for (a new type in
    ``context.externalIds``) gets :meth:`preset`: ranked after every configured
    type, with the default limit and period; the service adds its row."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: dict[str, Rule] = {r.type: r for r in rules}
        self._blocks = {t: _Blocks(r.blocked_values) for t, r in self.rules.items()}
        self._lowest = max((r.priority for r in self.rules.values()), default=0)
        self._answers: dict[tuple[str, str], bool] = {}
        # Types read from trait and property keys: configured ones without a
        # documented message location (custom identifiers).
        self.keyed_types: tuple[str, ...] = tuple(
            sorted(t for t in self.rules if t not in defaults.LOCATIONS)
        )
        self.located: tuple[defaults.IdentifierSource, ...] = tuple(
            source for t, source in defaults.LOCATIONS.items() if t in self.rules
        )
        # The sources read on a condition, grouped by their first one (the device
        # type): a message from neither platform skips each group with one read.
        groups: dict[tuple[defaults.Path, Any], list[defaults.IdentifierSource]] = {}
        for source in self.located:
            if source.condition:
                groups.setdefault(source.condition[0], []).append(source)
        self.unconditional = tuple(source for source in self.located if not source.condition)
        self.conditional = tuple(
            (path, want, tuple(group)) for (path, want), group in groups.items()
        )
        # The unconditional sources as examine() reads them: each with its
        # collection, each path as its first key and the keys below it.
        self.reads: tuple[tuple[str, str, tuple[tuple[str, defaults.Path], ...]], ...] = tuple(
            (
                source.type,
                defaults.collection(source.type),
                tuple((path[0], path[1:]) for path in source.paths),
            )
            for source in self.unconditional
        )

    @classmethod
    def from_defaults(cls, blocked: bool = True) -> Settings:
        """The rules a new space is seeded with (engage.identity.defaults)."""
        suggested = tuple(defaults.suggested_blocked_values()) if blocked else ()
        return cls(
            Rule(d.type, d.priority, d.limit, d.period, suggested) for d in defaults.defaults()
        )

    def preset(self, type_: str) -> Rule:
        return Rule(type_, self._lowest + 1, defaults.DEFAULT_LIMIT, defaults.DEFAULT_PERIOD)

    def rule(self, type_: str) -> Rule:
        found = self.rules.get(type_)
        return found if found is not None else self.preset(type_)

    def priority(self, type_: str) -> int:
        found = self.rules.get(type_)
        return found.priority if found is not None else self._lowest + 1

    def blocked(self, type_: str, value: str) -> bool:
        # Known people's values come back event after event, and a pattern
        # search costs more than deciding the event: remember recent answers.
        key = (type_, value)
        known = self._answers.get(key)
        if known is not None:
            return known
        blocks = self._blocks.get(type_)
        answer = blocks is not None and blocks.match(value)
        if len(self._answers) >= ANSWERS_KEPT:
            self._answers.clear()
        self._answers[key] = answer
        return answer
