"""The mapping kit: resolve an action's field mapping against an event.

A mapping is JSON: raw values pass through, objects map keys to mappings, and an
object whose single key starts with ``@`` is a directive (Segment's actions use
the same ones): ``@path``, ``@template``, ``@literal``, ``@if``, ``@case``,
``@replace``, ``@arrayPath``, ``@json``, ``@flatten``, ``@merge``,
``@transform``, ``@excludeWhenNull``. A directive may carry a ``_metadata`` key
beside it (the UI's), which is ignored. A path that resolves to nothing drops its
key (null is a value and stays, unless ``@excludeWhenNull`` says otherwise).

Segment's mapping kit (segmentio/action-destinations, packages/core/src/mapping-kit)
is the reference for what each directive does; where it reads values the
JavaScript way (templates, blankness, ``@json``), ``jsvalues`` gives the same
answers. Validation refuses what the reference refuses, when saving rather than on
the first event, and also refuses keys a directive doesn't know (typos).

``compile(mapping)`` validates once and returns a fast resolver;
``resolve(mapping, payload)`` and ``validate(mapping)`` are the one-shot forms. A
resolver raises ``MappingRuntimeError`` where the reference throws on an event
(a ``@path`` or ``@template`` directive that resolves to a non-string).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from connections.rules.jsvalues import (
    js_loosely_blank,
    js_string,
    js_truthy,
    js_type,
    json_stringify,
    utf16_length,
)

__all__ = ["MappingError", "MappingRuntimeError", "compile", "resolve", "validate"]


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


class MappingRuntimeError(ValueError):
    """This event can't be mapped (the reference throws here too)."""


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
METADATA = "_metadata"
# Segment's @replace limits, in JavaScript string length (UTF-16 code units).
MAX_PATTERN_LENGTH = 10
MAX_REPLACEMENT_LENGTH = 10

# Segment's path reader: "." always splits; "[" splits when a digit or a quote
# follows it, "]" when one precedes it (other brackets are part of the key); quotes
# are dropped. Empty steps vanish, so "", "." and "$." are the root.
_PATH_SPLIT = re.compile(r"""\[(?=["'0-9])|\.|(?<=["'0-9])\]+""")
_QUOTES = re.compile(r"""['"]""")
_TRIPLE = re.compile(r"\{\{\{([^}]+)\}\}\}")
_DOUBLE = re.compile(r"\{\{([^}]+)\}\}")
# String.prototype.trim's whitespace.
_JS_SPACE = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_FALSY = 'false, 0, "" and null count as missing, as in Segment'


# --- paths ----------------------------------------------------------------------

Step = tuple[str, int | None]  # the key, and the list index it names if it is one


@lru_cache(maxsize=4096)
def _steps(path: str) -> tuple[Step, ...]:
    """``a.b[0]['c d']`` -> a, b, 0, c d. Every step is a key; one written as a
    canonical array index ("0", "12") also indexes lists, as in JavaScript."""
    steps = []
    for part in _PATH_SPLIT.split(path):
        if not part:
            continue
        key = _QUOTES.sub("", part)
        index = int(key) if key.isdecimal() and key.isascii() and str(int(key)) == key else None
        steps.append((key, index))
    return tuple(steps)


def _lookup(payload: Any, steps: tuple[Step, ...]) -> Any:
    value = payload
    for key, index in steps:
        if isinstance(value, dict):
            value = value.get(key, UNDEFINED)
            if value is UNDEFINED:
                return UNDEFINED
        elif index is not None and isinstance(value, list) and index < len(value):
            value = value[index]
        else:
            return UNDEFINED
    return value


def _event_path(path: str) -> tuple[Step, ...]:
    # @path and @arrayPath drop the first "$." (JSONPath's root), wherever it is.
    return _steps(path.replace("$.", "", 1))


def _getter(steps: tuple[Step, ...]) -> Resolver:
    if not steps:
        return lambda payload: payload
    if len(steps) == 1 and steps[0][1] is None:
        # The common case (Segment's default mappings), kept cheap.
        key = steps[0][0]
        return lambda payload: (
            payload.get(key, UNDEFINED) if isinstance(payload, dict) else UNDEFINED
        )
    return lambda payload: _lookup(payload, steps)


# --- compilation ----------------------------------------------------------------


def _is_directive(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(k, str) and k.startswith("@") for k in value)


def _compile(mapping: Any, where: str, errors: list[MappingError]) -> Resolver:
    if _is_directive(mapping):
        names = [k for k in mapping if isinstance(k, str) and k.startswith("@")]
        others = [k for k in mapping if k not in names and k != METADATA]
        if len(names) != 1 or others:
            errors.append(
                MappingError(
                    where,
                    "a directive object holds exactly one @-prefixed key (and optionally "
                    f"{METADATA}), got {sorted(mapping)}",
                )
            )
            return _undefined
        name = names[0]
        if name not in _BUILDERS:
            errors.append(MappingError(where, f"unknown directive {name!r}"))
            return _undefined
        return _BUILDERS[name](mapping[name], _join(where, name), errors)
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
        known = sorted(required | optional)
        errors.append(MappingError(where, f"unknown key(s) {unknown} (known: {known})"))
    return not missing and not unknown


def _one_of(value: Any, allowed: tuple[str, str], where: str, errors: list[MappingError]) -> bool:
    if value in allowed:
        return True
    errors.append(MappingError(where, f'must be "{allowed[0]}" or "{allowed[1]}"'))
    return False


def _string_or_directive(
    argument: Any, where: str, errors: list[MappingError], what: str
) -> Resolver | str | None:
    """A static string, a compiled directive giving one, or None (an error)."""
    if isinstance(argument, str):
        return argument
    if _is_directive(argument):
        return _compile(argument, where, errors)
    errors.append(MappingError(where, f"{what} or a directive, got {json.dumps(argument)}"))
    return None


def _needs_string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise MappingRuntimeError(f"{name}: expected string, got {js_type(value)}")
    return value


def _undefined(payload: Any) -> Any:
    return UNDEFINED


def _path(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    path = _string_or_directive(argument, where, errors, 'expects a path string like "$.userId"')
    if path is None:
        return _undefined
    if isinstance(path, str):
        return _getter(_event_path(path))
    inner = path

    def dynamic(payload: Any) -> Any:
        # The directive gives the path, then the path is read from the same event.
        return _lookup(payload, _event_path(_needs_string("@path", inner(payload))))

    return dynamic


@lru_cache(maxsize=1024)
def _compiled_template(template: str) -> Resolver:
    """Segment's two passes: ``{{{x}}}`` first, then ``{{x}}`` over the result (so
    a triple placeholder's value is itself read as a template); both put the value's
    ``String()`` in, null and missing as "". Without a triple placeholder the first
    pass changes nothing, and the second is compiled once."""
    if _TRIPLE.search(template) is None:
        return _pieces(template)
    first = _pieces(template, _TRIPLE)
    return lambda payload: _DOUBLE.sub(lambda m: _placeholder(m.group(1), payload), first(payload))


def _placeholder(inner: str, payload: Any) -> str:
    # Template paths are read as written: no "$." is dropped.
    value = _lookup(payload, _steps(inner.strip(_JS_SPACE)))
    return "" if value is UNDEFINED else js_string(value)


def _pieces(template: str, placeholder: re.Pattern[str] = _DOUBLE) -> Resolver:
    pieces: list[str | tuple[Step, ...]] = []
    last = 0
    for found in placeholder.finditer(template):
        pieces.append(template[last : found.start()])
        pieces.append(_steps(found.group(1).strip(_JS_SPACE)))
        last = found.end()
    pieces.append(template[last:])
    if len(pieces) == 1:
        return lambda payload: template

    def render(payload: Any) -> str:
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            value = _lookup(payload, piece)
            if value is not UNDEFINED and value is not None:
                out.append(value if isinstance(value, str) else js_string(value))
        return "".join(out)

    return render


def _template(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    template = _string_or_directive(
        argument, where, errors, 'expects a string like "Hello {{traits.name}}"'
    )
    if template is None:
        return _undefined
    if isinstance(template, str):
        return _compiled_template(template)
    inner = template
    return lambda payload: _compiled_template(_needs_string("@template", inner(payload)))(payload)


def _literal(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    return lambda payload: argument


def _if(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    """Segment's @if: "exists" holds when the value is neither missing nor null;
    "blank" holds when it is also not loosely equal to "" (so "", 0, false and []
    are blank). Either way "then" is taken when the condition holds, "else" when
    it doesn't. With both, "exists" decides. A missing "then", and an "else" that
    is false, 0, "" or null, give nothing (the key is dropped)."""
    if not isinstance(argument, dict):
        what = 'expects an object with "exists" or "blank", and "then" and/or "else"'
        errors.append(MappingError(where, f"{what}, got {json.dumps(argument)}"))
        return _undefined
    if not _object_argument(argument, where, errors, set(), {"exists", "blank", "then", "else"}):
        return _undefined
    if not (js_truthy(argument.get("exists")) or js_truthy(argument.get("blank"))):
        errors.append(MappingError(where, f'needs "exists" or "blank" ({_FALSY})'))
        return _undefined
    test_key = "exists" if "exists" in argument else "blank"
    test = _compile(argument[test_key], _join(where, test_key), errors)
    then = _compile(argument["then"], _join(where, "then"), errors) if "then" in argument else None
    otherwise = argument.get("else")
    other = _compile(otherwise, _join(where, "else"), errors) if js_truthy(otherwise) else None
    blank = test_key == "blank"

    def choose(payload: Any) -> Any:
        value = test(payload)
        holds = value is not UNDEFINED and value is not None
        if holds and blank:
            holds = not js_loosely_blank(value)
        if holds:
            return UNDEFINED if then is None else then(payload)
        return UNDEFINED if other is None else other(payload)

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


def _string_option(
    argument: dict[str, Any],
    key: str,
    where: str,
    errors: list[MappingError],
    shortest: int,
    longest: int,
) -> None:
    text = argument[key]
    if not _need(text, str, _join(where, key), errors, "should be a string"):
        return
    length = utf16_length(text)
    if length < shortest:
        errors.append(MappingError(_join(where, key), f"should be at least {shortest} character"))
    if length > longest:
        errors.append(
            MappingError(
                _join(where, key), f"should be {longest} characters or fewer, not {length}"
            )
        )


def _replace(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    """Segment's @replace: ``pattern`` (1-10 characters) is literal text, not a
    regular expression; ``replacement`` (0-10, default "") may use JavaScript's
    ``$&``, ``$``` ``, ``$'`` and ``$$``; global and case-sensitive unless
    ``global``/``ignorecase`` (booleans) say otherwise; ``pattern2`` and
    ``replacement2`` make a second pass. Numbers and booleans are replaced in their
    text; any other value (null, missing, object) gives ""."""
    optional = {"replacement", "global", "ignorecase", "pattern2", "replacement2"}
    if not _object_argument(argument, where, errors, {"pattern", "value"}, optional):
        return _undefined
    count = len(errors)
    _string_option(argument, "pattern", where, errors, 1, MAX_PATTERN_LENGTH)
    if "replacement" in argument:
        _string_option(argument, "replacement", where, errors, 0, MAX_REPLACEMENT_LENGTH)
    for flag in ("global", "ignorecase"):
        if flag in argument:
            _need(argument[flag], bool, _join(where, flag), errors, "should be true or false")
    # The second pair isn't in Segment's validator; its runtime applies the same
    # limits to it (and skips a pattern2 that is empty or not a string).
    pattern2, replacement2 = argument.get("pattern2"), argument.get("replacement2")
    second = isinstance(pattern2, str) and pattern2 != ""
    if second and utf16_length(pattern2) > MAX_PATTERN_LENGTH:
        _string_option(argument, "pattern2", where, errors, 0, MAX_PATTERN_LENGTH)
    if second and replacement2 is not None:
        if not isinstance(replacement2, str):
            second = False  # the reference skips the second pass then
        elif utf16_length(replacement2) > MAX_REPLACEMENT_LENGTH:
            _string_option(argument, "replacement2", where, errors, 0, MAX_REPLACEMENT_LENGTH)
    value_argument = argument["value"]
    if not isinstance(value_argument, str) and not _is_directive(value_argument):
        what = "should be a string or a directive"
        errors.append(
            MappingError(_join(where, "value"), f"{what}, got {json.dumps(value_argument)}")
        )
    if len(errors) > count:
        return _undefined
    flags = re.IGNORECASE if argument.get("ignorecase") else 0
    limit = 0 if argument.get("global", True) else 1
    rules = [(argument["pattern"], argument.get("replacement") or "")]
    if second:
        rules.append((pattern2, replacement2 or ""))
    compiled = [(re.compile(re.escape(p), flags), r) for p, r in rules]
    if not js_truthy(value_argument):
        return _undefined  # the reference reads no value from "" either
    value = _compile(value_argument, _join(where, "value"), errors)

    def swap(payload: Any) -> Any:
        found = value(payload)
        if isinstance(found, bool | int | float):
            found = js_string(found)
        elif not isinstance(found, str):
            return ""
        for rule, replacement in compiled:
            found = rule.sub(_js_replacement(replacement), found, count=limit)
        return found

    return swap


def _js_replacement(replacement: str) -> Callable[[re.Match[str]], str]:
    """String.prototype.replace's replacement text: ``$$`` is "$", ``$&`` the match,
    ``$``` what precedes it, ``$'`` what follows; anything else (``$1``: the
    pattern has no groups) is literal."""
    if "$" not in replacement:
        return lambda _match: replacement

    def expand(match: re.Match[str]) -> str:
        out, i, n = [], 0, len(replacement)
        while i < n:
            c = replacement[i]
            nxt = replacement[i + 1] if i + 1 < n else ""
            if c == "$" and nxt in ("$", "&", "`", "'"):
                text = match.string
                out.append(
                    {
                        "$": "$",
                        "&": match.group(),
                        "`": text[: match.start()],
                        "'": text[match.end() :],
                    }[nxt]
                )
                i += 2
            else:
                out.append(c)
                i += 1
        return "".join(out)

    return expand


def _array_path(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    """Segment's @arrayPath: ``[path or directive, item mapping]``. With an item
    mapping that is a non-empty object (plain or a directive), an array is mapped
    item by item and a single object as a one-item array, paths relative to the
    item; anything else, and everything when there is no item mapping, is returned
    as found."""
    if not isinstance(argument, list) or not argument:
        errors.append(
            MappingError(
                where, f'expects ["$.path.to.array", {{item mapping}}], got {json.dumps(argument)}'
            )
        )
        return _undefined
    first = _string_or_directive(argument[0], f"{where}[0]", errors, "expects a path string")
    if first is None:
        return _undefined
    source = _getter(_event_path(first)) if isinstance(first, str) else first
    shape = argument[1] if len(argument) > 1 else None
    item = _compile(shape, f"{where}[1]", errors) if len(argument) > 1 else None
    if item is None or not isinstance(shape, dict) or not shape:
        return source
    each_item = item

    def each(payload: Any) -> Any:
        found = source(payload)
        if isinstance(found, dict):
            found = [found]
        elif not isinstance(found, list):
            return found
        # An item the mapping gives nothing for is null, as JSON writes undefined.
        return [None if v is UNDEFINED else v for v in map(each_item, found)]

    return each


def _json(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    if not _object_argument(argument, where, errors, {"mode", "value"}, set()):
        return _undefined
    mode = argument["mode"]
    if not _one_of(mode, ("encode", "decode"), _join(where, "mode"), errors):
        return _undefined
    if not js_truthy(argument["value"]):
        errors.append(MappingError(_join(where, "value"), f"is required ({_FALSY})"))
        return _undefined
    value = _compile(argument["value"], _join(where, "value"), errors)

    def convert(payload: Any) -> Any:
        found = value(payload)
        if found is UNDEFINED:
            return found
        if mode == "encode":
            return json_stringify(found)  # compact, as JSON.stringify writes it
        if not isinstance(found, str):
            return found
        try:
            return json.loads(found, parse_constant=_not_json)
        except (ValueError, RecursionError):
            return found  # not JSON: the value as it came

    return convert


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")  # JSON.parse refuses NaN and Infinity


def _flatten(argument: Any, where: str, errors: list[MappingError]) -> Resolver:
    """Segment's @flatten: objects and arrays become one object whose keys join
    the keys (array indexes too) with ``separator`` (default "."); ``omitArrays``
    (by truthiness) keeps arrays whole. Empty objects and arrays vanish; a value
    that is neither comes out under the key ""."""
    if not _object_argument(argument, where, errors, {"value"}, {"separator", "omitArrays"}):
        return _undefined
    separator = argument.get("separator", ".")
    if not _need(separator, str, _join(where, "separator"), errors, "should be a string"):
        return _undefined
    omit_arrays = js_truthy(argument.get("omitArrays"))
    value = _compile(argument["value"], _join(where, "value"), errors)

    def flat(payload: Any) -> Any:
        out: dict[str, Any] = {}
        _flatten_into(out, value(payload), "", separator, omit_arrays)
        return out

    return flat


def _flatten_into(out: dict[str, Any], node: Any, prefix: str, sep: str, omit: bool) -> None:
    if isinstance(node, dict):
        children: Any = node.items()
    elif isinstance(node, list) and not omit:
        children = enumerate(node)
    else:
        if node is not UNDEFINED:
            out[prefix] = node
        return
    for key, child in children:
        _flatten_into(out, child, f"{prefix}{sep}{key}" if prefix else str(key), sep, omit)


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
    """Null gives nothing (the key is dropped); an object loses its null values, in
    nested objects too (arrays are left as they are, as in Segment)."""
    inner = _compile(argument, where, errors)

    def keep(payload: Any) -> Any:
        value = inner(payload)
        if value is None:
            return UNDEFINED
        return _without_nulls(value) if isinstance(value, dict) else value

    return keep


def _without_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        key: _without_nulls(value) if isinstance(value, dict) else value
        for key, value in obj.items()
        if value is not None
    }


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
