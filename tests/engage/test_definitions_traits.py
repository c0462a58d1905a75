"""Computed trait definitions (engage.definitions): the shape of reference
engage.md §4.3's seven kinds, their parameters, errors and mode. No database."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from engage.definitions import (
    BATCH,
    MIN_FREQUENCY,
    REALTIME,
    TRAIT_SCHEMA,
    classify_trait,
    min_frequency,
    validate_trait,
)


def trait_definition(kind: str, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": 1,
        "type": "users",
        "kind": kind,
        "event": "Order Completed",
        "where": None,
        "window": None,
    }
    doc.update(extra)
    return doc


def errors_of(doc: Any) -> dict[str, str]:
    return {e.path: e.message for e in validate_trait(doc)}


WINDOW = {"type": "within", "value": 90, "unit": "days", "relative_to": "now"}
COSMETICS = {"kind": "property", "path": "category", "cmp": "eq", "value": "cosmetics"}


@pytest.mark.parametrize(
    "doc",
    [
        trait_definition("event_counter", event="User Logged In", window=WINDOW),
        trait_definition(
            "aggregation", property="revenue", aggregation="sum", where=COSMETICS, window=WINDOW
        ),
        trait_definition("most_frequent", event="Page Viewed", property="category"),
        trait_definition("most_frequent", property="spend", min_frequency=3),
        trait_definition("first", event="Page Viewed", property="page_name"),
        trait_definition(
            "last",
            property="utm_campaign",
            where={
                "op": "or",
                "args": [
                    {"kind": "context", "path": "page.url", "cmp": "contains", "value": "pricing"},
                    {
                        "op": "not",
                        "arg": {"kind": "property", "path": "price", "cmp": "lte", "value": 30.0},
                    },
                ],
            },
        ),
        trait_definition("unique_list", property="category", exclude_sources=["ios"]),
        trait_definition("unique_list_count", type="accounts", property="ip"),
    ],
)
def test_each_kind_with_its_parameters_is_valid(doc: dict[str, Any]) -> None:
    assert validate_trait(doc) == []
    jsonschema.Draft202012Validator(TRAIT_SCHEMA).validate(doc)


def test_parameters_belong_to_their_kinds() -> None:
    assert errors_of(trait_definition("event_counter", property="price")) == {
        "/property": "an event counter counts events: it takes no property"
    }
    assert errors_of(trait_definition("aggregation")) == {
        "/property": "is required",
        "/aggregation": "is required: 'sum', 'avg', 'min' or 'max'",
    }
    assert errors_of(
        trait_definition("first", property="p", aggregation="sum", min_frequency=2)
    ) == {
        "/aggregation": "is for an aggregation trait only",
        "/min_frequency": "is for a most frequent trait only",
    }
    assert errors_of(trait_definition("aggregation", property="p", aggregation="median")) == {
        "/aggregation": "must be one of 'sum', 'avg', 'min', 'max', not 'median'"
    }
    assert errors_of(trait_definition("most_frequent", property="p", min_frequency=0)) == {
        "/min_frequency": "must be at least 1"
    }


def test_shape_errors_are_precise() -> None:
    doc = {
        "version": 1,
        "type": "users",
        "kind": "counter",
        "event": 5,
        "where": {"kind": "trait", "trait": "plan", "cmp": "eq", "value": "pro"},
        "window": {"type": "within", "value": 3, "unit": "days", "relative_to": "parent"},
        "unknown": True,
    }
    assert errors_of(doc) == {
        "/kind": "must be one of 'event_counter', 'aggregation', 'most_frequent', 'first', "
        "'last', 'unique_list', 'unique_list_count', not 'counter'",
        "/event": "must be a string",
        "/where/kind": "a computed trait's where holds property or context conditions",
        "/window/relative_to": "a computed trait's window is relative to now",
        "/unknown": "unknown key; allowed: aggregation, event, exclude_sources, kind, "
        "min_frequency, property, type, version, where, window",
    }


def test_a_trait_window_is_within_the_last_hours_or_days() -> None:
    window = {
        "type": "between",
        "start": {"value": 1, "unit": "days"},
        "end": {"value": 2, "unit": "days"},
    }
    assert errors_of(trait_definition("event_counter", window=window)) == {
        "/window/type": "a computed trait's window is 'within' (the last N hours or days)"
    }


def test_conditions_take_literal_values_without_time_operators() -> None:
    where = {
        "op": "and",
        "args": [
            {
                "kind": "property",
                "path": "price",
                "cmp": "gt",
                "value": {"ref": "trait", "name": "avg"},
            },
            {"kind": "property", "path": "at", "cmp": "before_date", "value": "2024-01-01"},
            {"kind": "property", "path": "sku", "cmp": "in", "value": ["a", float("inf")]},
            {"kind": "property", "path": "sku", "cmp": "in", "value": "a"},
        ],
    }
    assert errors_of(trait_definition("event_counter", where=where)) == {
        "/where/args/0/value": "must be a string or a number or true or false",
        "/where/args/1/cmp": "time operators apply to traits only",
        "/where/args/2/value/1": "must be a finite number",
        "/where/args/3/value": "must be a list",
    }


def test_at_most_fifty_conditions() -> None:
    many = {"op": "or", "args": [dict(COSMETICS) for _ in range(51)]}
    assert errors_of(trait_definition("event_counter", where=many)) == {
        "/where": "a computed trait has at most 50 conditions; this one has 51"
    }


def test_most_frequent_threshold_defaults_to_twice() -> None:
    assert MIN_FREQUENCY == 2
    assert min_frequency(trait_definition("most_frequent", property="p")) == 2
    assert min_frequency(trait_definition("most_frequent", property="p", min_frequency=5)) == 5


def test_account_traits_are_batch() -> None:
    assert classify_trait(trait_definition("event_counter")) == (REALTIME, ())
    result = classify_trait(trait_definition("event_counter", type="accounts"))
    assert result.mode == BATCH
    assert [r.path for r in result.reasons] == ["/type"]
