"""Full-string glob matching for ``match()``.

Syntax: ``*``, ``?``, ``[abc]``, ``[a-z]``, ``[^a-z]``, ``[a-cx-z]`` and ``\\x`` (a
literal ``x``), read as segmentio/glob (the matcher Segment's FQL ``match()`` uses)
reads them; a pattern it would call malformed is refused up front.

Patterns are compiled into a matcher function. No regular expressions are used, so no
pattern character can take on a regex meaning, and matching is O(len(s) * len(pattern))
in the worst case (no exponential backtracking).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .errors import FQLError


class GlobError(FQLError):
    """A malformed glob pattern."""


@dataclass(frozen=True, slots=True)
class _Class:
    negated: bool
    chars: frozenset[str]
    ranges: tuple[tuple[str, str], ...]

    def matches(self, c: str) -> bool:
        hit = c in self.chars or any(lo <= c <= hi for lo, hi in self.ranges)
        return hit != self.negated


class _Star:
    pass


class _AnyChar:
    pass


STAR = _Star()
ANY = _AnyChar()
Item = str | _Class | _Star | _AnyChar


def parse_glob(pattern: str) -> list[Item]:
    items: list[Item] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise GlobError("bad pattern: trailing backslash")
            items.append(pattern[i + 1])
            i += 2
        elif c == "*":
            if not items or items[-1] is not STAR:  # '**' is the same as '*'
                items.append(STAR)
            i += 1
        elif c == "?":
            items.append(ANY)
            i += 1
        elif c == "[":
            cls, i = _parse_class(pattern, i + 1)
            items.append(cls)
        else:
            items.append(c)
            i += 1
    return items


def _parse_class(pattern: str, i: int) -> tuple[_Class, int]:
    """A class as segmentio/glob (Go's ``path.Match``) reads one: terms are a
    character or ``lo-hi``, any number of them; ``]`` closes the class only after a
    term; an unescaped ``-`` or ``]`` can't be a term, so ``[-a]``, ``[a-]``,
    ``[a-b-c]`` and ``[]a]`` are malformed (escape them: ``[\\-a]``). A range whose
    ends are reversed is allowed and matches nothing, as there."""
    n = len(pattern)
    negated = False
    if i < n and pattern[i] == "^":
        negated = True
        i += 1
    chars: set[str] = set()
    ranges: list[tuple[str, str]] = []
    terms = 0
    while True:
        if i < n and pattern[i] == "]" and terms:
            return _Class(negated, frozenset(chars), tuple(ranges)), i + 1
        lo, i = _class_char(pattern, i, empty=not terms)
        terms += 1
        if pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1, empty=False)
            if lo <= hi:  # reversed ends match nothing, and aren't an error
                ranges.append((lo, hi))
        else:
            chars.add(lo)


_EMPTY = "bad pattern: empty character class (a ']' in a class must be escaped: \\])"
_DASH = (
    "bad pattern: a '-' in a character class must be escaped (\\-) "
    "unless it joins a range such as a-z"
)


def _class_char(pattern: str, i: int, *, empty: bool) -> tuple[str, int]:
    """The possibly escaped class character at ``i``; something (at least the
    closing ``]``) must follow it."""
    n = len(pattern)
    if i >= n:
        raise GlobError("bad pattern: unterminated character class")
    c = pattern[i]
    if c == "]":
        # Not first: it ends a range, as in ``[a-]``.
        raise GlobError(_EMPTY if empty else _DASH)
    if c == "-":
        raise GlobError(_DASH)
    if c == "\\":
        i += 1
        if i >= n:
            raise GlobError("bad pattern: trailing backslash")
        c = pattern[i]
    if i + 1 >= n:
        raise GlobError("bad pattern: unterminated character class")
    return c, i + 1


def _literal_matcher(parts: list[str]) -> Callable[[str], bool]:
    """Patterns whose only wildcard is ``*``: parts are the literal runs between stars."""
    if len(parts) == 1:
        only = parts[0]
        return lambda s: s == only
    first, last = parts[0], parts[-1]
    middle = parts[1:-1]
    if not middle:
        if not last:
            return lambda s: s.startswith(first)
        if not first:
            return lambda s: s.endswith(last)
        min_len = len(first) + len(last)
        return lambda s: len(s) >= min_len and s.startswith(first) and s.endswith(last)
    min_len = sum(len(p) for p in parts)

    def match(s: str) -> bool:
        if len(s) < min_len or not s.startswith(first) or not s.endswith(last):
            return False
        pos = len(first)
        end = len(s) - len(last)
        for part in middle:
            # Leftmost placement of each literal run is always safe.
            found = s.find(part, pos, end)
            if found < 0:
                return False
            pos = found + len(part)
        return True

    return match


def _general_matcher(items: list[Item]) -> Callable[[str], bool]:
    def one(item: Item, c: str) -> bool:
        if item is ANY:
            return True
        if isinstance(item, str):
            return item == c
        assert isinstance(item, _Class)
        return item.matches(c)

    m = len(items)

    def match(s: str) -> bool:
        n = len(s)
        i = j = 0
        star_j = -1
        star_i = 0
        while i < n:
            if j < m and items[j] is STAR:
                star_j = j
                star_i = i
                j += 1
            elif j < m and one(items[j], s[i]):
                i += 1
                j += 1
            elif star_j >= 0:
                # Let the last star swallow one more character and retry.
                star_i += 1
                i = star_i
                j = star_j + 1
            else:
                return False
        while j < m and items[j] is STAR:
            j += 1
        return j == m

    return match


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> Callable[[str], bool]:
    """Return a function testing whether a string fully matches ``pattern``."""
    items = parse_glob(pattern)
    if all(isinstance(item, str) or item is STAR for item in items):
        parts: list[str] = [""]
        for item in items:
            if item is STAR:
                parts.append("")
            else:
                assert isinstance(item, str)
                parts[-1] += item
        return _literal_matcher(parts)
    return _general_matcher(items)


def glob_match(s: str, pattern: str) -> bool:
    return compile_glob(pattern)(s)
