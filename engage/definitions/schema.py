"""The JSON shapes of audience and computed trait definitions (reference
engage.md §12.2 for audiences), as JSON Schemas (Draft 2020-12), and the shape
check that turns a schema failure into :class:`DefinitionError`s.

Unions are dispatched on their tag (``op``, ``kind``, ``cmp``, ``ref``,
``type``) with ``if``/``then`` rather than ``oneOf``: a bad node then fails
with the reasons of the one branch it meant (``/root/args/1/count/cmp``: must
be one of ...), not with "is not valid under any of the given schemas".
:func:`openapi_components` rewrites the schemas for OpenAPI 3.0 (no tags'
conditions there, only the shapes)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Sequence
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from engage.definitions.errors import DefinitionError, pointer

USERS = "users"
ACCOUNTS = "accounts"
TYPES = (USERS, ACCOUNTS)

EQUALITY_CMPS = ("eq", "neq")
ORDER_CMPS = ("gt", "gte", "lt", "lte")
TEXT_CMPS = ("contains", "not_contains", "starts_with", "ends_with")
PRESENCE_CMPS = ("exists", "not_exists")
LIST_CMPS = ("in", "contains_any")
DATE_CMPS = ("before_date", "after_date")
DURATION_CMPS = ("within_last", "within_next", "before_last", "after_next")
TIME_CMPS = DATE_CMPS + DURATION_CMPS
CMPS = EQUALITY_CMPS + ORDER_CMPS + TEXT_CMPS + PRESENCE_CMPS + LIST_CMPS + TIME_CMPS
PROPERTY_CMPS = tuple(c for c in CMPS if c not in TIME_CMPS)
COUNT_CMPS = ("gte", "eq", "lte")
UNITS = ("hours", "days")
GROUP_OPS = ("and", "or")
QUANTIFIERS = ("any", "all", "none")
TRAIT_KINDS = (
    "event_counter",
    "aggregation",
    "most_frequent",
    "first",
    "last",
    "unique_list",
    "unique_list_count",
)
AGGREGATIONS = ("sum", "avg", "min", "max")

_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
_SOURCES = {"type": "array", "items": _NAME, "minItems": 1, "uniqueItems": True}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _when(tag: str, values: Sequence[str], then: dict[str, Any], *, alone: bool = False) -> dict:
    """``then`` applies to an object whose ``tag`` is one of ``values`` (and, with
    ``alone``, which has no ``op``: a node is a group or a condition, not both)."""
    test: dict[str, Any] = {
        "type": "object",
        "required": [tag],
        "properties": {tag: {"enum": list(values)}},
    }
    if alone:
        test["not"] = {"required": ["op"]}
    return {"if": test, "then": then}


def _closed(required: Sequence[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(required),
        "additionalProperties": False,
        "properties": properties,
    }


def _value_rules(operand: str, text: str) -> list[dict]:
    """What ``value`` is for each ``cmp`` of a condition."""

    def value(schema: dict[str, Any]) -> dict[str, Any]:
        return {"properties": {"value": schema}}

    return [
        _when("cmp", EQUALITY_CMPS + ORDER_CMPS, value(_ref(operand))),
        _when("cmp", TEXT_CMPS, value(_ref(text))),
        _when("cmp", PRESENCE_CMPS, value({"type": "null"})),
        _when("cmp", LIST_CMPS, value({"type": "array", "minItems": 1, "items": _ref("scalar")})),
        _when("cmp", DATE_CMPS, value({"type": "string", "minLength": 1})),
        _when("cmp", DURATION_CMPS, value(_ref("duration"))),
    ]


def _predicate(
    kinds: Sequence[str],
    path_key: str,
    cmps: Sequence[str],
    operand: str,
    text: str,
    *,
    cmp_message: str | None = None,
) -> dict:
    cmp: dict[str, Any] = {"enum": list(cmps)}
    if cmp_message:
        cmp["errorMessage"] = cmp_message
    refs = " or a reference ({'ref': ...})" if operand == "operand" else ""
    value = {
        "description": "By cmp: null for exists/not_exists; a non-empty list of strings, "
        "numbers or booleans for in/contains_any; an ISO 8601 string for "
        "before_date/after_date; {value, unit} for within_last/within_next/before_last/"
        f"after_next; a string{refs} for contains/not_contains/starts_with/ends_with; "
        f"otherwise a string, number or boolean{refs}."
    }
    schema = _closed(
        ["kind", path_key, "cmp", "value"],
        {"kind": {"enum": list(kinds)}, path_key: _NAME, "cmp": cmp, "value": value},
    )
    schema["allOf"] = _value_rules(operand, text)
    return schema


def _tree(
    ops: Sequence[str], unary: Sequence[str], kinds: dict[str, str], node: str, *, kind_message: str
) -> dict:
    """A node: a group (``op``) of nodes of the same tree, or one of ``kinds``."""
    rules: list[dict] = [
        _when(
            "op",
            [o for o in ops if o in GROUP_OPS],
            _closed(
                ["op", "args"],
                {"op": {}, "args": {"type": "array", "minItems": 1, "items": _ref(node)}},
            ),
        ),
        _when("op", unary, _closed(["op", "arg"], {"op": {}, "arg": _ref(node)})),
    ]
    rules += [_when("kind", [kind], _ref(target), alone=True) for kind, target in kinds.items()]
    return {
        "type": "object",
        "properties": {
            "op": {"enum": list(ops)},
            "kind": {"enum": list(kinds), "errorMessage": kind_message},
        },
        "if": {"not": {"required": ["op"]}},
        "then": {"required": ["kind"]},
        "allOf": rules,
    }


def _event(window: dict[str, Any], where: str) -> dict:
    return _closed(
        ["kind", "event", "where", "window", "count"],
        {
            "kind": {"const": "event"},
            "event": _NAME,
            "where": {"anyOf": [{"type": "null"}, _ref(where)]},
            "window": window,
            "exclude_sources": _SOURCES,
            "count": _closed(
                ["cmp", "value"],
                {
                    "cmp": {
                        "enum": list(COUNT_CMPS),
                        "errorMessage": "a count is compared with 'gte' (at least), 'eq' "
                        "(exactly) or 'lte' (at most)",
                    },
                    "value": {"type": "integer", "minimum": 0},
                },
            ),
        },
    )


def _within(relative_to: str, message: str) -> dict:
    return _closed(
        ["type", "value", "unit", "relative_to"],
        {
            "type": {"const": "within"},
            "value": {"type": "integer", "exclusiveMinimum": 0},
            "unit": {"enum": list(UNITS)},
            "relative_to": {"const": relative_to, "errorMessage": message},
        },
    )


_NOW_ONLY = (
    "a window relative to the parent event is for an event inside another "
    "event's where (a funnel step)"
)
_PARENT_ONLY = (
    "an event inside where is a funnel step: its window is 'within' relative "
    "to the parent event ('relative_to': 'parent')"
)
_WINDOW_TYPES = {"enum": ["within", "between"]}

_COMMON_DEFS: dict[str, Any] = {
    "scalar": {"type": ["string", "number", "boolean"]},
    "duration": _closed(
        ["value", "unit"],
        {
            "value": {"type": "integer", "exclusiveMinimum": 0},
            "unit": {"enum": list(UNITS)},
        },
    ),
    "ref": {
        "type": "object",
        "required": ["ref"],
        "properties": {"ref": {"enum": ["trait", "parent_property"]}},
        "allOf": [
            _when("ref", ["trait"], _closed(["ref", "name"], {"ref": {}, "name": _NAME})),
            _when("ref", ["parent_property"], _closed(["ref", "path"], {"ref": {}, "path": _NAME})),
        ],
    },
    "operand": {
        "type": ["string", "number", "boolean", "object"],
        "if": {"type": "object"},
        "then": _ref("ref"),
    },
    "text_operand": {"type": ["string", "object"], "if": {"type": "object"}, "then": _ref("ref")},
    "text": {"type": "string"},
}

_WHERE_KINDS = "where holds property or context conditions, or a following event (a funnel step)"
_TIME_ON_TRAITS = "time operators apply to traits only"

AUDIENCE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Audience definition",
    "description": "An audience's condition tree (reference engage.md §12.2).",
    "type": "object",
    "required": ["version", "type", "include_anonymous", "include_historical", "root"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "type": {"enum": list(TYPES)},
        "include_anonymous": {"type": "boolean"},
        "include_historical": {"type": "boolean"},
        "root": _ref("node"),
    },
    "$defs": {
        **_COMMON_DEFS,
        "node": _tree(
            (*GROUP_OPS, "not", *QUANTIFIERS),
            ("not", *QUANTIFIERS),
            {"event": "event", "trait": "trait", "audience": "audience"},
            "node",
            kind_message="a condition is an 'event', 'trait' or 'audience' (or a group with 'op')",
        ),
        "pnode": _tree(
            (*GROUP_OPS, "not"),
            ("not",),
            {"property": "property", "context": "property", "event": "child_event"},
            "pnode",
            kind_message=_WHERE_KINDS,
        ),
        "event": _event(
            {
                "anyOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["type"],
                        "properties": {"type": _WINDOW_TYPES},
                        "allOf": [
                            _when("type", ["within"], _within("now", _NOW_ONLY)),
                            _when(
                                "type",
                                ["between"],
                                _closed(
                                    ["type", "start", "end"],
                                    {
                                        "type": {},
                                        "start": _ref("duration"),
                                        "end": _ref("duration"),
                                    },
                                ),
                            ),
                        ],
                    },
                ],
            },
            "pnode",
        ),
        "child_event": _event(_within("parent", _PARENT_ONLY), "pnode"),
        "trait": _predicate(["trait"], "trait", CMPS, "scalar", "text"),
        "property": _predicate(
            ["property", "context"],
            "path",
            PROPERTY_CMPS,
            "operand",
            "text_operand",
            cmp_message=_TIME_ON_TRAITS,
        ),
        "audience": _closed(
            ["kind", "audience_key", "member"],
            {
                "kind": {"const": "audience"},
                "audience_key": _NAME,
                "member": {"type": "boolean"},
            },
        ),
    },
}

TRAIT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Computed trait definition",
    "description": "A computed trait over one event (reference engage.md §4.3).",
    "type": "object",
    "required": ["version", "type", "kind", "event", "where", "window"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "type": {"enum": list(TYPES)},
        "kind": {"enum": list(TRAIT_KINDS)},
        "event": _NAME,
        "where": {"anyOf": [{"type": "null"}, _ref("pnode")]},
        "window": {
            "anyOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {
                            "const": "within",
                            "errorMessage": "a computed trait's window is 'within' (the last "
                            "N hours or days)",
                        }
                    },
                    "allOf": [
                        _when(
                            "type",
                            ["within"],
                            _within("now", "a computed trait's window is relative to now"),
                        )
                    ],
                },
            ]
        },
        "exclude_sources": _SOURCES,
        "property": _NAME,
        "aggregation": {"enum": list(AGGREGATIONS)},
        "min_frequency": {"type": "integer", "minimum": 1},
    },
    "$defs": {
        **_COMMON_DEFS,
        "pnode": _tree(
            (*GROUP_OPS, "not"),
            ("not",),
            {"property": "property", "context": "property"},
            "pnode",
            kind_message="a computed trait's where holds property or context conditions",
        ),
        "property": _predicate(
            ["property", "context"],
            "path",
            PROPERTY_CMPS,
            "scalar",
            "text",
            cmp_message=_TIME_ON_TRAITS,
        ),
    },
}

# Deeper than this is refused before the schema walks it (recursion).
MAX_DEPTH = 40

_TYPE_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}


# JSON Schema counts 1.0 as an integer; counts and windows are whole numbers
# in the text form and the SQL, so a float is refused.
_Validator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


@functools.cache
def _validator(title: str) -> Any:
    schema = AUDIENCE_SCHEMA if title == "audience" else TRAIT_SCHEMA
    Draft202012Validator.check_schema(schema)
    return _Validator(schema)


def depth(document: object) -> int:
    """How deeply ``document``'s lists and objects nest (iteratively: a hostile
    document must not exhaust the stack before it is refused)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, level = stack.pop()
        children: Iterable[object]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def shape_errors(document: object, which: str) -> list[DefinitionError]:
    """Every place where ``document`` does not fit the schema of ``which``
    ("audience" or "trait")."""
    if depth(document) > MAX_DEPTH:
        return [DefinitionError("", f"nests deeper than {MAX_DEPTH} levels", "too_deep")]
    errors = list(_nul_errors(document, ()))
    for error in _validator(which).iter_errors(document):
        errors.extend(_convert(error))
    errors.sort(key=lambda e: e.path)
    return errors


def _nul_errors(node: object, path: tuple[str | int, ...]) -> Iterable[DefinitionError]:
    """PostgreSQL's jsonb cannot store U+0000, in keys or in strings."""
    if isinstance(node, str) and "\x00" in node:
        yield DefinitionError(pointer(path), "must not contain the NUL character", "nul")
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and "\x00" in key:
                yield DefinitionError(
                    pointer((*path, key)), "must not contain the NUL character", "nul"
                )
            yield from _nul_errors(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nul_errors(value, (*path, index))


def _convert(error: ValidationError) -> list[DefinitionError]:
    at = list(error.absolute_path)
    instance, expected = error.instance, error.validator_value
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    match error.validator:
        case "required":
            return [
                DefinitionError(pointer([*at, key]), "is required", "required")
                for key in expected
                if key not in instance
            ]
        case "additionalProperties":
            allowed = ", ".join(sorted(error.schema.get("properties", {})))
            return [
                DefinitionError(
                    pointer([*at, key]), f"unknown key; allowed: {allowed}", "unknown_key"
                )
                for key in instance
                if key not in error.schema.get("properties", {})
            ]
        case "type":
            wanted = [expected] if isinstance(expected, str) else list(expected)
            names = " or ".join(_TYPE_NAMES.get(t, t) for t in wanted)
            return [DefinitionError(pointer(at), f"must be {names}", "type")]
        case "enum" | "const":
            if isinstance(custom, str):
                return [DefinitionError(pointer(at), custom, "value")]
            if error.validator == "const":
                return [DefinitionError(pointer(at), f"must be {expected!r}", "value")]
            allowed_values = expected
            shown = ", ".join(repr(v) for v in allowed_values)
            return [
                DefinitionError(pointer(at), f"must be one of {shown}, not {instance!r}", "value")
            ]
        case "minimum":
            return [DefinitionError(pointer(at), f"must be at least {expected}", "range")]
        case "exclusiveMinimum":
            return [DefinitionError(pointer(at), f"must be greater than {expected}", "range")]
        case "minItems":
            return [DefinitionError(pointer(at), f"needs at least {expected} item(s)", "length")]
        case "minLength":
            return [DefinitionError(pointer(at), "must not be empty", "length")]
        case "maxLength":
            return [DefinitionError(pointer(at), f"is longer than {expected} characters", "length")]
        case "uniqueItems":
            return [DefinitionError(pointer(at), "has duplicate items", "duplicate")]
        case "anyOf":
            # null or an object: the object's own failures say more.
            best = [
                e for e in error.context if e.validator != "type" or e.schema.get("type") != "null"
            ]
            if best and isinstance(instance, dict):
                return [d for e in best for d in _convert(e)]
            return [DefinitionError(pointer(at), "must be null or an object", "type")]
    return [DefinitionError(pointer(at), error.message, "invalid")]


def openapi_components(prefix: str, schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``schema`` as OpenAPI 3.0 components: ``{prefix: root, prefix + Def: ...}``
    (``AudienceNode``, ``AudienceEvent``...) with references rewritten, ``const`` as a
    one-value ``enum``, ``null`` as ``nullable``, and each tagged union (the
    ``if``/``then`` dispatch) as a ``oneOf`` of its branches, each branch's tag
    narrowed to its values. The conditions on ``value`` by ``cmp`` are left to the
    description of the API (OpenAPI 3.0 cannot say them); the API validates them."""

    def name(ref: str) -> str:
        part = ref.rsplit("/", 1)[-1]
        return prefix + "".join(w.capitalize() for w in part.split("_"))

    def branches(rules: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
        """The union's branches, and the other (untagged) parts of an allOf."""
        found: list[Any] = []
        rest: list[Any] = []
        for rule in rules:
            then = rule.get("then")
            if "if" not in rule:
                rest.append(convert(rule))
            elif isinstance(then, dict) and ("$ref" in then or "type" in then):
                branch = convert(then)
                tag, test = next(iter(rule["if"]["properties"].items()))
                if tag in branch.get("properties", {}):
                    branch["properties"][tag] = {"enum": list(test["enum"])}
                if branch not in found:
                    found.append(branch)
        return found, rest

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(n) for n in node]
        if not isinstance(node, dict):
            return node
        if node.get("if") == {"type": "object"}:  # a scalar or a reference object
            return {
                "oneOf": [
                    convert(node["then"]) if t == "object" else {"type": t} for t in node["type"]
                ]
            }
        out: dict[str, Any] = {}
        union: list[Any] = []
        for key, value in node.items():
            if key in ("$schema", "$defs", "if", "then", "errorMessage"):
                continue
            if key == "$ref":
                out["$ref"] = f"#/components/schemas/{name(value)}"
            elif key == "const":
                out["enum"] = [value]
            elif key == "exclusiveMinimum":
                out["minimum"], out["exclusiveMinimum"] = value, True
            elif key == "allOf":
                union, kept = branches(value)
                if kept:
                    out["allOf"] = kept
            elif key == "type" and isinstance(value, list):
                out["oneOf"] = [{"type": t} for t in value]
            elif key == "anyOf" and {"type": "null"} in value:
                rest = [convert(v) for v in value if v != {"type": "null"}]
                # A $ref's siblings are ignored in OpenAPI 3.0: wrap it to make it nullable.
                out.update({"allOf": rest} if "$ref" in rest[0] else rest[0])
                out["nullable"] = True
            elif key == "type" and value == "null":
                out["nullable"], out["enum"] = True, [None]
            elif key == "properties":
                out[key] = {k: convert(v) for k, v in value.items()}
            else:
                out[key] = convert(value)
        if union:
            # The branches carry the shape; the dispatcher's own keys are tests.
            return {"oneOf": union, **{k: out[k] for k in ("title", "description") if k in out}}
        return out

    components = {prefix: convert(copy.deepcopy(schema))}
    for def_name, definition in schema.get("$defs", {}).items():
        components[name(def_name)] = convert(definition)
    return components
