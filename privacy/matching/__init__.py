"""PII matchers and what they flag in an event: pure (no Django, no database).

The Privacy Portal's detection rules, as the docs and reference state them:

* A matcher matches on the **key** (a field's name, e.g. "CCN") or on the
  **value** (e.g. ``123-456-7890``), and recommends **Red** or **Yellow**.
* Key matching compares the field name with the matcher's name and synonyms,
  **exactly** ("phone number", never "phne number") or, when the matcher's
  precision is **similar**, by Sørensen-Dice similarity above 0.7 (Segment uses
  github.com/imjasonmiller/godice). Names are compared case-folded with
  everything but letters and digits removed, so ``phoneNumber``, ``phone_number``
  and ``Phone Number`` are the same key (and "email" is "e-mail"). A key
  matcher's optional regular expression is also searched in the field name.
* Value matching searches the matcher's regular expression in string (and
  number) values, as Go's ``regexp.MatchString`` does: ``@example.com`` matches
  ``jane@example.com``. Patterns are RE2 (google-re2), the syntax of Go's
  regexp package, so lookarounds and backreferences are refused.
* Only fields under ``context``, ``traits`` and ``properties`` are scanned.
  A field path joins keys with dots and goes through arrays without an index
  (``properties.products.sku``), so one field is one path however many items.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import re2

SCANNED_ROOTS = ("context", "traits", "properties")
SIMILARITY_THRESHOLD = 0.7  # "If the score is > 0.7, then we say it's a match."
PATTERN_MAX = 1000
MAX_DEPTH = 32  # a hostile event cannot recurse us out of the stack


class Classification(StrEnum):
    RED = "RED"  # likely highly restricted
    YELLOW = "YELLOW"  # likely moderately restricted


class MatchOn(StrEnum):
    KEY = "KEY"
    VALUE = "VALUE"


class Precision(StrEnum):
    EXACT = "EXACT"
    SIMILAR = "SIMILAR"


class PatternError(ValueError):
    """A pattern RE2 (Go's regexp syntax) does not accept; the message says why."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the caller reports the error; RE2 would also print it
    return options


_OPTIONS = _options()


def compile_pattern(pattern: str) -> Any:
    """The compiled RE2 pattern, or PatternError naming what RE2 refused."""
    if len(pattern) > PATTERN_MAX:
        raise PatternError(f"the pattern is longer than {PATTERN_MAX} characters")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"invalid regular expression (RE2/Go syntax; lookarounds and backreferences "
            f"are not supported): {reason}"
        ) from exc


def compact(key: str) -> str:
    """A key as matchers compare it: case-folded letters and digits only."""
    return "".join(ch for ch in key.casefold() if ch.isalnum())


def dice(a: str, b: str) -> float:
    """Sørensen-Dice coefficient of two strings' bigrams (godice's CompareString)."""
    if a == b:
        return 1.0
    if len(a) < 2 or len(b) < 2:
        return 0.0
    bigrams: dict[str, int] = {}
    for i in range(len(a) - 1):
        pair = a[i : i + 2]
        bigrams[pair] = bigrams.get(pair, 0) + 1
    shared = 0
    for i in range(len(b) - 1):
        pair = b[i : i + 2]
        if bigrams.get(pair, 0) > 0:
            bigrams[pair] -= 1
            shared += 1
    return 2.0 * shared / (len(a) + len(b) - 2)


@dataclass(frozen=True)
class Matcher:
    """One matcher, default or custom. ``id`` is unique among a workspace's matchers."""

    id: str
    name: str
    classification: Classification
    match_on: MatchOn
    precision: Precision = Precision.EXACT
    synonyms: tuple[str, ...] = ()
    pattern: str = ""
    enabled: bool = True
    default: bool = False

    @property
    def key_names(self) -> tuple[str, ...]:
        """What a key matcher compares field names with: its name and synonyms."""
        return (self.name, *self.synonyms)


def overrides(custom: Matcher, default: Matcher) -> bool:
    """A custom matcher "replicates and overwrites" the default of the same name."""
    return compact(custom.name) == compact(default.name)


def effective(defaults: Iterable[Matcher], customs: Iterable[Matcher]) -> list[Matcher]:
    """The matchers that scan a workspace's events: the defaults no custom matcher
    overrides, then the enabled custom matchers. A disabled override still replaces
    its default: that is how a default is switched off."""
    customs = list(customs)
    taken = {compact(c.name) for c in customs}
    kept = [d for d in defaults if compact(d.name) not in taken]
    return [*kept, *(c for c in customs if c.enabled)]


@dataclass(frozen=True)
class Field:
    path: str  # "properties.address.city"
    key: str  # "city"
    value: Any


def fields(event: Mapping[str, Any]) -> Iterator[Field]:
    """Every field under the scanned roots, objects and array items included."""
    for root in SCANNED_ROOTS:
        node = event.get(root)
        if isinstance(node, Mapping):
            yield from _walk(node, root, 0)


def _walk(node: Mapping[str, Any], prefix: str, depth: int) -> Iterator[Field]:
    if depth >= MAX_DEPTH:
        return
    for key, value in node.items():
        key = str(key)
        path = f"{prefix}.{key}"
        yield Field(path, key, value)
        yield from _children(value, path, depth + 1)


def _children(value: Any, path: str, depth: int) -> Iterator[Field]:
    if isinstance(value, Mapping):
        yield from _walk(value, path, depth)
    elif isinstance(value, list) and depth < MAX_DEPTH:
        for item in value:
            if isinstance(item, Mapping):
                yield from _walk(item, path, depth)
            elif isinstance(item, list):
                yield from _children(item, path, depth + 1)


def _scalars(value: Any) -> Iterator[str]:
    """A field's values as value matchers read them: strings, and numbers as written."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, int | float):
        yield str(value)
    elif isinstance(value, list):
        for item in value:
            if not isinstance(item, Mapping | list):
                yield from _scalars(item)


@dataclass
class _Compiled:
    matcher: Matcher
    names: tuple[str, ...]
    regex: Any | None = None


@dataclass
class Detector:
    """Matchers compiled once, applied to many events."""

    matchers: Sequence[Matcher]
    _compiled: list[_Compiled] = field(init=False)

    def __post_init__(self) -> None:
        self._compiled = [
            _Compiled(
                m,
                tuple(compact(n) for n in m.key_names if compact(n)),
                compile_pattern(m.pattern) if m.pattern else None,
            )
            for m in self.matchers
        ]

    def _key_matches(self, entry: _Compiled, key: str) -> bool:
        folded = compact(key)
        if folded and folded in entry.names:
            return True
        similar = entry.matcher.precision == Precision.SIMILAR and bool(folded)
        if similar and any(dice(folded, name) > SIMILARITY_THRESHOLD for name in entry.names):
            return True
        return entry.regex is not None and entry.regex.search(key) is not None

    def detect(self, event: Mapping[str, Any]) -> dict[str, list[str]]:
        """``{matcher id: [field paths it flags, sorted]}`` for the matchers that flag any."""
        found: dict[str, set[str]] = {}
        for item in fields(event):
            for entry in self._compiled:
                if entry.matcher.match_on == MatchOn.KEY:
                    hit = self._key_matches(entry, item.key)
                else:
                    regex = entry.regex
                    hit = regex is not None and any(
                        regex.search(text) is not None for text in _scalars(item.value)
                    )
                if hit:
                    found.setdefault(entry.matcher.id, set()).add(item.path)
        return {matcher_id: sorted(paths) for matcher_id, paths in found.items()}


def detect(event: Mapping[str, Any], matchers: Sequence[Matcher]) -> dict[str, list[str]]:
    return Detector(matchers).detect(event)
