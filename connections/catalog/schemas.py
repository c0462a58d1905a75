"""The JSON Schemas of the catalog files (``schema/*.schema.json``) and their checks.

Each source type and each destination file is validated with a Draft 2020-12
validator; triggers are checked as the custom format ``fql``. A failure becomes
one message naming the entry and the key, e.g.
``destination 'demo' > setting 'api_key': type: must be one of ...``.

A schema may word a failure itself with ``errorMessage`` (the ajv-errors
convention, which validators ignore): a string for any failure of that
subschema, or ``{keyword: message}``; ``{value}`` stands for the offending
value and ``{cause}`` for the reason a format check gave.
"""

from __future__ import annotations

import functools
import json
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from connections.rules import fql

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"

# A list key in a path, and what one item of it is called and named by.
_ENTRIES = {
    "settings": ("setting", "name"),
    "actions": ("action", "key"),
    "fields": ("field", "key"),
    "presets": ("preset", "name"),
}
_TYPES = {
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of keys to values",
    "integer": "an integer",
    "number": "a number",
}

_formats = FormatChecker()


@_formats.checks("fql", raises=fql.FQLError)
def _is_fql(value: object) -> bool:
    if isinstance(value, str):
        fql.compile(value)
    return True


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """The schema ``name`` ("source" or "destination"), as data."""
    loaded: dict[str, Any] = json.loads(
        (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
    )
    return loaded


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    found = schema(name)
    Draft202012Validator.check_schema(found)
    return Draft202012Validator(found, format_checker=_formats)


def enum(name: str, pointer: str) -> tuple[str, ...]:
    """The allowed values at ``pointer`` (a JSON Pointer) of schema ``name``."""
    node: Any = schema(name)
    for part in pointer.strip("/").split("/"):
        node = node[part]
    return tuple(node)


def problem(name: str, document: object, label: str) -> str | None:
    """What is wrong with ``document`` under schema ``name`` (the most relevant
    failure), or None when it is valid. ``label`` names the document's entry."""
    error = best_match(_validator(name).iter_errors(document))
    if error is None:
        return None
    where, key = _locate(document, label, error.absolute_path)
    at = f"{key}: " if key else ""
    return f"{where}: {at}{_describe(error)}"


def _locate(document: object, label: str, path: deque[str | int]) -> tuple[str, str]:
    """The entry a path leads to ("destination 'x' > action 'send' > field 'url'")
    and the key inside it ("type", "categories")."""
    names = [label]
    node, rest = document, list(path)
    while len(rest) >= 2 and rest[0] in _ENTRIES and isinstance(rest[1], int):
        kind, name_key = _ENTRIES[str(rest[0])]
        node = node[rest[0]][rest[1]]  # type: ignore[index]  # the path came from it
        name = node.get(name_key) if isinstance(node, dict) else None
        names.append(f"{kind} {name!r}" if isinstance(name, str) else f"{kind} #{rest[1] + 1}")
        rest = rest[2:]
    if rest and isinstance(rest[-1], int):  # an item of a plain list: name the list
        rest = rest[:-1]
    return " > ".join(names), ".".join(str(part) for part in rest)


def _custom(error: ValidationError) -> str | None:
    wording = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    if isinstance(wording, dict):
        wording = wording.get(str(error.validator))
    if not isinstance(wording, str):
        return None
    cause = error.cause if error.cause is not None else ""
    return wording.format(value=repr(error.instance), cause=cause)


def _describe(error: ValidationError) -> str:
    custom = _custom(error)
    if custom is not None:
        return custom
    value, expected = error.instance, error.validator_value
    shown = repr(value)
    match error.validator:
        case "type":
            wanted = [expected] if isinstance(expected, str) else list(expected)
            return f"must be {' or '.join(_TYPES.get(t, t) for t in wanted)}, got {shown}"
        case "enum" | "const":
            allowed: Sequence[Any] = expected if error.validator == "enum" else [expected]
            if error.absolute_path and isinstance(error.absolute_path[-1], int):
                return f"unknown value {shown}; one of: {', '.join(map(str, allowed))}"
            return f"must be one of {', '.join(repr(a) for a in allowed)}, got {shown}"
        case "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            unknown = sorted(str(k) for k in value if k not in allowed)
            return f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        case "required":
            missing = [k for k in expected if k not in value]
            return f"missing required key(s) {', '.join(missing)}"
        case "uniqueItems":
            duplicates = sorted({repr(v) for v in value if value.count(v) > 1})
            return f"duplicate value(s) {', '.join(duplicates)}"
        case "minItems":
            return f"needs at least {expected} item(s)"
        case "pattern":
            return f"{shown} does not match {expected}"
    return error.message
