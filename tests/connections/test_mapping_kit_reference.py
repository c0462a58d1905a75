"""The mapping kit against Segment's reference (segmentio/action-destinations,
packages/core/src/mapping-kit): cases from its README and tests, each group named
after the reference test or README section it comes from, plus cases read from
its code (index.ts, validate.ts, flatten.ts, placeholders.ts). Database-free.
"""

from __future__ import annotations

from typing import Any

import pytest

from connections.rules.mapping import MappingRuntimeError, compile, resolve, validate


def case(name: str, mapping: Any, payload: Any, expected: Any) -> Any:
    return pytest.param(mapping, payload, expected, id=name)


IF_PAYLOAD = {"a": 1, "b": True, "c": False, "d": None, "e": ""}
ARRAY_DATA = {"products": [{"productId": "123", "price": 0.5}, {"productId": "456", "price": 0.99}]}
SHAPE = {"product_id": {"@path": "$.productId"}, "monies": {"@path": "$.price"}}


def _if(test: str, path: str, **branches: Any) -> dict[str, Any]:
    return {"@if": {test: {"@path": path}, **branches}}


CASES = [
    # index.iso.test.ts "@if" > "exists": missing and null are not there; "" is.
    case("if-exists-value", _if("exists", "$.a", then=1, **{"else": 2}), IF_PAYLOAD, 1),
    case("if-exists-null", _if("exists", "$.d", then=1, **{"else": 2}), IF_PAYLOAD, 2),
    case("if-exists-missing", _if("exists", "$.x", then=1, **{"else": 2}), IF_PAYLOAD, 2),
    case("if-exists-empty-string", _if("exists", "$.e", then=1, **{"else": 2}), IF_PAYLOAD, 1),
    # index.iso.test.ts "@if" > "blank": "then" when the value is NOT blank.
    case("if-blank-value", _if("blank", "$.a", then=1, **{"else": 2}), IF_PAYLOAD, 1),
    case("if-blank-null", _if("blank", "$.d", then=1, **{"else": 2}), IF_PAYLOAD, 2),
    case("if-blank-missing", _if("blank", "$.x", then=1, **{"else": 2}), IF_PAYLOAD, 2),
    case("if-blank-empty-string", _if("blank", "$.e", then=1, **{"else": 2}), IF_PAYLOAD, 2),
    # README "@if": loose equality with "" makes false and 0 blank too (and [], [""]).
    case("if-blank-false", _if("blank", "$.c", then=1, **{"else": 2}), IF_PAYLOAD, 2),
    case("if-blank-true", _if("blank", "$.b", then=1, **{"else": 2}), IF_PAYLOAD, 1),
    case("if-blank-zero", _if("blank", "$.z", then=1, **{"else": 2}), {"z": 0}, 2),
    case("if-blank-empty-list", _if("blank", "$.z", then=1, **{"else": 2}), {"z": []}, 2),
    case("if-blank-list-of-blank", _if("blank", "$.z", then=1, **{"else": 2}), {"z": [""]}, 2),
    case("if-blank-list-of-two", _if("blank", "$.z", then=1, **{"else": 2}), {"z": ["", ""]}, 1),
    case("if-blank-empty-object", _if("blank", "$.z", then=1, **{"else": 2}), {"z": {}}, 1),
    case("if-blank-space", _if("blank", "$.z", then=1, **{"else": 2}), {"z": " "}, 1),
    # README "@if": a branch that isn't given drops the key.
    case(
        "if-readme-no-then",
        {"foo-exists": _if("exists", "$.foo", then=True)},
        {"a": "cool"},
        {},
    ),
    case(
        "if-readme-no-else",
        {"a": _if("exists", "$.oops", then={"@path": "$.a"})},
        {"a": "cool"},
        {},
    ),
    case(
        "if-readme-blank-missing", _if("blank", "$.c", then="yep", **{"else": "nope"}), {}, "nope"
    ),
    # index.ts: "else" is taken only when it is truthy; a null else drops the key
    # (index.iso.test.ts "@excludeWhenNull" > "composed with other directives": ifNull).
    case("if-else-null", {"k": _if("exists", "$.x", then=1, **{"else": None})}, {}, {}),
    case("if-else-false", {"k": _if("exists", "$.x", then=1, **{"else": False})}, {}, {}),
    case("if-else-zero", {"k": _if("exists", "$.x", then=1, **{"else": 0})}, {}, {}),
    case(
        "if-else-empty-object", {"k": _if("exists", "$.x", then=1, **{"else": {}})}, {}, {"k": {}}
    ),
    case("if-then-null", {"k": _if("exists", "$.a", then=None)}, IF_PAYLOAD, {"k": None}),
    # index.ts: with both tests, "exists" decides.
    case(
        "if-exists-wins-over-blank",
        {"@if": {"exists": {"@path": "$.e"}, "blank": {"@path": "$.e"}, "then": 1, "else": 2}},
        IF_PAYLOAD,
        1,
    ),
    # schema-fixtures/valid/@if-simple.json, @if-partial.json: a raw test value.
    case("if-raw-test", {"@if": {"exists": 1, "then": 2, "else": 3}}, {}, 2),
    case("if-partial", {"k": {"@if": {"exists": 1, "else": 3}}}, {}, {}),
    # index.iso.test.ts "@path" > "nested directive"; schema-fixtures @path-nested.json
    case(
        "path-nested-directive", {"@path": {"@path": "$.foo"}}, {"foo": "bar", "bar": "baz"}, "baz"
    ),
    case(
        "path-from-template",
        {"@path": {"@template": "$.traits.{{field}}"}},
        {"field": "email", "traits": {"email": "a@b.c"}},
        "a@b.c",
    ),
    case(
        "path-from-if",
        {"@path": _if("exists", "$.which", then={"@path": "$.which"}, **{"else": "fallback"})},
        {"fallback": "f", "x": "y"},
        "f",
    ),
    # index.iso.test.ts "@path": simple, root path, nested, invalid, spaced, invalid nested
    case("path-simple", {"neat": {"@path": "$.foo"}}, {"foo": "bar"}, {"neat": "bar"}),
    case("path-root-empty", {"@path": ""}, {"foo": "bar"}, {"foo": "bar"}),
    case("path-root-dollar-dot", {"@path": "$."}, {"foo": "bar"}, {"foo": "bar"}),
    case("path-nested", {"neat": {"@path": "$.foo.bar"}}, {"foo": {"bar": "baz"}}, {"neat": "baz"}),
    case("path-invalid", {"neat": {"@path": "$.oops"}}, {"foo": "bar"}, {}),
    case(
        "path-spaced",
        {"neat": {"@path": "$.integrations.Actions Amplitude.session_id"}},
        {"integrations": {"Actions Amplitude": {"session_id": "bar"}}},
        {"neat": "bar"},
    ),
    case("path-invalid-nested-type", {"neat": {"@path": "$.foo.bar.baz"}}, {"foo": "bar"}, {}),
    # README "@path"; get.ts: a[0], a.0 and a['b'] are steps, [b] is part of the key.
    case("path-readme-index", {"@path": "$.foo.baz[0].num"}, {"foo": {"baz": [{"num": 1}]}}, 1),
    case("path-dot-index", {"@path": "$.foo.1"}, {"foo": ["a", "b"]}, "b"),
    case("path-index-on-object", {"@path": "$.foo[0]"}, {"foo": {"0": "zero"}}, "zero"),
    case("path-quoted-key", {"@path": "$.foo['b c']"}, {"foo": {"b c": 1}}, 1),
    case("path-bracket-word-is-key", {"@path": "$.a[b]"}, {"a[b]": 2}, 2),
    case("path-no-prefix", {"@path": "foo.bar"}, {"foo": {"bar": 3}}, 3),
    case("path-empty-steps-vanish", {"@path": "$.a..b"}, {"a": {"b": 4}}, 4),
    # index.iso.test.ts "@template": basic, nested fields, no escaping, missing fields
    case("template-basic", {"@template": "Hello, {{who}}!"}, {"who": "World"}, "Hello, World!"),
    case(
        "template-nested",
        {"@template": "Hello, {{who.name}}!"},
        {"who": {"name": "World"}},
        "Hello, World!",
    ),
    case(
        "template-no-escaping-triple",
        {"@template": "<blink>{{a}} {{{a}}}</blink>"},
        {"a": "<b>Hi</b>"},
        "<blink><b>Hi</b> <b>Hi</b></blink>",
    ),
    case("template-missing", {"@template": "{{oops.yo}}"}, {}, ""),
    case("template-triple-spaces", {"@template": "[{{{ a }}}]"}, {"a": "x"}, "[x]"),
    case("template-triple-missing", {"@template": "[{{{nope}}}]"}, {}, "[]"),
    # placeholders.ts: the triple pass runs first, then {{...}} over its result.
    case("template-triple-value-rendered", {"@template": "{{{a}}}"}, {"a": "{{b}}", "b": 7}, "7"),
    # placeholders.test.ts "replacements": String() of the value
    case("template-true", {"@template": "{{foo}}"}, {"foo": True}, "true"),
    case("template-number", {"@template": "{{foo}}"}, {"foo": 1}, "1"),
    case("template-float", {"@template": "{{foo}}"}, {"foo": 1.0}, "1"),
    case("template-object", {"@template": "{{foo}}"}, {"foo": {"bar": "baz"}}, "[object Object]"),
    case("template-list", {"@template": "{{foo}}"}, {"foo": [1, None, "x"]}, "1,,x"),
    case("template-null", {"@template": "{{foo}}"}, {"foo": None}, ""),
    case("template-extra-brace", {"@template": "{{foo}}}"}, {"foo": "hello"}, "hello}"),
    # placeholders.ts reads the placeholder as a path as written: no "$." is dropped.
    case("template-dollar-is-a-key", {"@template": "[{{$.foo}}]"}, {"foo": 1}, "[]"),
    # README "@template"; schema-fixtures @template-nested.json: the template from @path
    case(
        "template-from-path",
        {"@template": {"@path": "$.my.template"}},
        {"my": {"template": "Hi {{name}}"}, "name": "Ada"},
        "Hi Ada",
    ),
    case(
        "template-from-path-triple",
        {"@template": {"@path": "$.t"}},
        {"t": "<{{{name}}}>", "name": "Ada"},
        "<Ada>",
    ),
    # index.iso.test.ts "@arrayPath": simple, relative object shape, with directive,
    # not an array, singular objects
    case(
        "arraypath-simple",
        {"neat": {"@arrayPath": ["$.products"]}},
        ARRAY_DATA,
        {"neat": ARRAY_DATA["products"]},
    ),
    case(
        "arraypath-shape",
        {"neat": {"@arrayPath": ["$.products", SHAPE]}},
        ARRAY_DATA,
        {"neat": [{"product_id": "123", "monies": 0.5}, {"product_id": "456", "monies": 0.99}]},
    ),
    case(
        "arraypath-path-from-if",
        {
            "neat": {
                "@arrayPath": [
                    _if("exists", "$.products", then={"@path": "$.products"}, **{"else": []}),
                    SHAPE,
                ]
            }
        },
        ARRAY_DATA,
        {"neat": [{"product_id": "123", "monies": 0.5}, {"product_id": "456", "monies": 0.99}]},
    ),
    case(
        "arraypath-not-an-array",
        {"neat": {"@arrayPath": ["$.products", SHAPE]}},
        {"products": {"notAnArray": True}},
        {"neat": [{}]},
    ),
    case(
        "arraypath-singular-object",
        {"neat": {"@arrayPath": ["$.properties", SHAPE]}},
        {"properties": {"productId": "123", "price": 0.5}},
        {"neat": [{"product_id": "123", "monies": 0.5}]},
    ),
    # index.ts "@arrayPath": item mappings holding directives, run per item
    case(
        "arraypath-item-if",
        {
            "@arrayPath": [
                "$.products",
                {
                    "id": {"@path": "$.productId"},
                    "sale": _if("exists", "$.discount", then=True, **{"else": "no"}),
                },
            ]
        },
        {"products": [{"productId": "1", "discount": 5}, {"productId": "2"}]},
        [{"id": "1", "sale": True}, {"id": "2", "sale": "no"}],
    ),
    case(
        "arraypath-item-mapping-is-a-directive",
        {"@arrayPath": ["$.tags", {"@case": {"operator": "upper", "value": {"@path": "$."}}}]},
        {"tags": ["a", "b"]},
        ["A", "B"],
    ),
    case(
        "arraypath-item-directive-gives-nothing",
        {"@arrayPath": ["$.items", {"@path": "$.sku"}]},
        {"items": [{"sku": "A"}, {}]},
        ["A", None],
    ),
    # index.ts "@arrayPath": no shape returns the value as found, an object unwrapped;
    # a value that is neither object nor array is returned as found.
    case("arraypath-no-shape-object", {"@arrayPath": ["$.o"]}, {"o": {"a": 1}}, {"a": 1}),
    case("arraypath-string-root", {"@arrayPath": ["$.s", SHAPE]}, {"s": "x"}, "x"),
    case("arraypath-empty-shape", {"@arrayPath": ["$.o", {}]}, {"o": {"a": 1}}, {"a": 1}),
    case("arraypath-missing", {"k": {"@arrayPath": ["$.nope", SHAPE]}}, {}, {}),
    # index.iso.test.ts "@json": encode is compact JSON.stringify output
    case(
        "json-encode",
        {"neat": {"@json": {"mode": "encode", "value": {"@path": "$.foo"}}}},
        {"foo": "bar"},
        {"neat": '"bar"'},
    ),
    case(
        "json-encode-object",
        {"neat": {"@json": {"mode": "encode", "value": {"@path": "$.foo"}}}},
        {"foo": {"bar": "baz"}},
        {"neat": '{"bar":"baz"}'},
    ),
    case(
        "json-encode-array",
        {"neat": {"@json": {"mode": "encode", "value": {"@path": "$.foo"}}}},
        {"foo": ["bar", "baz"]},
        {"neat": '["bar","baz"]'},
    ),
    case(
        "json-encode-invalid-value",
        {"neat": {"@json": {"mode": "encode", "value": {"@path": "$.bad"}}}},
        {"foo": {"bar": "baz"}},
        {},
    ),
    # JSON.stringify: numbers as JavaScript writes them, non-ASCII kept, NaN is null
    case(
        "json-encode-numbers-and-text",
        {"@json": {"mode": "encode", "value": {"@path": "$.v"}}},
        {"v": {"f": 1.0, "g": 2.5, "h": 1e21, "i": 1e-7, "n": None, "t": "é\n", "b": False}},
        '{"f":1,"g":2.5,"h":1e+21,"i":1e-7,"n":null,"t":"é\\n","b":false}',
    ),
    case(
        "json-encode-nan",
        {"@json": {"mode": "encode", "value": {"@path": "$.v"}}},
        {"v": [float("nan"), float("inf")]},
        "[null,null]",
    ),
    # index.iso.test.ts "@json": decode, decode_object, decode_array, invalid JSON
    case(
        "json-decode",
        {"neat": {"@json": {"mode": "decode", "value": {"@path": "$.foo"}}}},
        {"foo": '"bar"'},
        {"neat": "bar"},
    ),
    case(
        "json-decode-object",
        {"neat": {"@json": {"mode": "decode", "value": {"@path": "$.foo"}}}},
        {"foo": '{"bar":"baz"}'},
        {"neat": {"bar": "baz"}},
    ),
    case(
        "json-decode-array",
        {"neat": {"@json": {"mode": "decode", "value": {"@path": "$.foo"}}}},
        {"foo": '["bar","baz"]'},
        {"neat": ["bar", "baz"]},
    ),
    case(
        "json-decode-invalid",
        {"neat": {"@json": {"mode": "decode", "value": {"@path": "$.foo"}}}},
        {"foo": "Hello World"},
        {"neat": "Hello World"},
    ),
    case(
        "json-decode-nan-is-not-json",
        {"@json": {"mode": "decode", "value": {"@path": "$.foo"}}},
        {"foo": "NaN"},
        "NaN",
    ),
    # index.iso.test.ts "@flatten": simple, array value first, omitArrays passed
    case(
        "flatten-simple",
        {"neat": {"@flatten": {"value": {"@path": "$.foo"}, "separator": "."}}},
        {"foo": {"bar": "baz", "aces": {"a": 1, "b": 2}}},
        {"neat": {"bar": "baz", "aces.a": 1, "aces.b": 2}},
    ),
    case(
        "flatten-array-value-first",
        {"result": {"@flatten": {"value": {"@path": "$.foo"}, "separator": "."}}},
        {"foo": [{"fazz": "bar", "fizz": "baz"}]},
        {"result": {"0.fazz": "bar", "0.fizz": "baz"}},
    ),
    case(
        "flatten-omit-arrays",
        {"neat": {"@flatten": {"value": {"@path": "$.foo"}, "separator": ".", "omitArrays": True}}},
        {"foo": {"bar": "baz", "aces": [1, 2]}},
        {"neat": {"bar": "baz", "aces": [1, 2]}},
    ),
    # flatten.test.ts: custom separator, arrays, deep arrays, arrays at the top
    case(
        "flatten-separator",
        {"@flatten": {"value": {"@path": "$.o"}, "separator": "/"}},
        {"o": {"a": {"b": {"c": 1}, "d": 2}}},
        {"a/b/c": 1, "a/d": 2},
    ),
    case(
        "flatten-array",
        {"@flatten": {"value": {"@path": "$.o"}, "separator": "."}},
        {"o": {"a": [{"b": 1}, {"c": 2}]}},
        {"a.0.b": 1, "a.1.c": 2},
    ),
    case(
        "flatten-starting-with-arrays",
        {"@flatten": {"value": {"@path": "$.o"}, "separator": "."}},
        {"o": [{"a": [{"b": [{"c": 1}]}, {"d": [{"e": 2}]}]}]},
        {"0.a.0.b.0.c": 1, "0.a.1.d.0.e": 2},
    ),
    case(
        "flatten-omit-arrays-deep",
        {"@flatten": {"value": {"@path": "$.o"}, "separator": ".", "omitArrays": True}},
        {"o": {"a": {"b": {"c": [{"d": [{"e": 1}]}]}}}},
        {"a.b.c": [{"d": [{"e": 1}]}]},
    ),
    # flatten.ts: empty objects and arrays vanish; a plain value sits under "".
    case(
        "flatten-empties-vanish",
        {"@flatten": {"value": {"@path": "$.o"}, "separator": "."}},
        {"o": {"a": {}, "b": [], "c": {"d": {}}, "e": None, "f": 0}},
        {"e": None, "f": 0},
    ),
    case(
        "flatten-empty-array-kept-with-omit-arrays",
        {"@flatten": {"value": {"@path": "$.o"}, "separator": ".", "omitArrays": True}},
        {"o": {"a": [], "b": {}}},
        {"a": []},
    ),
    case(
        "flatten-plain-value",
        {"@flatten": {"value": {"@path": "$.o"}, "separator": "."}},
        {"o": "x"},
        {"": "x"},
    ),
    case(
        "flatten-missing-value",
        {"@flatten": {"value": {"@path": "$.o"}, "separator": "."}},
        {},
        {},
    ),
    # index.iso.test.ts "@excludeWhenNull": simple, multiple mappings, object level,
    # deeply nested, with transform
    case(
        "exclude-simple",
        {"someFieldToExclude": {"@excludeWhenNull": {"@path": "$.foo.bar"}}},
        {"foo": {"bar": None, "aces": {"a": 1, "b": 2}}},
        {},
    ),
    case(
        "exclude-multiple",
        {
            "someFieldToExclude": {"@excludeWhenNull": {"@path": "$.foo.bar"}},
            "anotherField": {"@path": "$.foo.aces.a"},
        },
        {"foo": {"bar": None, "aces": {"a": 1, "b": 2}}},
        {"anotherField": 1},
    ),
    case(
        "exclude-object-level",
        {"neat": {"@excludeWhenNull": {"@path": "$.foo"}}},
        {"foo": {"bar": None, "aces": {"a": 1, "b": 2}}},
        {"neat": {"aces": {"a": 1, "b": 2}}},
    ),
    case(
        "exclude-deeply-nested",
        {"neat": {"@excludeWhenNull": {"@path": "$.foo"}}},
        {"foo": {"bar": None, "aces": {"a": 1, "b": 2, "c": None, "d": {"a": None, "b": None}}}},
        {"neat": {"aces": {"a": 1, "b": 2, "d": {}}}},
    ),
    case(
        "exclude-with-transform",
        {
            "empty": {
                "@transform": {
                    "apply": {"properties": {"@excludeWhenNull": {"@path": "$.properties"}}},
                    "mapping": {
                        "properties": {"@path": "$.properties"},
                        "topLevel": {"@path": "$.properties.nested_a"},
                    },
                }
            }
        },
        {"foo": {"bar": None, "aces": {"a": 1, "b": 2}}},
        {"empty": {}},
    ),
    # index.ts cleanNulls: arrays (and objects inside them) are left as they are
    case(
        "exclude-leaves-arrays",
        {"@excludeWhenNull": {"@path": "$.o"}},
        {"o": {"a": [None, {"b": None}], "c": None}},
        {"a": [None, {"b": None}]},
    ),
    # index.iso.test.ts "@replace": every case
    case(
        "replace-empty-string",
        {"@replace": {"pattern": "_", "replacement": "rrrrr", "value": {"@path": "$.a"}}},
        {"a": ""},
        "",
    ),
    case(
        "replace-null",
        {"@replace": {"pattern": "_", "replacement": "rrrrr", "value": {"@path": "$.a"}}},
        {"a": None},
        "",
    ),
    case(
        "replace-case-sensitive",
        {
            "@replace": {
                "pattern": "WW",
                "replacement": "oo",
                "value": {"@path": "$.a"},
                "ignorecase": False,
            }
        },
        {"a": "cWWl-story-ww"},
        "cool-story-ww",
    ),
    case(
        "replace-case-insensitive",
        {
            "@replace": {
                "pattern": "AaB",
                "replacement": "nice",
                "value": {"@path": "$.a"},
                "ignorecase": True,
            }
        },
        {"a": "aab-----AaB---aab"},
        "nice-----nice---nice",
    ),
    case(
        "replace-with-empty",
        {"@replace": {"pattern": "_", "replacement": "", "value": {"@path": "$.a"}}},
        {"a": "nomore_underscore"},
        "nomoreunderscore",
    ),
    case(
        "replace-with-text",
        {"@replace": {"pattern": "_", "replacement": "weird", "value": {"@path": "$.a"}}},
        {"a": "nomore_underscore"},
        "nomoreweirdunderscore",
    ),
    case(
        "replace-multi-char",
        {"@replace": {"pattern": "LOL", "replacement": "YAY", "value": {"@path": "$.a"}}},
        {"a": "Well Hello there LOL"},
        "Well Hello there YAY",
    ),
    case(
        "replace-global",
        {
            "@replace": {
                "pattern": "+",
                "replacement": "_",
                "value": {"@path": "$.a"},
                "global": True,
            }
        },
        {"a": "many+different+things"},
        "many_different_things",
    ),
    case(
        "replace-first",
        {
            "@replace": {
                "pattern": "+",
                "replacement": "_",
                "value": {"@path": "$.a"},
                "global": False,
            }
        },
        {"a": "many+different+things"},
        "many_different+things",
    ),
    case(
        "replace-entire",
        {"@replace": {"pattern": "aaabbbcccd", "replacement": "", "value": {"@path": "$.a"}}},
        {"a": "aaabbbcccd"},
        "",
    ),
    case(
        "replace-no-replacement",
        {"@replace": {"pattern": "many+", "value": {"@path": "$.a"}}},
        {"a": "many+different+things"},
        "different+things",
    ),
    case(
        "replace-boolean",
        {"@replace": {"pattern": "true", "replacement": "granted", "value": {"@path": "$.a"}}},
        {"a": True},
        "granted",
    ),
    case(
        "replace-number",
        {"@replace": {"pattern": "1", "replacement": "granted", "value": {"@path": "$.a"}}},
        {"a": 1},
        "granted",
    ),
    case(
        "replace-two-pairs",
        {
            "@replace": {
                "pattern": "-",
                "replacement": " ",
                "pattern2": "great",
                "replacement2": "awesome",
                "value": {"@path": "$.a"},
            }
        },
        {"a": "something-great!"},
        "something awesome!",
    ),
    case(
        "replace-only-second-pair-hits",
        {
            "@replace": {
                "pattern": "true",
                "replacement": "granted",
                "pattern2": "false",
                "replacement2": "denied",
                "value": {"@path": "$.a"},
            }
        },
        {"a": False},
        "denied",
    ),
    # index.ts performReplace: String.replace's $-patterns in the replacement
    case(
        "replace-dollar-patterns",
        {"@replace": {"pattern": "b", "replacement": "[$&$$]", "value": {"@path": "$.a"}}},
        {"a": "abc"},
        "a[b$]c",
    ),
    case(
        "replace-dollar-group-is-literal",
        {"@replace": {"pattern": "b", "replacement": "$1", "value": {"@path": "$.a"}}},
        {"a": "abc"},
        "a$1c",
    ),
    case(
        "replace-float-text",
        {"@replace": {"pattern": "5", "replacement": "6", "value": {"@path": "$.a"}}},
        {"a": 2.0},
        "2",
    ),
    # README "@replace" examples
    case(
        "replace-readme-nice",
        {"@replace": {"value": {"@path": "$.a"}, "pattern": "-", "replacement": "nice"}},
        {"a": "cool-story"},
        "coolnicestory",
    ),
    case(
        "replace-readme-first",
        {
            "@replace": {
                "value": {"@path": "$.a"},
                "pattern": "-",
                "replacement": "@",
                "global": False,
            }
        },
        {"a": "just-the-first"},
        "just@the-first",
    ),
]


@pytest.mark.parametrize(("mapping", "payload", "expected"), CASES)
def test_resolves_as_the_reference(mapping: Any, payload: Any, expected: Any) -> None:
    assert validate(mapping) == []
    assert resolve(mapping, payload) == expected


def test_excludewhennull_composed_with_other_directives() -> None:
    # index.iso.test.ts "@excludeWhenNull" > "composed with other directives"
    null = {"@path": "$.foo.bar"}
    mapping = {
        "massive": {
            "pathNull": {"@excludeWhenNull": null},
            "templateEmpty": {"@excludeWhenNull": {"@template": "{{foo.bar}}"}},
            "literalNull": {"@excludeWhenNull": {"@literal": None}},
            "ifNull": {
                "@excludeWhenNull": {
                    "@if": {"exists": {"@path": "$.foo.foobar"}, "then": 1, "else": None}
                }
            },
            "caseNull": {"@excludeWhenNull": {"@case": {"operator": "upper", "value": null}}},
            "replaceNull": {
                "@excludeWhenNull": {
                    "@replace": {"pattern": "-", "replacement": "nice", "value": null}
                }
            },
            "jsonNull": {"@excludeWhenNull": {"@json": {"mode": "decode", "value": null}}},
            "transformNull": {
                "@excludeWhenNull": {
                    "@transform": {
                        "apply": {"properties": null},
                        "mapping": {"properties": {"@excludeWhenNull": {"@path": "$.properties"}}},
                    }
                }
            },
            "transformValue": {
                "@excludeWhenNull": {
                    "@transform": {
                        "apply": {"properties": {"@path": "$.foo"}},
                        "mapping": {"properties": {"@path": "$.properties"}},
                    }
                }
            },
            "jsonNullEncode": {"@excludeWhenNull": {"@json": {"mode": "encode", "value": null}}},
        }
    }
    payload = {"foo": {"bar": None, "aces": {"a": 1, "b": 2}}}
    assert resolve(mapping, payload) == {
        "massive": {
            "templateEmpty": "",
            "jsonNullEncode": "null",
            "replaceNull": "",
            "transformNull": {},
            "transformValue": {"properties": {"aces": {"a": 1, "b": 2}}},
        }
    }


@pytest.mark.parametrize(
    ("mapping", "payload", "message"),
    [
        # index.ts registerStringDirective: the directive must give a string
        ({"@path": {"@path": "$.n"}}, {"n": 5}, "@path: expected string, got number"),
        ({"@path": {"@path": "$.nope"}}, {}, "@path: expected string, got undefined"),
        (
            {"@template": {"@path": "$.t"}},
            {"t": {"a": 1}},
            "@template: expected string, got object",
        ),
    ],
)
def test_a_directive_argument_that_is_not_a_string_fails_the_event(
    mapping: Any, payload: Any, message: str
) -> None:
    assert validate(mapping) == []
    with pytest.raises(MappingRuntimeError, match=message):
        compile(mapping)(payload)


# schema-fixtures/valid/*.json and validate.ts: what the reference accepts.
VALID = [
    pytest.param(
        {"@arrayPath": ["$.products", {"cash_money": {"@path": "$.price"}}]},
        id="@array-path-item-shape",
    ),
    pytest.param({"@arrayPath": ["$.foo.bar"]}, id="@array-path-simple"),
    pytest.param(
        {
            "@if": {
                "exists": {"@path": "$.foo"},
                "then": {"@path": "$.bar"},
                "else": {"@path": "$.baz"},
            }
        },
        id="@if-nested",
    ),
    pytest.param({"@if": {"exists": 1, "else": 3}}, id="@if-partial"),
    pytest.param({"@if": {"exists": 1, "then": 2, "else": 3}}, id="@if-simple"),
    pytest.param({"@path": {"@path": "$.foo.bar"}}, id="@path-nested"),
    pytest.param({"@path": "$.foo.bar"}, id="@path-simple"),
    pytest.param(
        {
            "@replace": {
                "pattern": "+",
                "replacement": "-",
                "value": {"@path": "$.a"},
                "ignorecase": True,
            }
        },
        id="@replace-case-insensitive",
    ),
    pytest.param(
        {"@replace": {"pattern": "+", "value": {"@path": "$.a"}}}, id="@replace-no-replacement"
    ),
    pytest.param(
        {"@replace": {"pattern": "+", "replacement": "-", "value": {"@path": "$.a"}}},
        id="@replace-simple",
    ),
    pytest.param(
        {"@template": "{{foo.bar}}", "_metadata": {"type": "autocomplete", "label": "X"}},
        id="@template-metadata",
    ),
    pytest.param({"@template": {"@path": "$.my.template"}}, id="@template-nested"),
    pytest.param({"@template": "{{foo.bar}}"}, id="@template-simple"),
    pytest.param([1, 2], id="raw-array"),
    pytest.param({"hello": {"world!": True}}, id="raw-object-nested"),
    pytest.param({"cool": True, "string": "right here!"}, id="raw-object"),
    pytest.param("foo", id="raw-string"),
    # validate.ts: directives as arguments, limits at their edge, options
    pytest.param(
        {"@arrayPath": [{"@path": "$.a"}, {"x": {"@if": {"blank": {"@path": "$.b"}, "then": 1}}}]},
        id="arraypath-directive-and-if-item",
    ),
    pytest.param({"@arrayPath": ["$.a", {"@path": "$.b"}]}, id="arraypath-directive-item"),
    pytest.param({"@arrayPath": ["$.a", "not a shape"]}, id="arraypath-raw-item"),
    pytest.param(
        {"@template": {"@if": {"exists": {"@path": "$.a"}, "then": "{{a}}", "else": "-"}}},
        id="template-from-if",
    ),
    pytest.param(
        {"@replace": {"pattern": "0123456789", "replacement": "abcdefghij", "value": "x"}},
        id="replace-at-limits",
    ),
    pytest.param(
        {"@replace": {"pattern": "😀😀😀😀😀", "value": {"@path": "$.a"}}},
        id="replace-10-utf16-units",
    ),
    pytest.param(
        {
            "@replace": {
                "pattern": "a",
                "replacement": "",
                "global": False,
                "ignorecase": True,
                "pattern2": "b",
                "replacement2": "c",
                "value": "v",
            }
        },
        id="replace-every-option",
    ),
    pytest.param(
        {"@replace": {"pattern": "a", "pattern2": 5, "value": "v"}},
        id="replace-pattern2-not-string-is-skipped",
    ),
    pytest.param(
        {"@flatten": {"value": {"@path": "$.a"}, "separator": "_", "omitArrays": True}},
        id="flatten-omit-arrays",
    ),
    pytest.param({"@flatten": {"value": {"@path": "$.a"}}}, id="flatten-default-separator"),
    pytest.param(
        {"@if": {"exists": {"@path": "$.a"}, "blank": {"@path": "$.b"}, "then": 1}},
        id="if-exists-and-blank",
    ),
    pytest.param(
        {"@if": {"blank": {"@path": "$.a"}, "else": {"@path": "$.b"}}}, id="if-blank-else-only"
    ),
    pytest.param({"@excludeWhenNull": {"@path": "$.a"}}, id="exclude-when-null"),
    pytest.param({"@json": {"mode": "encode", "value": {"@path": "$.a"}}}, id="json-encode"),
]


@pytest.mark.parametrize("mapping", VALID)
def test_accepts_what_the_reference_accepts(mapping: Any) -> None:
    assert validate(mapping) == []


# schema-fixtures/invalid/*.json and validate.ts / index.ts: what the reference
# refuses (when validating, or on every event), with where and why.
INVALID = [
    pytest.param({"@arrayPath": "nope"}, "@arrayPath", "expects [", id="@array-path-not-array"),
    pytest.param(
        {"@if": {"exists": True, "then": {"@oops": {}}}},
        "@if.then",
        "unknown directive '@oops'",
        id="@if-invalid-nested-field",
    ),
    pytest.param({"@path": False}, "@path", "expects a path string", id="@path-wrong-type"),
    pytest.param(
        {"@replace": {"value": {"@path": "$.a"}}},
        "@replace",
        "missing ['pattern']",
        id="@replace-no-pattern",
    ),
    pytest.param(
        {"@replace": {"pattern": "bla"}}, "@replace", "missing ['value']", id="@replace-no-value"
    ),
    pytest.param(
        {"@replace": {"pattern": "waaaaayyytoooooloooong", "value": {"@path": "$.a"}}},
        "@replace.pattern",
        "10 characters or fewer",
        id="@replace-pattern-too-long",
    ),
    pytest.param(
        {
            "@replace": {
                "pattern": "w",
                "replacement": "waaaayyyytooolong",
                "value": {"@path": "$.a"},
            }
        },
        "@replace.replacement",
        "10 characters or fewer",
        id="@replace-replacement-too-long",
    ),
    pytest.param(
        {
            "@replace": {
                "pattern": "+",
                "replacement": "-",
                "value": {"@path": "$.a"},
                "global": "bla",
            }
        },
        "@replace.global",
        "true or false",
        id="@replace-wrong-global-value",
    ),
    pytest.param(
        {
            "@replace": {
                "pattern": "+",
                "replacement": "-",
                "value": {"@path": "$.a"},
                "ignorecase": "bla",
            }
        },
        "@replace.ignorecase",
        "true or false",
        id="@replace-wrong-ignore-value",
    ),
    pytest.param(
        {"@template": 123}, "@template", "or a directive, got 123", id="@template-wrong-type"
    ),
    pytest.param(
        {"@path": "$.foo", "bar": "baz"},
        "",
        "exactly one @-prefixed key",
        id="mixed-directive-and-raw",
    ),
    pytest.param(
        {"@path": "$.foo", "@bar": "baz"},
        "",
        "exactly one @-prefixed key",
        id="multiple-directives",
    ),
    pytest.param({"@oops": {}}, "", "unknown directive '@oops'", id="unknown-directive"),
    # validate.ts and index.ts beyond the fixtures
    pytest.param(
        {"@replace": {"pattern": "", "value": "x"}},
        "@replace.pattern",
        "at least 1 character",
        id="replace-empty-pattern",
    ),
    pytest.param(
        {"@replace": {"pattern": "😀😀😀😀😀a", "value": "x"}},
        "@replace.pattern",
        "not 11",
        id="replace-11-utf16-units",
    ),
    pytest.param(
        {"@replace": {"pattern": "a", "replacement": None, "value": "x"}},
        "@replace.replacement",
        "should be a string",
        id="replace-null-replacement",
    ),
    pytest.param(
        {"@replace": {"pattern": "a", "value": 10}},
        "@replace.value",
        "string or a directive",
        id="replace-raw-number-value",
    ),
    pytest.param(
        {"@replace": {"pattern": "a", "pattern2": "waytoolongpattern", "value": "x"}},
        "@replace.pattern2",
        "10 characters or fewer",
        id="replace-pattern2-too-long",
    ),
    pytest.param(
        {
            "@replace": {
                "pattern": "a",
                "pattern2": "b",
                "replacement2": "waytoolongtext",
                "value": "x",
            }
        },
        "@replace.replacement2",
        "10 characters or fewer",
        id="replace-replacement2-too-long",
    ),
    pytest.param({"@path": {"a": 1}}, "@path", "or a directive", id="path-plain-object"),
    pytest.param(
        {"@template": {"@nope": 1}},
        "@template",
        "unknown directive '@nope'",
        id="template-bad-directive",
    ),
    pytest.param({"@arrayPath": []}, "@arrayPath", "expects [", id="arraypath-empty"),
    pytest.param(
        {"@arrayPath": [5]}, "@arrayPath[0]", "expects a path string", id="arraypath-number-path"
    ),
    pytest.param(
        {"@arrayPath": ["$.a", {"x": {"@if": {"then": 1}}}]},
        "@arrayPath[1].x.@if",
        'needs "exists" or "blank"',
        id="arraypath-bad-item",
    ),
    pytest.param(
        {"@if": {"then": 1, "else": 2}}, "@if", 'needs "exists" or "blank"', id="if-no-test"
    ),
    pytest.param(
        {"@if": {"exists": 0, "then": 1}}, "@if", 'needs "exists" or "blank"', id="if-falsy-test"
    ),
    pytest.param({"@if": "x"}, "@if", "expects an object", id="if-not-object"),
    pytest.param(
        {"@json": {"mode": "encode", "value": None}},
        "@json.value",
        "is required",
        id="json-null-value",
    ),
    pytest.param(
        {"@flatten": {"value": 1, "separator": {"@path": "$.s"}}},
        "@flatten.separator",
        "should be a string",
        id="flatten-directive-separator",
    ),
]


@pytest.mark.parametrize(("mapping", "where", "message"), INVALID)
def test_refuses_what_the_reference_refuses(mapping: Any, where: str, message: str) -> None:
    errors = validate(mapping)
    assert errors, mapping
    assert any(e.location == where and message in e.message for e in errors), errors


def test_several_errors_are_all_reported() -> None:
    # schema-fixtures/invalid/multiple-errors.json
    mapping = {"obj": {"@path": "foo.bar", "oops": True}, "hash": {"@template": {}}}
    errors = {(e.location, e.message.split(",")[0]) for e in validate(mapping)}
    assert (
        "obj",
        "a directive object holds exactly one @-prefixed key (and optionally _metadata)",
    ) in errors
    assert (
        "hash.@template",
        'expects a string like "Hello {{traits.name}}" or a directive',
    ) in errors
