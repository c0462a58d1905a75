"""The mapping kit, directive by directive, and its errors."""

from __future__ import annotations

from typing import Any

import pytest

from connections.rules.mapping import InvalidMapping, compile, resolve, validate

EVENT: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "userId": "u-1",
    "anonymousId": None,
    "context": {"ip": "1.2.3.4", "device": {"id": "d-9"}},
    "properties": {
        "total": 30.5,
        "currency": "usd",
        "title": "Hello World",
        "meta": '{"a": 1}',
        "products": [
            {"sku": "A", "price": 10, "quantity": 1},
            {"sku": "B", "price": 20.5, "quantity": 2, "extra": {"x": 1}},
        ],
        "nested": {"a": {"b": {"c": 1}, "d": 2}},
    },
    "integrations": {"Actions Amplitude": {"session_id": 42}},
    "traits": {"name": "Ada", "email": ""},
}


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        # raw values and objects
        ("segment", "segment"),
        (0, 0),
        (False, False),
        ({"a": 1, "b": {"c": "x"}}, {"a": 1, "b": {"c": "x"}}),
        # @path
        ({"@path": "$.userId"}, "u-1"),
        ({"@path": "$.anonymousId"}, None),
        ({"@path": "$.properties.products[1].sku"}, "B"),
        ({"@path": "$.integrations.Actions Amplitude.session_id"}, 42),
        ({"@path": "$.context.device"}, {"id": "d-9"}),
        ({"id": {"@path": "$.nope"}, "t": {"@path": "$.type"}}, {"t": "track"}),
        ({"x": {"@path": "$.properties.products[9].sku"}}, {}),
        # @template
        ({"@template": "{{event}} by {{ userId }}"}, "Order Completed by u-1"),
        ({"@template": "total={{properties.total}} missing=[{{nope}}]"}, "total=30.5 missing=[]"),
        # @literal
        ({"@literal": {"@path": "$.userId"}}, {"@path": "$.userId"}),
        # @if exists / blank
        (
            {
                "@if": {
                    "exists": {"@path": "$.context.device.id"},
                    "then": {"@path": "$.context.device.id"},
                    "else": {"@path": "$.anonymousId"},
                }
            },
            "d-9",
        ),
        ({"@if": {"exists": {"@path": "$.anonymousId"}, "then": "yes", "else": "no"}}, "no"),
        # "blank" takes "then" when the value is NOT blank (Segment's order)
        ({"@if": {"blank": {"@path": "$.traits.email"}, "then": "some", "else": "none"}}, "none"),
        ({"@if": {"blank": {"@path": "$.traits.name"}, "then": "some", "else": "none"}}, "some"),
        ({"k": {"@if": {"exists": {"@path": "$.nope"}, "then": 1}}}, {}),
        # @case
        ({"@case": {"operator": "upper", "value": {"@path": "$.properties.currency"}}}, "USD"),
        ({"@case": {"operator": "lower", "value": "MiXeD"}}, "mixed"),
        ({"@case": {"operator": "lower", "value": {"@path": "$.properties.total"}}}, 30.5),
        # @replace: literal patterns, global by default, second pair, ignorecase
        (
            {
                "@replace": {
                    "pattern": "o",
                    "replacement": "0",
                    "value": {"@path": "$.properties.title"},
                }
            },
            "Hell0 W0rld",
        ),
        (
            {"@replace": {"pattern": "o", "replacement": "0", "global": False, "value": "foo"}},
            "f0o",
        ),
        ({"@replace": {"pattern": ".", "replacement": "-", "value": "a.b.c"}}, "a-b-c"),
        (
            {
                "@replace": {
                    "pattern": "HELLO",
                    "replacement": "Bye",
                    "ignorecase": True,
                    "value": "hello you",
                }
            },
            "Bye you",
        ),
        (
            {
                "@replace": {
                    "pattern": "a",
                    "replacement": "b",
                    "pattern2": "b",
                    "replacement2": "c",
                    "value": "ab",
                }
            },
            "cc",
        ),
        (
            {
                "@replace": {
                    "pattern": "1",
                    "replacement": "2",
                    "value": {"@path": "$.properties.products[0].price"},
                }
            },
            "20",
        ),
        # @arrayPath with relative item paths
        (
            {
                "@arrayPath": [
                    "$.properties.products",
                    {"id": {"@path": "$.sku"}, "cost": {"@path": "price"}},
                ]
            },
            [{"id": "A", "cost": 10}, {"id": "B", "cost": 20.5}],
        ),
        ({"@arrayPath": ["$.properties.products"]}, EVENT["properties"]["products"]),
        ({"@arrayPath": ["$.context.device", {"d": {"@path": "id"}}]}, [{"d": "d-9"}]),
        ({"k": {"@arrayPath": ["$.nope", {"d": {"@path": "id"}}]}}, {}),
        # @json
        ({"@json": {"mode": "encode", "value": {"@path": "$.context.device"}}}, '{"id":"d-9"}'),
        ({"@json": {"mode": "decode", "value": {"@path": "$.properties.meta"}}}, {"a": 1}),
        ({"@json": {"mode": "decode", "value": "not json"}}, "not json"),
        # @flatten
        ({"@flatten": {"value": {"@path": "$.properties.nested"}}}, {"a.b.c": 1, "a.d": 2}),
        (
            {"@flatten": {"value": {"@path": "$.properties.nested"}, "separator": "_"}},
            {"a_b_c": 1, "a_d": 2},
        ),
        # @merge
        ({"@merge": {"objects": [{"a": 1, "b": 1}, {"b": 2}]}}, {"a": 1, "b": 2}),
        (
            {"@merge": {"objects": [{"a": 1, "b": 1}, {"b": 2}], "direction": "left"}},
            {"a": 1, "b": 1},
        ),
        (
            {
                "@merge": {
                    "objects": [{"@path": "$.context.device"}, {"ip": {"@path": "$.context.ip"}}]
                }
            },
            {"id": "d-9", "ip": "1.2.3.4"},
        ),
        # @transform: map the payload, then map the result
        (
            {
                "@transform": {
                    "apply": {"who": {"@path": "$.userId"}},
                    "mapping": {"@template": "id:{{who}}"},
                }
            },
            "id:u-1",
        ),
        # @excludeWhenNull
        (
            {
                "a": {"@excludeWhenNull": {"@path": "$.anonymousId"}},
                "b": {"@path": "$.anonymousId"},
            },
            {"b": None},
        ),
        ({"a": {"@excludeWhenNull": {"@path": "$.userId"}}}, {"a": "u-1"}),
        # nesting
        (
            {
                "user": {
                    "id": {"@case": {"operator": "upper", "value": {"@template": "{{userId}}"}}}
                }
            },
            {"user": {"id": "U-1"}},
        ),
        ([{"@path": "$.userId"}, {"@path": "$.nope"}, 3], ["u-1", 3]),
    ],
)
def test_resolve(mapping: Any, expected: Any) -> None:
    assert validate(mapping) == []
    assert resolve(mapping, EVENT) == expected


@pytest.mark.parametrize(
    ("mapping", "where", "message"),
    [
        ({"a": {"@path": "$.x", "@template": "y"}}, "a", "exactly one @-prefixed key"),
        ({"a": {"@nope": 1}}, "a", "unknown directive '@nope'"),
        ({"a": {"@path": 3}}, "a.@path", "expects a path string"),
        ({"a": {"@path": {"x": 1}}}, "a.@path", "or a directive"),
        ({"@if": {"then": 1}}, "@if", 'needs "exists" or "blank"'),
        ({"@if": {"exists": False, "then": 1}}, "@if", 'needs "exists" or "blank"'),
        ({"@case": {"operator": "title", "value": "x"}}, "@case.operator", '"lower" or "upper"'),
        ({"@case": {"value": "x"}}, "@case", "missing ['operator']"),
        (
            {"@replace": {"pattern": "a", "value": "b", "oops": 1}},
            "@replace",
            "unknown key(s) ['oops']",
        ),
        ({"@arrayPath": "$.x"}, "@arrayPath", "expects ["),
        ({"@json": {"mode": "yaml", "value": 1}}, "@json.mode", '"encode" or "decode"'),
        ({"@merge": {"objects": {}}}, "@merge.objects", "expects a list"),
        ({"@transform": {"apply": {}}}, "@transform", "missing ['mapping']"),
        ({"x": {"y": [{"@path": 1}]}}, "x.y[0].@path", "expects a path string"),
    ],
)
def test_invalid_mappings_say_what_and_where(mapping: Any, where: str, message: str) -> None:
    errors = validate(mapping)
    assert errors, mapping
    assert errors[0].location == where
    assert message in errors[0].message
    with pytest.raises(InvalidMapping, match=r"expects|exactly|unknown|needs|missing|lower|encode"):
        compile(mapping)


def test_compiled_resolver_is_reusable_and_pure() -> None:
    run = compile({"id": {"@path": "$.userId"}, "n": {"@path": "$.properties.total"}})
    assert run(EVENT) == {"id": "u-1", "n": 30.5}
    assert run({"userId": "other"}) == {"id": "other"}
    assert EVENT["userId"] == "u-1"


def test_resolved_values_do_not_alias_the_mapping_literal() -> None:
    mapping = {"@literal": {"k": [1]}}
    assert resolve(mapping, {}) == {"k": [1]}
