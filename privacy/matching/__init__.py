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

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
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


# Why the Detector is built the way it is (the bar: >= 10x a per-matcher loop):
# keys repeat across events, so what a key matches is computed once per distinct key
# and kept in a bounded cache; every value pattern is compiled into one RE2 set, so a
# scalar is scanned once for all value matchers instead of once per matcher, and short
# values (a library name, a currency, a user agent) are also remembered, boundedly.
# A worker keeps many workspaces' Detectors, so each cache stays well under a megabyte
# however hostile the events: longer keys and values are matched every time, and
# more distinct ones than fit only evict older ones.
KEY_CACHE_SIZE = 1024
VALUE_CACHE_SIZE = 1024
CACHED_MAX_LEN = 128
SET_MAX_MEM = 32 << 20  # RE2's budget for the set (program + DFA cache), used lazily
_ALWAYS = ""  # an extra set member that matches every text: its absence means failure


def _set_options() -> Any:
    options = _options()
    options.max_mem = SET_MAX_MEM
    return options


class _Similar:
    """Dice above the threshold against every SIMILAR name at once, through an index of
    the names' bigrams. godice counts a bigram of b as shared while a still has one
    left, so a pair shares, per bigram, the smaller of its two counts: summing those
    over the index gives each name's count, and the score is dice's own arithmetic."""

    def __init__(self, similar: Sequence[tuple[int, tuple[str, ...]]]) -> None:
        self.names: list[tuple[int, int]] = []  # (matcher position, name length)
        self.index: dict[str, list[tuple[int, int]]] = {}  # bigram -> (name, count)
        for position, names in similar:
            for name in dict.fromkeys(names):
                if len(name) < 2:  # dice is 0.0, or 1.0 for the name itself: exact's
                    continue
                for bigram, count in _bigrams(name).items():
                    self.index.setdefault(bigram, []).append((len(self.names), count))
                self.names.append((position, len(name)))

    def positions(self, folded: str) -> set[int]:
        size = len(folded)
        if size < 2:
            return set()
        shared: dict[int, int] = {}
        for bigram, count in _bigrams(folded).items():
            for name, theirs in self.index.get(bigram, ()):
                shared[name] = shared.get(name, 0) + min(count, theirs)
        found = set()
        for name, count in shared.items():
            position, length = self.names[name]
            if 2.0 * count / (size + length - 2) > SIMILARITY_THRESHOLD:
                found.add(position)
        return found


def _bigrams(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in range(len(text) - 1):
        pair = text[i : i + 2]
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def _key_matcher(
    exact: Mapping[str, tuple[int, ...]],
    similar: _Similar,
    regexes: Sequence[tuple[int, Any]],
) -> Callable[[str], tuple[int, ...]]:
    """What one key matches: the positions of the key matchers that flag it, ascending."""

    def match(key: str) -> tuple[int, ...]:
        folded = compact(key)
        hits = set(exact.get(folded, ()))
        hits.update(similar.positions(folded))
        for position, regex in regexes:
            if position not in hits and regex.search(key) is not None:
                hits.add(position)
        return tuple(sorted(hits))

    return match


class _ValueSet:
    """Every value pattern in one RE2 set; each pattern also alone, as the fallback.

    RE2 reports a set's out-of-memory as "no match" (the binding drops the error),
    so the set carries a member that matches everything: a result without it means
    the set failed, and that text is searched pattern by pattern instead. A set that
    will not compile at all (too large) leaves every text to the single patterns.
    """

    def __init__(self, patterns: Sequence[tuple[int, Any, str]]) -> None:
        self.positions = tuple(position for position, _, _ in patterns)
        self.singles = tuple((position, regex) for position, regex, _ in patterns)
        self.set: Any | None = re2.Set.SearchSet(_set_options())
        try:
            for _, _, pattern in patterns:
                self.set.Add(pattern)
            self.always = self.set.Add(_ALWAYS)
            self.set.Compile()
        except re2.error:
            self.set = None
        self._cached = lru_cache(maxsize=VALUE_CACHE_SIZE)(self._search)

    def search(self, text: str) -> tuple[int, ...]:
        """The positions of the value matchers whose pattern occurs in ``text``, ascending."""
        if len(text) <= CACHED_MAX_LEN:
            return self._cached(text)
        return self._search(text)

    def _search(self, text: str) -> tuple[int, ...]:
        if self.set is not None:
            found = self.set.Match(text)
            if found is not None:
                if len(found) == 1:  # the always-matching member alone
                    return ()
                always, positions = self.always, self.positions
                return tuple(positions[i] for i in sorted(found) if i != always)
        return tuple(position for position, regex in self.singles if regex.search(text) is not None)


@dataclass
class Detector:
    """Matchers compiled once, applied to many events."""

    matchers: Sequence[Matcher]
    _ids: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _match_key: Callable[[str], tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _key_hits: Callable[[str], tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _values: _ValueSet | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._ids = tuple(m.id for m in self.matchers)
        exact: dict[str, list[int]] = {}
        similar: list[tuple[int, tuple[str, ...]]] = []
        key_regexes: list[tuple[int, Any]] = []
        value_patterns: list[tuple[int, Any, str]] = []
        for position, matcher in enumerate(self.matchers):
            regex = compile_pattern(matcher.pattern) if matcher.pattern else None
            if matcher.match_on != MatchOn.KEY:
                if regex is not None:
                    value_patterns.append((position, regex, matcher.pattern))
                continue
            names = tuple(compact(n) for n in matcher.key_names if compact(n))
            for name in dict.fromkeys(names):
                exact.setdefault(name, []).append(position)
            if matcher.precision == Precision.SIMILAR and names:
                similar.append((position, names))
            if regex is not None:
                key_regexes.append((position, regex))
        exact_hits = {name: tuple(positions) for name, positions in exact.items()}
        self._match_key = _key_matcher(exact_hits, _Similar(similar), key_regexes)
        self._key_hits = lru_cache(maxsize=KEY_CACHE_SIZE)(self._match_key)
        self._values = _ValueSet(value_patterns) if value_patterns else None

    def detect(self, event: Mapping[str, Any]) -> dict[str, list[str]]:
        """``{matcher id: [field paths it flags, sorted]}`` for the matchers that flag any."""
        found: dict[str, set[str]] = {}
        for root in SCANNED_ROOTS:
            node = event.get(root)
            if isinstance(node, Mapping):
                self._scan(node, root, 0, found)
        return {matcher_id: sorted(paths) for matcher_id, paths in found.items()}

    # The walk below is fields() inlined (same order, depth bound and paths; exact type
    # checks first, the isinstance ones after), so a field's path is only built when
    # something flags it or it has children.
    def _scan(
        self, node: Mapping[str, Any], prefix: str, depth: int, found: dict[str, set[str]]
    ) -> None:
        if depth >= MAX_DEPTH:
            return
        key_hits, values, ids = self._key_hits, self._values, self._ids
        for key, value in node.items():
            if type(key) is not str:
                key = str(key)
            hits: Sequence[int] = (
                key_hits(key) if len(key) <= CACHED_MAX_LEN else self._match_key(key)
            )
            kind = type(value)
            if kind is dict:
                nested = True
            elif kind is str:
                nested = False
                if values is not None:
                    flagged = values.search(value)
                    if flagged:
                        hits = sorted((*hits, *flagged)) if hits else flagged
            else:
                nested = isinstance(value, Mapping | list)
                if values is not None and value is not None:
                    flagged = _value_hits(values, value)
                    if flagged:
                        hits = sorted((*hits, *flagged)) if hits else flagged
            if hits or nested:
                path = f"{prefix}.{key}"
                for position in hits:
                    paths = found.get(ids[position])
                    if paths is None:
                        found[ids[position]] = {path}
                    else:
                        paths.add(path)
                if nested:
                    self._scan_children(value, path, depth + 1, found)

    def _scan_children(self, value: Any, path: str, depth: int, found: dict[str, set[str]]) -> None:
        if isinstance(value, Mapping):
            self._scan(value, path, depth, found)
        elif isinstance(value, list) and depth < MAX_DEPTH:
            for item in value:
                if isinstance(item, Mapping):
                    self._scan(item, path, depth, found)
                elif isinstance(item, list):
                    self._scan_children(item, path, depth + 1, found)


def _value_hits(values: _ValueSet, value: Any) -> tuple[int, ...]:
    """What flags a value that is not a str or a dict: _scalars, without its generator."""
    kind = type(value)
    if kind is int or kind is float:
        return values.search(str(value))
    if kind is list:
        hits: set[int] = set()
        for item in value:
            if type(item) is str:
                hits.update(values.search(item))
            elif not isinstance(item, Mapping | list):
                for text in _scalars(item):
                    hits.update(values.search(text))
        return tuple(sorted(hits))
    if isinstance(value, Mapping):
        return ()
    hits = set()
    for text in _scalars(value):
        hits.update(values.search(text))
    return tuple(sorted(hits))


def detect(event: Mapping[str, Any], matchers: Sequence[Matcher]) -> dict[str, list[str]]:
    return Detector(matchers).detect(event)
