"""The fast Detector (caches, one RE2 set) flags exactly what a plain per-matcher loop does."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import privacy.matching as matching
from privacy.matching import (
    SIMILARITY_THRESHOLD,
    Classification,
    Detector,
    Matcher,
    MatchOn,
    Precision,
    compact,
    compile_pattern,
    dice,
    fields,
)
from privacy.matching.defaults import DEFAULT_MATCHERS

SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


# -- the reference: every matcher on every field, one pattern at a time -----------------------


def _scalars(value: Any) -> Iterator[str]:
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


def _key_matches(matcher: Matcher, names: list[str], regex: Any, key: str) -> bool:
    folded = compact(key)
    if folded and folded in names:
        return True
    if (
        matcher.precision == Precision.SIMILAR
        and folded
        and any(dice(folded, name) > SIMILARITY_THRESHOLD for name in names)
    ):
        return True
    return regex is not None and regex.search(key) is not None


def _detect_reference(event: Mapping[str, Any], matchers: list[Matcher]) -> dict[str, list[str]]:
    compiled = [
        (
            m,
            [compact(n) for n in m.key_names if compact(n)],
            compile_pattern(m.pattern) if m.pattern else None,
        )
        for m in matchers
    ]
    found: dict[str, set[str]] = {}
    for item in fields(event):
        for matcher, names, regex in compiled:
            if matcher.match_on == MatchOn.KEY:
                hit = _key_matches(matcher, names, regex, item.key)
            else:
                hit = regex is not None and any(
                    regex.search(text) is not None for text in _scalars(item.value)
                )
            if hit:
                found.setdefault(matcher.id, set()).add(item.path)
    return {matcher_id: sorted(paths) for matcher_id, paths in found.items()}


def assert_agrees(detector: Detector, event: Mapping[str, Any]) -> None:
    expected = _detect_reference(event, list(detector.matchers))
    # The same matchers in the same order (the order the test panel lists them in).
    assert list(detector.detect(event).items()) == list(expected.items())


# -- generated events and matchers ------------------------------------------------------------

KEYS = [
    "email",
    "e-mail",
    "emails",
    "Email Address",
    "phone",
    "phoneNumber",
    "phne number",
    "CCN",
    "credit_card",
    "zip",
    "ZIP_CODE",
    "name",
    "firstName",
    "username_length",
    "ip",
    "taxid2",
    "tax",
    "syntax",
    "sku",
    "products",
    "address",
    "ssn",
    "αριθμός",
    "",
    "--",
    "1",
    "email" * 30,  # longer than the caches keep
]
VALUES = [
    "jane@example.com",
    "jane at example",
    "192.168.10.1",
    "2001:db8::1",
    "12:30:45",
    "123-456-7890",
    "1234567890",
    "4111 1111 1111 1111",
    "Big Apple pie",
    "Number 1",
    "1234567",
    "αβγ",
    "x\n",
    "",
    "tax_id7",
    "a" * 300,  # longer than the caches keep
]
PATTERNS = [
    "",
    "a*",
    "^$",
    "$",
    "(?i)apple",
    r"\d",
    r"^\d{7}$",
    r"@example\.com",
    r"\p{Greek}+",
    "[[:alpha:]]+",
    r"^tax_?id\d*$",
    "e",
    ".",
    r"\bpie\b",
    "^(?:a|b)+$",
    "(?m)^x$",
]

keys = st.one_of(st.sampled_from(KEYS), st.text(alphabet="aeimlp_- .Z1\u03b1", max_size=8))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.sampled_from([1234567, 1.5, -0.0, float("inf"), float("nan")]),
    st.sampled_from(VALUES),
    st.text(alphabet="aAe@.1 -:pie\u03b1\n", max_size=10),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)
objects = st.dictionaries(keys, values, max_size=6)
roots = st.one_of(objects, objects, st.sampled_from([None, "context", ["x"], 1]))
events = st.fixed_dictionaries(
    {},
    optional={
        "context": roots,
        "traits": roots,
        "properties": roots,
        "integrations": objects,  # never scanned
        "userId": st.sampled_from(["u1", "jane@example.com"]),
    },
)


@st.composite
def custom_matchers(draw: st.DrawFn) -> Matcher:
    match_on = draw(st.sampled_from(MatchOn))
    return Matcher(
        # A small id pool: two matchers sharing an id merge their paths, as before.
        id=draw(st.sampled_from(["pm_1", "pm_2", "pm_3", "email", "pm_4", "pm_5"])),
        name=draw(keys),
        classification=Classification.RED,
        match_on=match_on,
        precision=draw(st.sampled_from(Precision)),
        synonyms=tuple(draw(st.lists(keys, max_size=3))),
        pattern=draw(st.sampled_from(PATTERNS)),
    )


matcher_lists = st.builds(
    lambda with_defaults, customs, order: (
        (list(DEFAULT_MATCHERS) if with_defaults else []) + customs
        if order
        else customs + (list(DEFAULT_MATCHERS) if with_defaults else [])
    ),
    st.booleans(),
    st.lists(custom_matchers(), max_size=8),
    st.booleans(),
)


@SETTINGS
@given(matcher_lists, st.lists(events, min_size=1, max_size=4))
def test_detector_agrees_with_the_reference(matchers: list[Matcher], sample: list[dict]) -> None:
    detector = Detector(matchers)
    for event in sample:
        assert_agrees(detector, event)
    for event in sample:  # again, now from the caches
        assert_agrees(detector, event)


# -- the exhaustive sample: every key and value against every default and pattern ------------


def test_every_sample_key_and_value_agrees_with_the_reference() -> None:
    customs = [
        Matcher(
            id=f"pm_{i}_{match_on}",
            name="tax id",
            classification=Classification.YELLOW,
            match_on=match_on,
            precision=Precision.SIMILAR,
            synonyms=("mail",),
            pattern=pattern,
        )
        for i, pattern in enumerate(PATTERNS)
        for match_on in MatchOn
    ]
    detector = Detector([*DEFAULT_MATCHERS, *customs])
    for key in KEYS:
        for value in [*VALUES, 1234567, 2.5, True, None, [VALUES[0], 1, [VALUES[2]]], {"a": 1}]:
            assert_agrees(detector, {"properties": {key: value}})


@pytest.mark.parametrize("wrap", ["dict", "list", "nested list", "mixed"])
def test_deep_events_stop_at_the_same_depth(wrap: str) -> None:
    detector = Detector([*DEFAULT_MATCHERS, value_matcher("@")])
    node: Any = {"email": "a@b.co"}
    for level in range(matching.MAX_DEPTH + 5):
        kind = wrap if wrap != "mixed" else ("dict", "list", "nested list")[level % 3]
        if kind == "dict":
            node = {"email": "a@b.co", "x": node}
        elif kind == "list":
            node = {"email": "a@b.co", "x": [node, "a@b.co"]}
        else:
            node = {"email": "a@b.co", "x": [[node], ["a@b.co"]]}
    assert_agrees(detector, {"properties": node})


# -- limits and failures ----------------------------------------------------------------------


def value_matcher(pattern: str, ident: str = "v") -> Matcher:
    return Matcher(
        id=ident, name=ident, classification=Classification.RED, match_on=MatchOn.VALUE,
        pattern=pattern,
    )  # fmt: skip


def test_a_value_set_too_large_for_re2_falls_back_to_one_pattern_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A budget no set of these patterns fits in: RE2 refuses to compile the set.
    monkeypatch.setattr(matching, "SET_MAX_MEM", 1 << 10)
    matchers = [value_matcher(rf"^ACCT-\d{{{n}}}$", f"v{n}") for n in range(4, 40)]
    detector = Detector([*DEFAULT_MATCHERS, *matchers])
    event = {"properties": {"a": "ACCT-12345678", "b": "jane@example.com", "c": "x"}}
    assert detector.detect(event) == {
        "v8": ["properties.a"],
        "email-value": ["properties.b"],
    }
    assert_agrees(detector, event)


class OutOfMemorySet:
    """What google-re2's Set.Match returns when RE2::Set::Match fails: no matches."""

    def Match(self, text: str) -> None:
        return None


def test_a_set_that_fails_at_match_time_is_not_read_as_no_match() -> None:
    detector = Detector([*DEFAULT_MATCHERS, value_matcher("@example")])
    assert detector._values is not None
    detector._values.set = OutOfMemorySet()
    found = detector.detect({"traits": {"contact": "jane@example.com"}})
    assert found == {"email-value": ["traits.contact"], "v": ["traits.contact"]}


def test_the_caches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "KEY_CACHE_SIZE", 16)
    monkeypatch.setattr(matching, "VALUE_CACHE_SIZE", 16)
    detector = Detector([*DEFAULT_MATCHERS, value_matcher("7")])
    event = {"properties": {f"key {i}": f"value {i}" for i in range(200)}}
    event["properties"]["long"] = "7" * (matching.CACHED_MAX_LEN + 1)
    found = detector.detect(event)
    assert found["v"] == sorted(
        ["properties.long", *(f"properties.key {i}" for i in range(200) if "7" in str(i))]
    )
    assert detector._key_hits.cache_info().currsize == 16  # type: ignore[attr-defined]
    assert detector._values is not None
    assert detector._values._cached.cache_info().currsize == 16


def test_long_keys_and_values_are_matched_but_not_kept() -> None:
    pin = Matcher(
        id="pin", name="pin", classification=Classification.RED, match_on=MatchOn.KEY,
        pattern=r"^pin_\d+$",
    )  # fmt: skip
    detector = Detector([*DEFAULT_MATCHERS, pin, value_matcher("7")])
    long_key = "pin_" + "1" * 200
    found = detector.detect({"traits": {long_key: "7" * 200}})
    assert found == {"pin": [f"traits.{long_key}"], "v": [f"traits.{long_key}"]}
    assert detector._key_hits.cache_info().currsize == 0  # type: ignore[attr-defined]
    assert detector._values is not None
    assert detector._values._cached.cache_info().currsize == 0
