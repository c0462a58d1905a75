"""The text form of computed traits (engage.definitions.text.parse_trait): the
query language page's reducers, errors, and the round trip. No database."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engage.definitions import (
    TRAIT_SCHEMA,
    QuerySyntaxError,
    check_trait_text,
    parse_trait,
    trait_to_text,
    validate_trait,
)
from engage.definitions.schema import AGGREGATIONS, PROPERTY_CMPS, TRAIT_KINDS, UNITS
from tests.engage.definitions_support import openapi_validator

# api__public-api__query-language, "Computed Traits" (whitespace as scraped), and
# reference engage.md §4.3's query-language column.
DOCS_EXAMPLES = {
    "event ( 'Shoes Bought' ). within ( 30 days ). avg ( property ( 'spend' ))": (
        "event('Shoes Bought').within(30 days).avg(property('spend'))",
        {"kind": "aggregation", "aggregation": "avg", "property": "spend"},
    ),
    "event('Shoes Bought').where( property('price') > 100 AND property('brand') = 'My Brand' )"
    ".min(property('spend'))": (
        "event('Shoes Bought').where(property('price') > 100 AND property('brand') = "
        "'My Brand').min(property('spend'))",
        {"kind": "aggregation", "aggregation": "min", "property": "spend"},
    ),
    "event('Shoes Bought').within(30 days).first(property('spend'))": (
        "event('Shoes Bought').within(30 days).first(property('spend'))",
        {"kind": "first", "property": "spend"},
    ),
    "event('Shoes Bought').within(30 days).mode(property('spend'), 2)": (
        "event('Shoes Bought').within(30 days).mode(property('spend'), 2)",
        {"kind": "most_frequent", "property": "spend", "min_frequency": 2},
    ),
    "event('X').within(7 days).count()": (
        "event('X').within(7 days).count()",
        {"kind": "event_counter"},
    ),
    "event('X').unique(property('p'))": (
        "event('X').unique(property('p'))",
        {"kind": "unique_list", "property": "p"},
    ),
    "accounts: event('X').unique(property('ip')).count()": (
        "ACCOUNTS: event('X').unique(property('ip')).count()",
        {"kind": "unique_list_count", "property": "ip", "type": "accounts"},
    ),
    "event('Page Viewed').last(property('page_name'))": (
        "event('Page Viewed').last(property('page_name'))",
        {"kind": "last", "property": "page_name"},
    ),
}


@pytest.mark.parametrize("text", DOCS_EXAMPLES)
def test_docs_examples(text: str) -> None:
    printed, expected = DOCS_EXAMPLES[text]
    definition = parse_trait(text)
    assert validate_trait(definition) == []
    assert {k: definition[k] for k in expected} == expected
    assert trait_to_text(definition) == printed
    assert parse_trait(printed) == definition


def test_a_definition_in_full() -> None:
    assert parse_trait("event('Order Completed').within(90 days).sum(property('revenue'))") == {
        "version": 1,
        "type": "users",
        "kind": "aggregation",
        "event": "Order Completed",
        "where": None,
        "window": {"type": "within", "value": 90, "unit": "days", "relative_to": "now"},
        "property": "revenue",
        "aggregation": "sum",
    }


@pytest.mark.parametrize(
    ("text", "at", "message"),
    [
        ("trait('x') = 1", 0, "a computed trait starts with event(...), found 'trait'"),
        (
            "event('X').median(property('p'))",
            11,
            "expected where, within, between, sources or "
            "count, sum, avg, min, max, mode, first, last, unique, found 'median'",
        ),
        (
            "event('X').sum('p')",
            15,
            "expected property('...'), the event property to compute over, found \"'p'\"",
        ),
        ("event('X').count() >= 1", 19, "expected the end, found '>='"),
        (
            "event('X').unique(property('p')).size()",
            33,
            "expected count() (the number of unique values), found 'size'",
        ),
    ],
)
def test_syntax_errors(text: str, at: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_trait(text)
    assert (caught.value.offset, caught.value.message) == (at, message)


def test_rule_errors_are_located_in_the_text() -> None:
    text = "event('X').between(1 days, 2 days).where(property('at').before_date('x')).count()"
    definition, errors = check_trait_text(text)
    assert definition is not None
    assert [(e.path, text[e.start : e.end], e.message) for e in errors] == [
        ("/where/cmp", "property('at').before_date('x')", "time operators apply to traits only"),
        (
            "/window/type",
            "between(1 days, 2 days)",
            "a computed trait's window is 'within' (the last N hours or days)",
        ),
    ]
    assert check_trait_text("event('X'")[1][0].code == "syntax"


TRAIT_OPENAPI = openapi_validator("ComputedTrait", TRAIT_SCHEMA)
NAMES = st.text(st.characters(exclude_characters="\x00"), min_size=1, max_size=8)
LITERALS = st.one_of(NAMES, st.integers(), st.floats(allow_nan=False, allow_infinity=False))


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    cmp = draw(st.sampled_from([c for c in PROPERTY_CMPS if c not in ("exists", "not_exists")]))
    if cmp in ("in", "contains_any"):
        value: Any = draw(st.lists(LITERALS, min_size=1, max_size=3))
    elif cmp in ("contains", "not_contains", "starts_with", "ends_with"):
        value = draw(NAMES)
    else:
        value = draw(LITERALS)
    return {
        "kind": draw(st.sampled_from(["property", "context"])),
        "path": draw(NAMES),
        "cmp": cmp,
        "value": value,
    }


WHERES = st.recursive(
    conditions(),
    lambda inner: st.one_of(
        st.builds(
            dict, op=st.sampled_from(["and", "or"]), args=st.lists(inner, min_size=2, max_size=3)
        ),
        st.builds(dict, op=st.just("not"), arg=inner),
    ),
    max_leaves=6,
)


@st.composite
def trait_definitions(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(TRAIT_KINDS))
    definition: dict[str, Any] = {
        "version": 1,
        "type": draw(st.sampled_from(["users", "accounts"])),
        "kind": kind,
        "event": draw(NAMES),
        "where": draw(st.none() | WHERES),
        "window": draw(
            st.none()
            | st.builds(
                dict,
                type=st.just("within"),
                value=st.integers(1, 999),
                unit=st.sampled_from(UNITS),
                relative_to=st.just("now"),
            )
        ),
    }
    if draw(st.booleans()):
        definition["exclude_sources"] = draw(st.lists(NAMES, min_size=1, max_size=2, unique=True))
    if kind != "event_counter":
        definition["property"] = draw(NAMES)
    if kind == "aggregation":
        definition["aggregation"] = draw(st.sampled_from(AGGREGATIONS))
    if kind == "most_frequent" and draw(st.booleans()):
        definition["min_frequency"] = draw(st.integers(1, 10))
    return definition


@settings(max_examples=200, deadline=None)
@given(trait_definitions())
def test_generated_trait_definitions_round_trip(definition: dict[str, Any]) -> None:
    assert validate_trait(definition) == []
    text = trait_to_text(definition)
    assert parse_trait(text) == definition
    assert trait_to_text(parse_trait(text)) == text
    assert list(TRAIT_OPENAPI.iter_errors(definition)) == []
