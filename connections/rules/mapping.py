"""The mapping kit: resolve an action's field mapping against an event.

A mapping is JSON: raw values pass through, objects map keys to mappings, and an
object whose single key starts with ``@`` is a directive (Segment's actions use
the same ones): ``@path``, ``@template``, ``@literal``, ``@if``, ``@case``,
``@replace``, ``@arrayPath``, ``@json``, ``@flatten``, ``@merge``,
``@transform``, ``@excludeWhenNull``. A path that resolves to nothing drops its
key (null is a value and stays, unless ``@excludeWhenNull`` says otherwise).

``compile(mapping)`` validates once and returns a fast resolver;
``resolve(mapping, payload)`` and ``validate(mapping)`` are the one-shot forms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MappingError", "compile", "resolve", "validate"]


class _Undefined:
    """What a path to nothing resolves to: its key is dropped."""

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Any = _Undefined()
Resolver = Callable[[Any], Any]


@dataclass(frozen=True)
class MappingError:
    location: str  # where in the mapping, e.g. "user_id.@path"
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class InvalidMapping(ValueError):
    def __init__(self, errors: list[MappingError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


DIRECTIVES = (
    "@path",
    "@template",
    "@literal",
    "@if",
    "@case",
    "@replace",
    "@arrayPath",
    "@json",
    "@flatten",
    "@merge",
    "@transform",
    "@excludeWhenNull",
)

_SEGMENT = re.compile(r"([^\[\]]*)((?:\[\d+\])*)$")
_INDEX = re.compile(r"\[(\d+)\]")
_TEMPLATE = re.compile(r"{{\s*([^{}]*?)\s*}}")


# --- paths --------------------------------------------------------------------


def _parse_path(path: str) -> list[str | int]:
    """``$.a.b[0].c`` -> ``["a", "b", 0, "c"]``; ``$.`` and ``$`` are the root. Keys
    may hold spaces (``$.integrations.Actions Amplitude.session_id``)."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    text = text.removeprefix(".")
    steps: list[str | int] = []
    if not text:
        return steps
    for part in text.split("."):
        found = _SEGMENT.match(part)
        if found is None or (not found.group(1) and not found.group(2)):
            raise ValueError(f"invalid path {path!r}")
        if found.group(1):
            steps.append(found.group(1))
        steps.extend(int(i) for i in _INDEX.findall(found.group(2)))
    return steps


def _getter(path: str) -> Resolver:
    steps = _parse_path(path)

    def get(payload: Any) -> Any:
        value = payload
        for step in steps:
            if isinstance(step, int):
                if not isinstance(value, list) or step >= len(value):
                    return UNDEFINED
                value = value[step]
            else:
                if not isinstance(value, dict) or step not in value:
                    return UNDEFINED
                value = value[step]
        return value

    return get


# --- compilation ----------------------------------------------------------------


def _is_directive(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(k, str) and k.startswith("@") for k in value)


def _compile(mapping: Any, where: str, errors: list[MappingError]) -> Resolver:
    if _is_directive(mapping):
        if len(mapping) != 1:
            errors.append(
                MappingError(
                    where, f"a directive object holds exactly one key, got {sorted(mapping)}"
                )
            )
            return lambda payload: UNDEFINED
        ((name, argument),) = mapping.items()
        if name not in _BUILDERS:
            errors.append(MappingError(where, f"unknown directive {name!r}"))
            return lambda payload: UNDEFINED
        return _BUILDERS[name](argument, _join(where, name), errors)
    if isinstance(mapping, dict):
        parts = [
            (key, _compile(value, _join(where, key), errors)) for key, value in mapping.items()
        ]

        def build(payload: Any) -> dict[str, Any]:
            out = {}
            for key, part in parts:
                value = part(payload)
                if value is not UNDEFINED:
                    out[key] = value
            return out

        return build
    if isinstance(mapping, list):
        items = [_compile(value, f"{where}[{i}]", errors) for i, value in enumerate(mapping)]
        return lambda payload: [v for v in (item(payload) for item in items) if v is not UNDEFINED]
    return lambda payload: mapping


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _need(
    argument: Any, kind: type | tuple[type, ...], where: str, errors: list[MappingError], what: str
) -> bool:
    if not isinstance(argument, kind):
        errors.append(MappingError(where, f"{what}, got {json.dumps(argument)}"))
        return False
    return True


def _object_argument(
    argument: Any, where: str, errors: list[MappingError], required: set[str], optional: set[str]
) -> bool:
    if not _need(argument, dict, where, errors, f"expects an object with {sorted(required)}"):
        return False
    missing = sorted(required - set(argument))
    unknown = sorted(set(argument) - required - optional)
    if missing:
        errors.append(MappingError(where, f"missing {missing}"))
    if unknown:
        errors.append(MappingError(where, f"unknown key(s) {unknown}"))
    return not missing and not unknown


def _one_of(value: Any, allowed: tuple[str, str], where: str, errors: list[MappingError]) -> bool:
    if value in allowed:
        return True
    errors.append(MappingError(where, f'must be "{allowed[0]}" or "{allowed[1]}"'))
    return False


def _undefined(payload: Any) -> Any:
    return UNDEFINED


def _path(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    if not _need(argument, str, where, errors, 'expects a path string like "$.userId"'):
        return _undefined
    try:
        return _getter(argument)
    except ValueError as exc:
        errors.append(MappingError(where, str(exc)))
        return _undefined


def _template(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    if not _need(argument, str, where, errors, 'expects a string like "Hello {{traits.name}}"'):
        return _undefined
    pieces: list[str | Resolver] = []
    last = 0
    for found in _TEMPLATE.finditer(argument):
        pieces.append(argument[last : found.start()])
        try:
            pieces.append(_getter(found.group(1)))
        except ValueError as exc:
            errors.append(MappingError(where, str(exc)))
        last = found.end()
    pieces.append(argument[last:])

    def render(payload: Any) -> str:
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            value = piece(payload)
            if value is UNDEFINED or value is None:
                continue
            out.append(value if isinstance(value, str) else json.dumps(value))
        return "".join(out)

    return render


def _literal(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    return lambda payload: argument


def _if(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    if not _need(argument, dict, where, errors, 'expects {"exists"|"blank": ..., "then", "else"}'):
        return _undefined
    tests = [k for k in ("exists", "blank") if k in argument]
    unknown = sorted(set(argument) - {"exists", "blank", "then", "else"})
    if len(tests) != 1:
        errors.append(MappingError(where, 'needs exactly one of "exists" or "blank"'))
        return _undefined
    if unknown:
        errors.append(MappingError(where, f"unknown key(s) {unknown}"))
    test = _compile(argument[tests[0]], _join(where, tests[0]), errors)
    then = _compile(argument.get("then", UNDEFINED), _join(where, "then"), errors)
    otherwise = _compile(argument.get("else", UNDEFINED), _join(where, "else"), errors)
    blank = tests[0] == "blank"

    def choose(payload: Any) -> Any:
        value = test(payload)
        missing = value is UNDEFINED or value is None or (blank and value == "")
        return then(payload) if missing == blank else otherwise(payload)

    return choose


def _case(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    if not _object_argument(argument, where, errors, {"operator", "value"}, set()):
        return _undefined
    operator = argument["operator"]
    if not _one_of(operator, ("lower", "upper"), _join(where, "operator"), errors):
        return _undefined
    value = _compile(argument["value"], _join(where, "value"), errors)

    def change(payload: Any) -> Any:
        found = value(payload)
        if not isinstance(found, str):
            return found
        return found.lower() if operator == "lower" else found.upper()

    return change


def _replace(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    optional = {"replacement", "global", "ignorecase", "pattern2", "replacement2"}
    if not _object_argument(argument, where, errors, {"pattern", "value"}, optional):
        return _undefined
    flags = re.IGNORECASE if argument.get("ignorecase") else 0
    count = 0 if argument.get("global", True) else 1
    rules = []
    for suffix in ("", "2"):
        pattern = argument.get(f"pattern{suffix}")
        if pattern is None:
            continue
        if not _need(pattern, str, _join(where, f"pattern{suffix}"), errors, "expects a string"):
            return _undefined
        replacement = str(argument.get(f"replacement{suffix}", ""))
        # Patterns are literal text, as in Segment's Replace helper, not regular expressions.
        rules.append((re.compile(re.escape(pattern), flags), replacement))
    value = _compile(argument["value"], _join(where, "value"), errors)

    def swap(payload: Any) -> Any:
        found = value(payload)
        if found is UNDEFINED or found is None or isinstance(found, dict | list):
            return found
        text = found if isinstance(found, str) else json.dumps(found)
        for rule, replacement in rules:
            # A function replacement keeps backslashes in it literal.
            text = rule.sub(_constant(replacement), text, count=count)
        return text

    return swap


def _constant(text: str) -> Callable[[re.Match[str]], str]:
    return lambda _match: text


def _array_path(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    shape_ok = isinstance(argument, list) and len(argument) in (1, 2)
    if not shape_ok or not isinstance(argument[0], str):
        errors.append(MappingError(where, 'expects ["$.path.to.array", {item mapping}]'))
        return _undefined
    source = _path(argument[0], where, errors)
    item = _compile(argument[1], _join(where, "[1]"), errors) if len(argument) == 2 else None

    def each(payload: Any) -> Any:
        found = source(payload)
        if found is UNDEFINED or found is None:
            return found
        items = found if isinstance(found, list) else [found]
        # Paths inside the item mapping are relative to each element.
        return items if item is None else [item(element) for element in items]

    return each


def _json(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    if not _object_argument(argument, where, errors, {"mode", "value"}, set()):
        return _undefined
    mode = argument["mode"]
    if not _one_of(mode, ("encode", "decode"), _join(where, "mode"), errors):
        return _undefined
    value = _compile(argument["value"], _join(where, "value"), errors)

    def convert(payload: Any) -> Any:
        found = value(payload)
        if found is UNDEFINED:
            return found
        if mode == "encode":
            return json.dumps(found)
        if not isinstance(found, str):
            return found
        try:
            return json.loads(found)
        except ValueError:
            return found  # not JSON: the value as it came

    return convert


def _flatten(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    if not _object_argument(argument, where, errors, {"value"}, {"separator"}):
        return _undefined
    separator = argument.get("separator", ".")
    if not _need(separator, str, _join(where, "separator"), errors, "expects a string"):
        return _undefined
    value = _compile(argument["value"], _join(where, "value"), errors)

    def flat(payload: Any) -> Any:
        found = value(payload)
        if not isinstance(found, dict):
            return found
        out: dict[str, Any] = {}

        def walk(node: Any, prefix: str) -> None:
            if isinstance(node, dict) and node:
                for key, child in node.items():
                    walk(child, f"{prefix}{separator}{key}" if prefix else str(key))
            elif isinstance(node, list) and node:
                for index, child in enumerate(node):
                    walk(child, f"{prefix}{separator}{index}" if prefix else str(index))
            else:
                out[prefix] = node

        walk(found, "")
        return out

    return flat


def _merge(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    if not _object_argument(argument, where, errors, {"objects"}, {"direction"}):
        return _undefined
    direction = argument.get("direction", "right")
    _one_of(direction, ("left", "right"), _join(where, "direction"), errors)
    if not _need(argument["objects"], list, _join(where, "objects"), errors, "expects a list"):
        return _undefined
    parts = [
        _compile(item, f"{_join(where, 'objects')}[{i}]", errors)
        for i, item in enumerate(argument["objects"])
    ]

    def combine(payload: Any) -> dict[str, Any]:
        found = [p(payload) for p in parts]
        objects = [o for o in found if isinstance(o, dict)]
        out: dict[str, Any] = {}
        # "right": later objects win; "left": earlier objects win.
        for obj in objects if direction == "right" else reversed(objects):
            out.update(obj)
        return out

    return combine


def _transform(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    if not _object_argument(argument, where, errors, {"apply", "mapping"}, set()):
        return _undefined
    first = _compile(argument["apply"], _join(where, "apply"), errors)
    then = _compile(argument["mapping"], _join(where, "mapping"), errors)
    return lambda payload: then(first(payload))


def _exclude_when_null(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    inner = _compile(argument, where, errors)

    def keep(payload: Any) -> Any:
        value = inner(payload)
        return UNDEFINED if value is None else value

    return keep


_BUILDERS: dict[str, Callable[[Any, str, list[MappingError]], Resolver]] = {
    "@path": _path,
    "@template": _template,
    "@literal": _literal,
    "@if": _if,
    "@case": _case,
    "@replace": _replace,
    "@arrayPath": _array_path,
    "@json": _json,
    "@flatten": _flatten,
    "@merge": _merge,
    "@transform": _transform,
    "@excludeWhenNull": _exclude_when_null,
}


# --- public API -----------------------------------------------------------------


def validate(mapping: Any) -> list[MappingError]:
    """Every problem in ``mapping``, each with where it is; empty when valid."""
    errors: list[MappingError] = []
    _compile(mapping, "", errors)
    return errors


def compile(mapping: Any) -> Callable[[Any], Any]:
    """A resolver for ``mapping``, validated once; raises InvalidMapping."""
    errors: list[MappingError] = []
    resolver = _compile(mapping, "", errors)
    if errors:
        raise InvalidMapping(errors)

    def run(payload: Any) -> Any:
        value = resolver(payload)
        return None if value is UNDEFINED else value

    return run


def resolve(mapping: Any, payload: Any) -> Any:
    """Resolve ``mapping`` against ``payload`` (a dict mapping gives a dict)."""
    return compile(mapping)(payload)
