"""Keys of audiences and computed traits: the snake-cased display name
("Most Viewed Page Category" -> ``most_viewed_page_category``), immutable once
created. Keys become trait names on profiles and in destinations, so they are
kept to lower-case ASCII letters, digits and single underscores."""

from __future__ import annotations

import re
import unicodedata

KEY_MAX = 255
_KEY = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
# Word boundaries inside a run of letters: "pageViews" -> page|Views,
# "HTTPServer" -> HTTP|Server, "page2" stays whole.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")


def key_from_name(name: str) -> str:
    """The key Segment derives from a display name: words (split on anything
    but ASCII letters and digits, and at camelCase humps) lower-cased and joined
    by underscores; accents are dropped ("Café Visits" -> ``cafe_visits``).
    A name with no letters or digits gives "" (which :func:`key_error` refuses)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = [w for part in _NOT_WORD.split(ascii_name) for w in _CAMEL.split(part) if w]
    return "_".join(words).lower()[:KEY_MAX].rstrip("_")


def key_error(key: object) -> str | None:
    """Why ``key`` cannot be a key, or None."""
    if not isinstance(key, str) or not key:
        return "a key is a non-empty string"
    if len(key) > KEY_MAX:
        return f"a key has at most {KEY_MAX} characters"
    if _KEY.fullmatch(key) is None:
        return (
            "a key is snake_case: lower-case letters a-z, digits and single underscores "
            f"between words (for example {key_from_name(key) or 'big_spenders'!r})"
        )
    return None
