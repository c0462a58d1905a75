"""FQL ``match()`` patterns read as segmentio/glob reads them (the Go matcher
Segment's FQL uses: an adaptation of Go's ``path.Match`` where ``*`` and ``?`` also
match ``/``). Vectors come from its ``glob_test.go`` and its grammar comment.

One deliberate difference: the Go matcher reports a malformed pattern only when a
subject reaches the bad part (``Match("a[", "a")`` is a plain false), while FQL
refuses a malformed literal pattern when the expression is compiled, whatever the
subject: a saved trigger never holds a pattern that fails on some events.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connections.rules.fql import FQLSyntaxError, compile
from connections.rules.fql.glob import GlobError, glob_match

# glob_test.go, matchTests: rows whose error is nil (pattern, subject, match).
WELL_FORMED = [
    ("abc", "abc", True),
    ("*", "abc", True),
    ("*c", "abc", True),
    ("*b", "abc", False),
    ("a*", "a", True),
    ("a*", "abc", True),
    ("a*", "ab/c", True),
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("*a*b*c*", "abcabcabc", True),
    ("ab[c]", "abc", True),
    ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "ab", False),
    ("a?b", "a☺b", True),
    ("a[^a]b", "a☺b", True),
    ("a???b", "a☺b", False),
    ("a[^a][^a][^a]b", "a☺b", False),
    ("[a-ζ]*", "\N{GREEK SMALL LETTER ALPHA}", True),
    ("*[a-ζ]", "A", False),
    ("a?b", "a/b", True),
    ("a*b", "a/b", True),
    ("[\\]a]", "]", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "x", True),
    ("[x\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("[\\-x]", "x", True),
    ("[\\-x]", "-", True),
    ("[\\-x]", "a", False),
    ("*x", "xxx", True),
]

# glob.go's grammar (character-range: c, '\\' c, lo '-' hi, any number of them) and
# its matchChunk: several ranges in one class, ranges mixed with characters, an
# escaped range end, reversed ends (no error, no match), '*' and '[' inside a class.
CLASSES = [
    ("[a-cx-z]", "b", True),
    ("[a-cx-z]", "y", True),
    ("[a-cx-z]", "m", False),
    ("[^a-cx-z]", "m", True),
    ("[^a-cx-z]", "z", False),
    ("[0-9a-fA-F][0-9a-fA-F]", "c3", True),
    ("[0-9a-fA-F][0-9a-fA-F]", "g3", False),
    ("[ab-dz]", "c", True),
    ("[ab-dz]", "z", True),
    ("[ab-dz]", "e", False),
    ("[\\--z]", "-", True),
    ("[\\--z]", "Z", True),
    ("[a-\\z]", "m", True),
    ("[z-a]", "a", False),
    ("[z-a]", "q", False),
    ("[^z-a]", "q", True),
    ("[*]", "*", True),
    ("[*]", "a", False),
    ("[*]x", "*x", True),
    ("[[]", "[", True),
    ("[a^]", "^", True),
    ("[!a]", "!", True),
    ("[!a]", "b", False),
    ("a]b", "a]b", True),
    ("[\\]*]*", "]]**", True),
]

# glob_test.go, matchTests: rows whose error is ErrBadPattern (for at least the
# subject the Go test gives), and the message FQL gives for each.
MALFORMED = [
    ("[]a]", "empty character class"),
    ("[-]", "must be escaped (\\-)"),
    ("[x-]", "must be escaped (\\-)"),
    ("[-x]", "must be escaped (\\-)"),
    ("\\", "trailing backslash"),
    ("[a-b-c]", "must be escaped (\\-)"),
    ("[", "unterminated character class"),
    ("[^", "unterminated character class"),
    ("[^bc", "unterminated character class"),
    ("a[", "unterminated character class"),
    # and from the grammar: an empty class, ']' or '-' where a character must be
    ("[]", "empty character class"),
    ("[^]", "empty character class"),
    ("[^-a]", "must be escaped (\\-)"),
    ("[a-cx-]", "must be escaped (\\-)"),
    ("[a--]", "must be escaped (\\-)"),
    ("[a-", "unterminated character class"),
    ("[a\\", "trailing backslash"),
]


@pytest.mark.parametrize(("pattern", "subject", "expected"), WELL_FORMED + CLASSES)
def test_glob_matches_like_segmentio_glob(pattern: str, subject: str, expected: bool) -> None:
    assert glob_match(subject, pattern) is expected
    fql = compile("match(s, p)")
    assert fql.matches({"s": subject, "p": pattern}) is expected


@pytest.mark.parametrize(("pattern", "message"), MALFORMED)
def test_malformed_patterns_are_refused_with_a_reason(pattern: str, message: str) -> None:
    with pytest.raises(GlobError, match=re.escape(message)):
        glob_match("a", pattern)
    literal = pattern.replace("\\", "\\\\").replace("'", "\\'")
    with pytest.raises(FQLSyntaxError, match=re.escape(message)):
        compile(f"match(s, '{literal}')")


# Well-formed classes built from the grammar, checked against a regular expression
# built from the same parts (an independent reading of what each term means).
ALPHABET = "ab-]^\\z*"
chars = st.sampled_from(ALPHABET)


def _escape(c: str) -> str:
    return "\\" + c if c in "-]\\^[*?" else c


@st.composite
def classes(draw: st.DrawFn) -> tuple[str, str]:
    negated = draw(st.booleans())
    terms = draw(st.lists(st.tuples(chars, st.none() | chars), min_size=1, max_size=3))
    glob, regex = "[" + ("^" if negated else ""), "[" + ("^" if negated else "")
    for lo, hi in terms:
        if hi is None:
            glob += _escape(lo)
            regex += re.escape(lo)
        else:
            glob += _escape(lo) + "-" + _escape(hi)
            # A reversed range matches nothing; a regex can't say that inside a class.
            regex += f"{re.escape(lo)}-{re.escape(hi)}" if lo <= hi else ""
    if regex in ("[", "[^"):  # only reversed ranges
        return glob + "]", "(?!)" if not negated else "."
    return glob + "]", regex + "]"


@st.composite
def patterns(draw: st.DrawFn) -> tuple[str, str]:
    parts = draw(
        st.lists(
            st.sampled_from(["*", "?", "a", "-", "]", "^"]).map(lambda c: (c, c)) | classes(),
            max_size=5,
        )
    )
    glob = regex = ""
    for g, r in parts:
        if g == "*":
            glob, regex = glob + "*", regex + ".*"
        elif g == "?":
            glob, regex = glob + "?", regex + "."
        elif len(g) == 1:
            glob, regex = glob + g, regex + re.escape(g)
        else:
            glob, regex = glob + g, regex + r
    return glob, regex


@settings(max_examples=400, deadline=None)
@given(patterns(), st.text(alphabet="ab-]^\\z*c", max_size=8))
def test_generated_classes_agree_with_their_regex(pattern: tuple[str, str], subject: str) -> None:
    glob, regex = pattern
    expected = re.fullmatch(regex, subject, re.DOTALL) is not None
    assert glob_match(subject, glob) is expected, (glob, regex)
